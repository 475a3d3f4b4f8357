"""Patient ↔ gene phenotype similarity, for every annotated gene at once.

Resnik similarity of two terms is the information content (IC) of their most informative common
ancestor (MICA). For a patient term ``p`` and a gene ``g`` annotated with terms ``G``,
``max_{t in G} resnik(p, t)`` is the largest IC among the terms that are both ancestors of ``p``
and in the *propagated* annotation set of ``g`` (every ancestor of every term of ``G``). So one
patient is scored against all genes by gathering, for the patient's ancestor terms, the genes
carrying them (the term → gene CSR matrix), filling a dense genes × ancestors IC matrix and
taking segment maxima — no loop over genes.

Best-match average (BMA), two directions:

- ``"symmetric"`` (default): the mean of the patient → gene and gene → patient averages (the
  classic BMA of Schlicker et al.).
- ``"patient"``: ``mean over patient terms p of max_t resnik(p, t)`` only (the Phenomizer's
  query → disease direction): gene terms the patient lacks do not lower the score.

The symmetric form is the default because it ranked causal genes better on 600 solved
phenopacket-store cases (3 seeds × 200, ``benchmarks/phenotype_rank.py``): the causal gene was in
the top 1% of 5,129 annotated genes in 68–70% of cases against 64–67% for the patient direction
(median rank 6–10 against 8–14). Genes annotated from many diseases carry hundreds of terms;
scored one way only they match almost any patient somewhere, and tie at the top.

Excluded terms (a phenopacket's ``excluded: true`` features) can lower the score of genes
annotated with the excluded term or one of its descendants: each such term subtracts
``excluded_weight × IC(term)`` from the patient → gene sum. The default weight is 0 (off): in
published cases excluded features are mostly features of the very syndrome that were looked for
and found absent, so the causal gene usually carries them; a weight of 0.1 dropped the top-1%
recall above from 70% to 54%. Excluded terms that are ancestors of a present term contradict the
patient's own description and are always ignored.

Scores reported per gene:

- ``score``: the BMA in nats (can be negative when excluded terms weigh more than the matches).
- ``score_norm``: in [0, 1], the patient → gene sum divided by the best achievable sum (every
  patient term matched at its most informative annotated ancestor), and for ``"symmetric"`` the
  gene → patient sum divided by the gene terms' own IC, averaged; clipped to [0, 1].
- ``rank``: 1 + number of annotated genes with a strictly higher score.
- ``rank_fraction``: fraction of annotated genes scoring at least as high — a rank-based,
  p-value-like number in (0, 1] that means the same for a patient with 2 terms or 40 terms;
  ``rank_fraction <= 0.01`` reads "in the top 1% of genes for this patient".
"""

from __future__ import annotations

from typing import Iterable, Literal

import numpy as np
import pandas as pd

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import csr_gather, sorted_unique

Direction = Literal["patient", "symmetric"]

#: Default weight of an excluded term's IC, relative to a matched present term (module docstring).
DEFAULT_EXCLUDED_WEIGHT = 0.0
#: Default best-match-average direction (module docstring).
DEFAULT_DIRECTION: Direction = "symmetric"

RESULT_COLUMNS = ["gene", "gene_id", "annotated", "score", "score_norm", "rank", "rank_fraction",
                  "n_matched", "matched_terms", "contradicted_terms"]


def resnik(annotations: Annotations, term_a: str | int, term_b: str | int) -> float:
    """Resnik similarity of two HPO terms: the IC (in ``annotations``) of their most informative
    common ancestor. Raises ValueError for an id the ontology does not know."""
    onto = annotations.ontology
    resolved = onto.resolve([term_a, term_b])
    if resolved.unknown:
        raise ValueError(f"unknown HPO id(s): {', '.join(resolved.unknown)}")
    common = np.intersect1d(onto.ancestors(resolved.index[:1]), onto.ancestors(resolved.index[1:]))
    return float(annotations.ic[common].max())


