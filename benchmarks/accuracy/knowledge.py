"""What the pipeline is given: a leave-publication-out ClinVar and PanelApp snapshots.

ClinVar is built from the case file itself. A published variant is in ClinVar when some
publication reports it that is not the publication of a cohort patient carrying it — with two
or more reporting publications that always holds; with one, only if no cohort patient comes
from that publication. So a patient's own variant is known only through other papers. Stars:
1 (single submitter), 2 (multiple submitters) from ``two_star_publications`` papers on; the
low-penetrance variants planted in the background are 0-star. The older snapshot counts only
publications before the cut year (years estimated from PubMed ids, see ``cases.pmid_year``).

PanelApp comes from the real Genomics England data in ../shared/data/panelapp: the combined
TSV (447 panels, snapshot 2025-06: panel id, MOI, gene, confidence, panel name, disease group;
no HPO terms, no dates, no HGNC/Ensembl ids), the API panel list (versions and relevant
disorders of 439 panels) and six full API panels (2026 versions, with HGNC and Ensembl ids).
For those six panels the API version is used; a gene green there but not green in the TSV
turned green between the two snapshots and gets the API version date as its green_date (the
only green dates available — every other green_date is unknown, null). The older snapshot drops
genes whose green_date is on or after the cut date.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from heron.errors import InputError

from .protocol import Protocol

MOI_TEXT = {
    "AD": "MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown",
    "AR": "BIALLELIC, autosomal or pseudoautosomal",
    "AD/AR": "BOTH monoallelic and biallelic, autosomal or pseudoautosomal",
    "XL": "X-LINKED: hemizygous mutation in males, biallelic mutations in females",
    "MT": "MITOCHONDRIAL",
    "NA": "Unknown",
}
# Most lenient first when one gene has different MOIs on several panels; a gene monoallelic on
# one panel and biallelic on another is both (AD/AR), as heron combines panels
# (heron.resources.moi.combine_gene_moi).
MOI_LENIENCY = ("AD/AR", "AD", "XL", "AR", "MT", "NA")
REVSTAT = {0: "no_assertion_criteria_provided", 1: "criteria_provided,_single_submitter",
           2: "criteria_provided,_multiple_submitters,_no_conflicts"}
HPO_ID = re.compile(r"HP:\d{7}")


def clinvar_records(real: pd.DataFrame, cohort_pubs: pd.DataFrame, zero_star: np.ndarray,
                    rng: np.random.Generator, protocol: Protocol, cut_year: int | None = None) -> pd.DataFrame:
    """Which published variants ClinVar holds, and how.

    real: the real-variant table (columns publications, pub_years: tuples). cohort_pubs:
    DataFrame (real, publication) — publication of each cohort case carrying that real
    variant as causal. zero_star: (z,) int64 real rows planted as 0-star background.
    cut_year: count only publications before this year.
    Returns a DataFrame indexed by real row with columns stars (int), clnsig, clnrevstat (str).
    """
    pubs = real[["publications", "pub_years"]].explode(["publications", "pub_years"])
    pubs = pubs.dropna()
    if cut_year is not None:
        pubs = pubs[pubs["pub_years"].astype(int) < cut_year]
    known = pubs.groupby(level=0)["publications"].agg(["size", "first"])
    single = known[known["size"] == 1]
    own = pd.MultiIndex.from_frame(cohort_pubs[["real", "publication"]])
    single_is_own = pd.MultiIndex.from_arrays([single.index, single["first"]]).isin(own)
    keep = known[(known["size"] >= 2)].index.union(single.index[~single_is_own])
    stars = pd.Series(np.where(known.loc[keep, "size"] >= protocol.two_star_publications, 2, 1), index=keep)
    zero = pd.Index(zero_star).intersection(known.index)
    stars = stars.drop(zero, errors="ignore")
    out = pd.DataFrame({"stars": stars})
    out["clnsig"] = np.where(known.loc[out.index, "size"] >= 2, "Pathogenic", "Likely_pathogenic")
    zero_df = pd.DataFrame({"stars": 0, "clnsig": np.where(rng.random(len(zero)) < 0.5, "Pathogenic",
                                                           "Likely_pathogenic")}, index=zero)
    out = pd.concat([out, zero_df]).sort_index()
    out["clnrevstat"] = out["stars"].map(REVSTAT)
    out.index.name = "real"
    return out


def _read_json_gz(path: Path):
    with gzip.open(path, "rt") as handle:
        return json.load(handle)


def _api_genes(panel: dict, tsv_green: set[str]) -> list[dict]:
    date = str(panel.get("version_created", ""))[:10] or None
    genes = []
    for g in panel.get("genes", []):
        data = g.get("gene_data") or {}
        ens = data.get("ensembl_genes") or {}

        def ens_id(build: str):
            for release in (ens.get(build) or {}).values():
                return release.get("ensembl_id")
            return None

        confidence = int(g.get("confidence_level") or 0)
        symbol = data.get("gene_symbol") or g.get("entity_name")
        genes.append({"symbol": symbol, "hgnc_id": data.get("hgnc_id"),
                      "ensembl_id_grch37": ens_id("GRch37"), "ensembl_id_grch38": ens_id("GRch38"),
                      "moi": g.get("mode_of_inheritance") or MOI_TEXT["NA"], "confidence": confidence,
                      "green_date": date if confidence == 3 and symbol not in tsv_green else None})
    return genes


def _moi_code(text: str) -> str:
    first = text.upper()
    for code, prefix in (("AD/AR", "BOTH"), ("AD", "MONOALLELIC"), ("AR", "BIALLELIC"), ("XL", "X-LINKED"),
                         ("MT", "MITOCHONDRIAL")):
        if first.startswith(prefix):
            return code
    return "NA"


def load_panelapp(panel_dir: str | Path) -> dict:
    """The full PanelApp snapshot (format of formats.md), with a union panel id 0 of all green genes."""
    panel_dir = Path(panel_dir)
    tsv_path = panel_dir / "PanelAppData_combined_core.tsv.gz"
    if not tsv_path.exists():
        raise InputError("PanelApp table not found", path=str(tsv_path),
                         hint="point --data at the shared data folder (it holds panelapp/)")
    tsv = pd.read_csv(tsv_path, sep="\t", dtype=str).fillna("")
    tsv = tsv[tsv["status"].isin(["public", ""])]
    listing = {}
    for page in sorted(panel_dir.glob("api_v1_panels/panels_page_*.json.gz")):
        for p in _read_json_gz(page).get("results", []):
            listing[int(p["id"])] = p
    api = {int(f.stem.split("_")[1].split(".")[0]): _read_json_gz(f)
           for f in sorted(panel_dir.glob("api_v1_panels/panel_*.json.gz"))}
    panels = []
    for pid, rows in tsv.groupby(tsv["id"].astype(int), sort=True):
        meta = api.get(pid) or listing.get(pid) or {}
        tsv_green = set(rows.loc[rows["confidence_level"] == "3", "Gene"])
        if pid in api:
            genes = _api_genes(api[pid], tsv_green)
        else:
            genes = [{"symbol": r.Gene, "hgnc_id": None, "ensembl_id_grch37": None, "ensembl_id_grch38": None,
                      "moi": MOI_TEXT.get(r.mode_of_inheritance, MOI_TEXT["NA"]),
                      "confidence": int(r.confidence_level or 0), "green_date": None}
                     for r in rows.itertuples()]
        disorders = [str(d) for d in meta.get("relevant_disorders", [])]
        panels.append({"id": pid, "name": meta.get("name") or rows["name"].iloc[0],
                       "version": str(meta.get("version", "")), "disease_group": rows["disease_group"].iloc[0],
                       "hpo_terms": sorted(set(HPO_ID.findall(" ".join(disorders)))),
                       "relevant_disorders": disorders, "genes": genes})
    dates = [str(p.get("version_created", ""))[:10] for p in list(listing.values()) + list(api.values())]
    snapshot = {"source": "panelapp", "base_url": "https://panelapp.genomicsengland.co.uk/api/v1/",
                "retrieved": max([d for d in dates if d] or ["2025-06-01"]),
                "panels": [_union_panel(panels)] + panels}
    return snapshot


def _union_panel(panels: list[dict]) -> dict:
    green = pd.DataFrame([{**g, "panel": p["id"]} for p in panels for g in p["genes"] if g["confidence"] == 3])
    green["code"] = green["moi"].map(_moi_code)
    green["rank"] = green["code"].map({c: i for i, c in enumerate(MOI_LENIENCY)})
    # Unknown green date on any panel means the gene was green before the dated snapshots.
    undated = set(green.loc[green["green_date"].isna(), "symbol"])
    first_date = green.dropna(subset=["green_date"]).groupby("symbol")["green_date"].min().to_dict()
    best = green.sort_values(["symbol", "rank"]).drop_duplicates("symbol").set_index("symbol")
    mono = green["code"].eq("AD").groupby(green["symbol"]).any()
    both = mono & green["code"].eq("AR").groupby(green["symbol"]).any()
    best.loc[both[both].index, "code"] = "AD/AR"
    ids = (green.dropna(subset=["hgnc_id"]).drop_duplicates("symbol").set_index("symbol")
           [["hgnc_id", "ensembl_id_grch37", "ensembl_id_grch38"]].astype(object))
    ids = ids.where(ids.notna(), None).to_dict("index")
    none = {"hgnc_id": None, "ensembl_id_grch37": None, "ensembl_id_grch38": None}
    genes = [{"symbol": s, **ids.get(s, none), "moi": MOI_TEXT[best.loc[s, "code"]], "confidence": 3,
              "green_date": None if s in undated else first_date.get(s)} for s in best.index]
    return {"id": 0, "name": "All green genes", "version": "1.0", "disease_group": "",
            "hpo_terms": [], "relevant_disorders": [], "genes": genes}


def older_panelapp(snapshot: dict, cut_year: int) -> dict:
    """The snapshot as it was before ``cut_year``: genes that turned green since are left out."""
    cut = f"{cut_year}-01-01"
    panels = [{**p, "genes": [g for g in p["genes"] if not (g["green_date"] and g["green_date"] >= cut)]}
              for p in snapshot["panels"]]
    return {**snapshot, "retrieved": f"{cut_year - 1}-12-31", "panels": panels}


def green_genes(snapshot: dict) -> set[str]:
    """Symbols green on any panel of a snapshot."""
    return {g["symbol"] for p in snapshot["panels"] for g in p["genes"] if g["confidence"] == 3}
