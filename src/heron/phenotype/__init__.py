"""Phenotype stage: the HPO as arrays, gene/disease annotations, patient↔gene similarity and
HPO-driven panel selection.

- :mod:`heron.phenotype.ontology` — ``hp.obo`` parsed into int32 arrays with an ancestor closure.
- :mod:`heron.phenotype.annotations` — entity × term sparse matrices and information content.
- :mod:`heron.phenotype.similarity` — Resnik / best-match-average scores for all genes at once.
- :mod:`heron.phenotype.panels` — which panels apply to which patient, by HPO term.
"""