class PhenotypeScorer:
    """Scores one patient's HPO terms against every entity of an :class:`Annotations` matrix.

    Args:
        annotations: gene (or disease) annotations; their IC is used.
        direction: ``"symmetric"`` or ``"patient"`` best-match average (module docstring).
        excluded_weight: weight of an excluded term's IC in the penalty (0 disables it).
    """

    def __init__(self, annotations: Annotations, *, direction: Direction = DEFAULT_DIRECTION,
                 excluded_weight: float = DEFAULT_EXCLUDED_WEIGHT):
        if direction not in ("patient", "symmetric"):
            raise ValueError(f"direction must be 'patient' or 'symmetric', not {direction!r}")
        self.annotations = annotations
        self.ontology = annotations.ontology
        self.direction = direction
        self.excluded_weight = float(excluded_weight)
        ann = annotations
        n_direct = np.diff(ann.direct_indptr)
        self._direct_owner = np.repeat(np.arange(ann.n_entities), n_direct)
        self._direct_terms, self._direct_pos = np.unique(ann.direct_indices, return_inverse=True)
        pos, self._direct_anc = csr_gather(self.ontology.ancestor_indptr, self.ontology.ancestor_indices,
                                           self._direct_terms)
        self._direct_starts = _segment_starts(pos, self._direct_terms.size)
        self._gene_self = np.bincount(self._direct_owner, weights=ann.ic[ann.direct_indices],
                                      minlength=ann.n_entities)
        self._n_direct = np.maximum(n_direct, 1)

    def score(self, present: Iterable[str | int], excluded: Iterable[str | int] = (),
              genes: Iterable[str] | None = None) -> pd.DataFrame:
        """Score a patient against all annotated genes.

        Args:
            present: the patient's observed HPO ids (``"HP:0001363"``); alternative and obsolete
                ids are mapped to current terms.
            excluded: HPO ids explicitly absent in the patient.
            genes: gene symbols (or ``NCBIGene:`` ids) to report, in this order; ``None`` reports
                every annotated gene, best first. Unannotated genes get score 0 and
                ``annotated = False``.

        Returns:
            DataFrame with columns :data:`RESULT_COLUMNS`; ``matched_terms`` lists (comma
            separated) the patient terms the gene is annotated with, directly or through a more
            specific term; ``contradicted_terms`` the excluded terms it is annotated with.
            ``result.attrs["unknown_terms"]`` holds the input ids that could not be resolved.
        """
        present = list(present)
        excluded = list(excluded)
        resolved = self.ontology.resolve(present + excluded)
        p_index = sorted_unique(resolved.index[: len(present)][resolved.index[: len(present)] >= 0])
        e_index = resolved.index[len(present):]
        e_index = sorted_unique(e_index[e_index >= 0])
        if p_index.size:
            e_index = e_index[~np.isin(e_index, self.ontology.ancestors(p_index))]
        raw, norm, matched, contradicted = self._score_arrays(p_index, e_index)
        table = self._table(raw, norm, matched, contradicted, p_index, e_index, genes)
        table.attrs["unknown_terms"] = resolved.unknown
        return table

    # -- arrays ---------------------------------------------------------------------------------

    def _score_arrays(self, p_index: np.ndarray, e_index: np.ndarray):
        """float64 ``(n_entities,)`` raw and normalised scores; bool ``(n_entities, k)`` exact
        matches of the ``k`` present terms and ``(n_entities, m)`` of the ``m`` excluded terms."""
        ann, onto = self.annotations, self.ontology
        n = ann.n_entities
        matched = self._carriers(p_index)
        contradicted = self._carriers(e_index)
        if not p_index.size:
            return np.zeros(n), np.zeros(n), matched, contradicted
        pos, anc = csr_gather(onto.ancestor_indptr, onto.ancestor_indices, p_index)
        starts = _segment_starts(pos, p_index.size)
        union = sorted_unique(anc)
        upos, gene = csr_gather(ann.term_indptr, ann.term_indices, union)
        ic_by_union = np.zeros((n, union.size))
        ic_by_union[gene, upos] = ann.ic[union[upos]]
        # best[g, j] = IC of the MICA of patient term j and gene g's annotation.
        best = np.maximum.reduceat(ic_by_union[:, np.searchsorted(union, anc)], starts, axis=1)
        best_possible = np.maximum.reduceat(ann.ic[anc], starts).sum()
        penalty = self.excluded_weight * (contradicted * ann.ic[e_index]).sum(axis=1)
        patient_sum = best.sum(axis=1) - penalty
        raw = patient_sum / p_index.size
        norm = patient_sum / best_possible if best_possible > 0 else np.zeros(n)
        if self.direction == "symmetric":
            in_union = np.zeros(onto.n_terms, dtype=bool)
            in_union[union] = True
            reach = np.where(in_union[self._direct_anc], ann.ic[self._direct_anc], 0.0)
            best_per_term = np.maximum.reduceat(reach, self._direct_starts)
            gene_sum = np.bincount(self._direct_owner, weights=best_per_term[self._direct_pos], minlength=n)
            raw = 0.5 * (raw + gene_sum / self._n_direct)
            gene_norm = np.divide(gene_sum, self._gene_self, out=np.zeros(n), where=self._gene_self > 0)
            norm = 0.5 * (norm + gene_norm)
        return raw, np.clip(norm, 0.0, 1.0), matched, contradicted

    def _carriers(self, terms: np.ndarray) -> np.ndarray:
        """bool ``(n_entities, len(terms))``: entity annotated with the term or a descendant."""
        out = np.zeros((self.annotations.n_entities, terms.size), dtype=bool)
        col, entity = csr_gather(self.annotations.term_indptr, self.annotations.term_indices, terms)
        out[entity, col] = True
        return out

    # -- table ----------------------------------------------------------------------------------

    def _table(self, raw, norm, matched, contradicted, p_index, e_index, genes) -> pd.DataFrame:
        ann = self.annotations
        ranked = np.sort(raw)
        if genes is None:
            rows = np.argsort(-raw, kind="stable")
            names, ids = ann.names[rows], ann.entity_ids[rows]
        else:
            names = np.asarray(list(genes), dtype=object)
            rows = ann.lookup(names)
            ids = np.where(rows >= 0, ann.entity_ids[np.maximum(rows, 0)], None)
        annotated = rows >= 0
        safe = np.maximum(rows, 0)
        score = np.where(annotated, raw[safe], 0.0)
        n = max(ann.n_entities, 1)
        at_least = ann.n_entities - np.searchsorted(ranked, score, side="left")
        above = ann.n_entities - np.searchsorted(ranked, score, side="right")
        return pd.DataFrame({
            "gene": names,
            "gene_id": ids,
            "annotated": annotated,
            "score": score,
            "score_norm": np.where(annotated, norm[safe], 0.0),
            "rank": above + 1,
            "rank_fraction": np.maximum(at_least, 1) / n,
            "n_matched": np.where(annotated, matched[safe].sum(axis=1), 0),
            "matched_terms": self._term_lists(matched[safe] & annotated[:, None], p_index),
            "contradicted_terms": self._term_lists(contradicted[safe] & annotated[:, None], e_index),
        })

    def _term_lists(self, mask: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """object ``(rows,)`` comma-joined HPO ids of the ``True`` columns of ``mask``."""
        out = np.full(mask.shape[0], "", dtype=object)
        rows, cols = np.nonzero(mask)
        if rows.size:
            names = np.asarray(self.ontology.curies(terms), dtype=object)
            first = np.ones(rows.size, dtype=bool)
            first[1:] = rows[1:] != rows[:-1]
            pieces = np.where(first, names[cols], "," + names[cols])
            # object-dtype add concatenates the strings of each row segment
            out[rows[first]] = np.add.reduceat(pieces, np.flatnonzero(first))
        return out


def _segment_starts(pos: np.ndarray, n_segments: int) -> np.ndarray:
    """Start offset of each of ``n_segments`` consecutive, non-empty segments labelled by ``pos``
    (int ``(m,)``, ascending)."""
    return np.searchsorted(pos, np.arange(n_segments))
