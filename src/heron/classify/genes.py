"""The genes each patient is analysed in, with their mode of inheritance (rulebook §1).

Every patient gets the base panel, the forced panels, the panels matched by their HPO terms
and the custom gene lists. The union over patients decides which rows the core builds; the
per-patient membership decides which of a patient's calls may become candidates.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heron.keys import sorted_join
from heron.lazy import pandas as pd

# Simplified MOI codes, ordered from least to most lenient for combining panels.
MOI_NAMES = ("Mitochondrial", "Biallelic", "HemiBiInFemale", "HemiMonoInFemale", "Monoallelic",
             "MonoAndBiallelic")
MOI = {name: i for i, name in enumerate(MOI_NAMES)}


@dataclass
class GeneSet:
    """Genes (n_genes,) and which patients are analysed in which.

    symbol, gene_id: str arrays (gene_id an Ensembl gene id or ""); moi_auto / moi_x int8 codes
    of :data:`MOI_NAMES` (how the gene's MOI reads on an autosome and on chrX); new bool (green
    within ``new_gene_months``); member: (n_patients, n_genes) bool over ``patients``;
    panels: per gene the names of the panels it came from (for the report).
    """

    symbol: np.ndarray
    gene_id: np.ndarray
    moi_auto: np.ndarray
    moi_x: np.ndarray
    new: np.ndarray
    new_since: np.ndarray
    panels: list[list[str]]
    patients: list[str]
    member: np.ndarray

    def index_of(self, gene_id: np.ndarray, symbol: np.ndarray) -> np.ndarray:
        """(n,) int32 gene index of each (Ensembl id, symbol) pair, -1 when not in the set.

        The Ensembl id decides when both sides have one; the symbol otherwise.
        """
        out = np.full(len(symbol), -1, np.int32)
        for keys, query in ((self.gene_id, gene_id), (self.symbol, symbol)):
            named = np.flatnonzero(keys != "")
            distinct, first = np.unique(keys[named], return_index=True)
            at = sorted_join(np.asarray(query, dtype=str), distinct)
            hit = (out < 0) & (at >= 0)
            out[hit] = named[first[at[hit]]]
        return out

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({
            "symbol": self.symbol.tolist(), "gene_id": self.gene_id.tolist(),
            "moi_auto": self.moi_auto.tolist(), "moi_x": self.moi_x.tolist(),
            "new": self.new.tolist(), "new_since": self.new_since.tolist(),
            "panels": self.panels, "patients": self.patients,
            # a bit per patient × gene: 10,000 patients × 5,000 genes stay a few MB that every
            # shard job decodes in milliseconds
            "member_bits": base64.b64encode(np.packbits(self.member, axis=1).tobytes()).decode()}))

    @classmethod
    def from_json(cls, path: str | Path) -> "GeneSet":
        data = json.loads(Path(path).read_text())
        shape = (len(data["patients"]), len(data["symbol"]))
        packed = np.frombuffer(base64.b64decode(data["member_bits"]), np.uint8)
        member = np.unpackbits(packed.reshape(shape[0], -1), axis=1,
                               count=shape[1]).astype(bool) if shape[0] else np.zeros(shape, bool)
        return cls(np.array(data["symbol"], dtype=str), np.array(data["gene_id"], dtype=str),
                   np.array(data["moi_auto"], np.int8), np.array(data["moi_x"], np.int8),
                   np.array(data["new"], bool), np.array(data["new_since"], dtype=str),
                   data["panels"], data["patients"], member)


def build_gene_set(genes: pd.DataFrame, panel_names: dict, patient_panels: dict[str, set],
                   *, base_panel: int | None, forced_panels: list[int],
                   custom_panels: list, forbidden: list[str], require_match: list[str],
                   new_gene_months: int, run_date: dt.date, simplify) -> GeneSet:
    """Assemble the gene set.

    genes: DataFrame [panel_id, symbol, gene_id, moi_raw, green_date] of green genes over all
    panels (custom gene lists included under their own panel ids); patient_panels: patient →
    ids of the panels their HPO terms matched; custom_panels: panel ids of the custom lists;
    simplify(moi_raw, on_x) → simplified MOI names (heron.resources.moi.simplify_moi).
    """
    always = set(forced_panels) | set(custom_panels)
    if base_panel is not None:
        always.add(base_panel)
    forbidden_set = set(forbidden)
    genes = genes[~(genes["symbol"].isin(forbidden_set) | genes["gene_id"].isin(forbidden_set))]
    genes = genes.assign(gene_key=np.where(genes["gene_id"] != "", genes["gene_id"],
                                           genes["symbol"]))
    used = always.union(*patient_panels.values()) if patient_panels else set(always)
    genes = genes[genes["panel_id"].isin(used)].copy()
    genes["moi_auto"] = pd.Series(simplify(genes["moi_raw"].to_numpy(str),
                                           np.zeros(len(genes), bool)), index=genes.index).map(MOI)
    genes["moi_x"] = pd.Series(simplify(genes["moi_raw"].to_numpy(str),
                                        np.ones(len(genes), bool)), index=genes.index).map(MOI)
    cutoff = pd.Timestamp(run_date) - pd.DateOffset(months=new_gene_months)
    green = pd.to_datetime(genes["green_date"], errors="coerce")
    genes["new"] = green >= cutoff
    genes["new_since"] = green.dt.strftime("%Y-%m-%d").where(genes["new"], "")
    genes["panel"] = genes["panel_id"].map(lambda p: panel_names.get(p, str(p)))
    grouped = genes.groupby("gene_key", sort=True)

    def largest(column: str) -> pd.Series:
        # the last of each gene's sorted values: a max over text runs in Python per gene
        return genes.sort_values(["gene_key", column], kind="stable").groupby(
            "gene_key", sort=True)[column].last()

    panels = genes[["gene_key", "panel"]].drop_duplicates().sort_values(["gene_key", "panel"])
    table = pd.DataFrame({
        "symbol": grouped["symbol"].first(), "gene_id": largest("gene_id"),
        "moi_auto": grouped["moi_auto"].max(), "moi_x": grouped["moi_x"].max(),
        "new": grouped["new"].any(), "new_since": largest("new_since"),
        "panels": panels.groupby("gene_key", sort=True)["panel"].agg(list)})
    # panel × gene incidence; patients' genes are then one boolean matrix product
    panel_ids = sorted(used)
    panel_row = {p: i for i, p in enumerate(panel_ids)}
    incidence = np.zeros((len(panel_ids), len(table)), bool)
    gene_col = table.index.get_indexer(genes["gene_key"])
    incidence[genes["panel_id"].map(panel_row).to_numpy(), gene_col] = True
    patients = sorted(patient_panels)
    matched = np.zeros((len(patients), len(panel_ids)), bool)
    for i, patient in enumerate(patients):
        for p in patient_panels[patient] | set(forced_panels):
            if p in panel_row:
                matched[i, panel_row[p]] = True
    always_row = np.zeros(len(panel_ids), bool)
    always_row[[panel_row[p] for p in always if p in panel_row]] = True
    on_matched = (matched.astype(np.int32) @ incidence.astype(np.int32)) > 0
    on_always = (always_row.astype(np.int32) @ incidence.astype(np.int32)) > 0
    needs_match = (table["symbol"].isin(require_match) | table["gene_id"].isin(require_match)
                   ).to_numpy()
    member = on_matched | (on_always & ~needs_match)[None, :]
    return GeneSet(table["symbol"].to_numpy(str), table["gene_id"].to_numpy(str),
                   table["moi_auto"].to_numpy(np.int8), table["moi_x"].to_numpy(np.int8),
                   table["new"].to_numpy(bool), table["new_since"].to_numpy(str),
                   table["panels"].tolist(), patients, member)
