"""Genes for the simulated cohort: real symbols, HGNC and Ensembl ids, GRCh38 spans and MOI.

The source is the raw PanelApp API panel JSONs in the shared data folder
(``panelapp/api_v1_panels/panel_<id>.json.gz``: every gene there carries its GRCh38 location,
Ensembl id, HGNC id and mode of inheritance). When that folder is absent the table is made up
(symbols ``PERF0001``..., ids shaped like Ensembl's), so the harness still runs anywhere.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

# columns of the gene table
COLUMNS = ("symbol", "hgnc_id", "gene_id", "chrom", "start", "end", "moi")
_AUTOSOMAL_DOMINANT = "MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown"


def panelapp_genes(folder: Path) -> pd.DataFrame:
    """Distinct genes of every ``panel_*.json.gz`` in ``folder`` with a GRCh38 location.

    Returns a DataFrame with COLUMNS: symbol, hgnc_id, gene_id (ENSG), chrom (``chr``-prefixed,
    ``chrM`` for MT), start/end (int64, 1-based inclusive), moi (PanelApp text); one row per
    symbol, sorted by symbol.
    """
    rows = []
    for path in sorted(Path(folder).glob("panel_*.json.gz")):
        with gzip.open(path, "rt") as handle:
            panel = json.load(handle)
        for gene in panel.get("genes", []):
            data = gene.get("gene_data") or {}
            grch38 = (data.get("ensembl_genes") or {}).get("GRch38") or {}
            for release in grch38.values():
                location, ensembl = release.get("location", ""), release.get("ensembl_id", "")
                if ":" not in location or not ensembl:
                    continue
                contig, span = location.split(":", 1)
                start, end = span.split("-")
                rows.append((data.get("gene_symbol") or gene.get("entity_name"),
                             data.get("hgnc_id") or "", ensembl,
                             "chrM" if contig in ("MT", "M") else f"chr{contig}",
                             int(start), int(end), gene.get("mode_of_inheritance") or ""))
                break
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.drop_duplicates("symbol").sort_values("symbol", ignore_index=True)


def synthetic_genes(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """``n`` made-up genes spread over the autosomes and X (same columns as panelapp_genes)."""
    rng = np.random.default_rng(seed)
    chrom = rng.choice([f"chr{c}" for c in [*range(1, 23), "X"]], n)
    start = rng.integers(1_000_000, 40_000_000, n)
    span = rng.integers(5_000, 150_000, n)
    ids = np.arange(1, n + 1)
    return pd.DataFrame({
        "symbol": [f"PERF{i:04d}" for i in ids], "hgnc_id": [f"HGNC:{90000 + i}" for i in ids],
        "gene_id": [f"ENSG{900000000 + i:011d}" for i in ids], "chrom": chrom,
        "start": start, "end": start + span, "moi": _AUTOSOMAL_DOMINANT})


def gene_table(folder: Path | None) -> pd.DataFrame:
    """Real genes from ``folder`` when it holds PanelApp panel JSONs, else synthetic ones."""
    if folder is not None and Path(folder).is_dir():
        table = panelapp_genes(Path(folder))
        if len(table):
            return table
    log.warning("no PanelApp panel JSONs in %s: using made-up gene names", folder)
    return synthetic_genes()
