"""Score a heron run of the accuracy-benchmark cohort against the generator's manifest.

Inputs are the manifest (truth), the report(s) heron wrote (``report.json``), the audit trail
(``work/<cohort>/prioritised/<batch>/audit.tsv``), the pedigree and the patients' gene sets
(``genes.json``). Everything is joined as tables keyed by (sample, variant id); variant ids are
heron's ``chrom:pos:ref:alt`` after its minimal-representation trim, so an indel written with
padding bases still matches.

Definitions (shared/spec/benchmark.md, part A):

- recall: in-scope cases whose causal variant (every one, for comp-het) is reported for the proband;
- rank: the best rank among the proband's report rows of its causal variants (a comp-het's
  first row names its partner); top-k: share of in-scope cases found at rank <= k;
- candidates per patient: distinct reported variants per affected case individual (probands and
  affected relatives); negative controls separately;
- reanalysis alerts: report rows of the last run whose change status is ``new`` or ``changed``,
  counted once per (sample, variant); an alert is true when the variant is a causal variant the
  sample carries (proband, or an affected carrier relative).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ALERT_STATUSES = ("new", "changed")
BREAKDOWNS = ("family_type", "moi", "variant_class", "route")
TOP_K = (1, 3)
NOT_IN_VCF = "not in VCF"
NOT_CALLED = "not called in the proband"
NO_ROW_GENE = "no row (gene not in the patient's gene set)"
NO_ROW_CATEGORY = "no row (in a panel gene, no category)"

# (batch, sample, chrom, pos, ref, alt) -> "absent" (no such record in the batch VCF),
# "not_carrier" (the sample's call lacks the alt allele) or "carrier"
VcfLookup = Callable[[int, str, str, int, str, str], str]


@dataclass
class Knowledge:
    """Everything a score needs besides the manifest, as read from one run's outputs."""

    report: dict
    audit: pd.DataFrame  # columns sample, variant_id, symbol, model, rule, threshold, observed
    affected: set[str]  # affected individuals of the PED
    gene_sets: dict[str, set[str]]  # sample -> gene symbols of its gene set


def trim_variant(pos: np.ndarray, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                              np.ndarray]:
    """heron's minimal representation (shared trailing, then leading bases dropped, one kept).

    pos: (n,) int64; ref, alt: (n,) object arrays of str. Returns new arrays of the same shapes.
    Loops run over the longest shared affix length, not over variants.
    """
    pos = np.asarray(pos, dtype=np.int64).copy()
    ref = pd.Series(ref, dtype=object).to_numpy().copy()
    alt = pd.Series(alt, dtype=object).to_numpy().copy()
    while True:
        r, a = pd.Series(ref, dtype=str), pd.Series(alt, dtype=str)
        cut = ((r.str.len() > 1) & (a.str.len() > 1) & (r.str[-1] == a.str[-1])).to_numpy()
        if not cut.any():
            break
        ref[cut] = r[cut].str[:-1].to_numpy()
        alt[cut] = a[cut].str[:-1].to_numpy()
    while True:
        r, a = pd.Series(ref, dtype=str), pd.Series(alt, dtype=str)
        cut = ((r.str.len() > 1) & (a.str.len() > 1) & (r.str[0] == a.str[0])).to_numpy()
        if not cut.any():
            break
        ref[cut] = r[cut].str[1:].to_numpy()
        alt[cut] = a[cut].str[1:].to_numpy()
        pos[cut] += 1
    return pos, ref, alt


def variant_ids(chrom, pos, ref, alt) -> np.ndarray:
    """(n,) object array of heron variant ids ``chr1:123:A:G`` after trimming."""
    pos, ref, alt = trim_variant(pos, ref, alt)
    chrom = pd.Series(chrom, dtype=str)
    chrom = np.where(chrom.str.startswith("chr"), chrom, "chr" + chrom)
    return (pd.Series(chrom) + ":" + pd.Series(pos).astype(str) + ":" + pd.Series(ref) + ":"
            + pd.Series(alt)).to_numpy(dtype=object)


def case_table(manifest: dict) -> pd.DataFrame:
    """One row per case: ids, strata, scope (columns named as in the manifest)."""
    cols = ["case_id", "family_id", "proband_id", "father_id", "mother_id", "family_type", "moi",
            "genotype_model", "variant_class", "route", "in_scope", "scope_reason", "batch"]
    cases = pd.DataFrame([{k: c.get(k) for k in cols} for c in manifest["cases"]], columns=cols)
    cases["genes"] = [",".join(c["genes"]) for c in manifest["cases"]]
    cases["in_scope"] = cases["in_scope"].astype(bool)
    for col in ("moi", "genotype_model", "variant_class", "route"):
        cases[col] = cases[col].fillna("none")
    return cases


def causal_table(manifest: dict, affected: set[str]) -> pd.DataFrame:
    """One row per (case, causal variant, carrier): the proband, plus affected relatives that
    carry it. Columns case_id, sample, is_proband, variant_id, gene, chrom, pos, ref, alt, batch."""
    rows = []
    for c in manifest["cases"]:
        for v in c["variants"]:
            base = {"case_id": c["case_id"], "gene": v["gene"], "chrom": v["chrom"], "pos": v["pos"],
                    "ref": v["ref"], "alt": v["alt"], "batch": c["batch"]}
            rows.append(dict(base, sample=c["proband_id"], is_proband=True))
            for who in ("father", "mother"):
                sample = c.get(f"{who}_id")
                if sample and sample in affected and v["genotype"].get(who) not in (None, "0/0"):
                    rows.append(dict(base, sample=sample, is_proband=False))
    cols = ["case_id", "gene", "chrom", "pos", "ref", "alt", "batch", "sample", "is_proband"]
    table = pd.DataFrame(rows, columns=cols)
    table["variant_id"] = variant_ids(table["chrom"], table["pos"], table["ref"], table["alt"]) \
        if len(table) else pd.Series(dtype=object)
    return table


def report_table(report: dict) -> pd.DataFrame:
    """One row per report candidate: sample, variant_id, gene, rank, score, status."""
    rows = [(sample, c["variant_id"], c["gene"], c["rank"], c["score"], c["change"]["status"])
            for sample, s in report["samples"].items() for c in s["candidates"]]
    return pd.DataFrame(rows, columns=["sample", "variant_id", "gene", "rank", "score", "status"]).astype(
        {"rank": np.int64, "score": np.float64})


def read_ped_affected(path: str | Path) -> set[str]:
    """Affected individuals (phenotype 2) of a PLINK PED with or without a ``#`` header line."""
    ped = pd.read_csv(path, sep="\t", header=None, comment="#", dtype=str).fillna("")
    if ped.shape[1] < 6:
        raise ValueError(f"{path}: expected at least 6 tab-separated PED columns, found {ped.shape[1]}")
    return set(ped.loc[ped[5] == "2", 1])


def read_gene_sets(path: str | Path) -> dict[str, set[str]]:
    """Sample -> gene symbols of its gene set, from heron's ``genes.json``."""
    from heron.classify.genes import GeneSet

    genes = GeneSet.from_json(path)
    symbol = np.asarray(genes.symbol, dtype=object)
    return {p: set(symbol[row]) for p, row in zip(genes.patients, genes.member)}


def read_audit(paths: list[Path]) -> pd.DataFrame:
    """The audit trails of every prioritise batch of a run, as one table."""
    return pd.concat([pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False) for p in paths],
                     ignore_index=True)


def _summary(values: np.ndarray) -> dict:
    """mean, median, p90 (linear interpolation) of per-individual counts; zeros when empty."""
    if len(values) == 0:
        return {"mean": 0.0, "median": 0.0, "p90": 0.0, "n": 0}
    return {"mean": float(np.mean(values)), "median": float(np.median(values)),
            "p90": float(np.percentile(values, 90)), "n": int(len(values))}


def _miss_reasons(missed: pd.DataFrame, audit: pd.DataFrame, gene_sets: dict[str, set[str]],
                  vcf_lookup: VcfLookup | None) -> pd.DataFrame:
    """Why each unreported causal variant of a proband was not reported.

    missed: rows of the causal table (proband rows only). Returns columns case_id, variant_id,
    reason, detail — the audit rule of the proband's call (preferring the causal gene's row), else
    the VCF or gene-set explanation.
    """
    out = missed[["case_id", "sample", "variant_id", "gene", "chrom", "pos", "ref", "alt", "batch"]].copy()
    a = audit.assign(_gene_match=0)
    hit = out.merge(a, on=["sample", "variant_id"], how="left", suffixes=("", "_audit"))
    hit["_gene_match"] = (hit["symbol"] == hit["gene"]).astype(int)
    hit = hit.sort_values(["_gene_match"], ascending=False, kind="stable").drop_duplicates(
        ["case_id", "variant_id"])
    hit = out[["case_id", "variant_id"]].merge(hit, on=["case_id", "variant_id"], how="left")
    has_row = hit["rule"].notna().to_numpy()
    reason = np.where(has_row, hit["rule"].fillna(""), "").astype(object)
    detail = np.where(has_row, hit["model"].fillna("") + ": limit " + hit["threshold"].fillna("")
                      + ", observed " + hit["observed"].fillna(""), "").astype(object)
    for i in np.flatnonzero(~has_row):  # few rows: the unexplained misses only
        r = hit.iloc[i]
        state = (vcf_lookup(int(r["batch"]), r["sample"], r["chrom"], int(r["pos"]), r["ref"], r["alt"])
                 if vcf_lookup else "carrier")
        if state == "absent":
            reason[i] = NOT_IN_VCF
        elif state == "not_carrier":
            reason[i] = NOT_CALLED
        elif r["gene"] not in gene_sets.get(r["sample"], set()):
            reason[i] = NO_ROW_GENE
        else:
            reason[i] = NO_ROW_CATEGORY
    return pd.DataFrame({"case_id": hit["case_id"].to_numpy(), "variant_id": hit["variant_id"].to_numpy(),
                         "reason": reason, "detail": detail})


def _found(causal: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """Per case: found (every causal variant reported for the proband), rank (best)."""
    proband = causal[causal["is_proband"]]
    best = reported.groupby(["sample", "variant_id"], as_index=False)["rank"].min()
    hit = proband.merge(best, on=["sample", "variant_id"], how="left")
    per_case = hit.groupby("case_id").agg(found=("rank", lambda r: bool(r.notna().all())),
                                          rank=("rank", "min"))
    per_case.loc[~per_case["found"], "rank"] = np.nan
    return per_case


def score(manifest: dict, current: Knowledge, vcf_lookup: VcfLookup | None = None,
          old_report: dict | None = None) -> tuple[dict, pd.DataFrame]:
    """Score one run. Returns (metrics dict, per-case table).

    current: outputs of the run with the full knowledge (if the reanalysis test ran, this is the
    second run and its change statuses are the alerts); old_report: report of the run with the
    older knowledge, for recall before the update.
    """
    cases = case_table(manifest)
    controls = [c["sample_id"] for c in manifest["negative_controls"]]
    causal = causal_table(manifest, current.affected)
    reported = report_table(current.report)

    found = _found(causal, reported)
    cases = cases.merge(found, left_on="case_id", right_index=True, how="left")
    cases["found"] = cases["found"].fillna(False).astype(bool)
    if old_report is not None:
        old_found = _found(causal, report_table(old_report))["found"]
        cases["found_old_knowledge"] = cases["case_id"].map(old_found).fillna(False).astype(bool)

    per_sample = reported.groupby("sample")["variant_id"].nunique()
    patients = sorted(current.affected - set(controls))
    n_candidates = per_sample.reindex(patients, fill_value=0)
    cases["candidates"] = cases["proband_id"].map(n_candidates).fillna(0).astype(int)
    control_counts = per_sample.reindex(controls, fill_value=0).to_numpy()

    proband_causal = causal[causal["is_proband"]]
    missed = proband_causal.merge(reported[["sample", "variant_id"]].drop_duplicates(),
                                  on=["sample", "variant_id"], how="left", indicator=True)
    missed = missed[missed["_merge"] == "left_only"]
    reasons = _miss_reasons(missed, current.audit, current.gene_sets, vcf_lookup)
    joined = reasons.groupby("case_id").agg(why_missed=("reason", lambda r: "; ".join(dict.fromkeys(r))),
                                            miss_detail=("detail", lambda d: "; ".join(x for x in d if x)))
    cases = cases.merge(joined, left_on="case_id", right_index=True, how="left")
    cases.loc[cases["found"], ["why_missed", "miss_detail"]] = ""
    cases[["why_missed", "miss_detail"]] = cases[["why_missed", "miss_detail"]].fillna("")

    scope = cases[cases["in_scope"]]
    cand = _summary(n_candidates.to_numpy())
    ctrl = _summary(control_counts)
    result = {
        "n_cases": int(len(cases)), "n_in_scope": int(len(scope)),
        "n_out_of_scope": int((~cases["in_scope"]).sum()),
        "out_of_scope_reasons": {k: int(v) for k, v in cases.loc[~cases["in_scope"], "scope_reason"]
                                 .str.replace(r"^gene .* not on", "gene not on", regex=True)
                                 .value_counts().items()},
        "n_found": int(scope["found"].sum()),
        "recall": _ratio(scope["found"].sum(), len(scope)),
        "n_patients": len(patients), "n_negative_controls": len(controls),
        "candidates_per_patient_mean": cand["mean"], "candidates_per_patient_median": cand["median"],
        "candidates_per_patient_p90": cand["p90"],
        "negative_control_candidates_mean": ctrl["mean"], "negative_control_candidates_median": ctrl["median"],
        "negative_control_candidates_p90": ctrl["p90"],
    }
    for k in TOP_K:
        result[f"top{k}"] = _ratio((scope["rank"] <= k).sum(), len(scope))
    if old_report is not None:
        result["recall_old_knowledge"] = _ratio(scope["found_old_knowledge"].sum(), len(scope))
        result["reanalysis_new_diagnoses"] = int((scope["found"] & ~scope["found_old_knowledge"]).sum())
    result.update(_alerts(reported, causal, patients, controls, old_report is not None))
    result["breakdowns"] = {col: _breakdown(cases, col) for col in BREAKDOWNS}
    result["miss_reasons"] = {k: int(v) for k, v in scope.loc[~scope["found"], "why_missed"]
                              .str.split("; ").explode().value_counts().items()}
    result["miss_reasons_by_route"] = {
        route: {k: int(v) for k, v in g["why_missed"].str.split("; ").explode().value_counts().items()}
        for route, g in scope[~scope["found"]].groupby("route")}
    return result, cases


def _ratio(num, den) -> float | None:
    return float(num) / float(den) if den else None


def _alerts(reported: pd.DataFrame, causal: pd.DataFrame, patients: list[str], controls: list[str],
            ran: bool) -> dict:
    """Reanalysis alerts of the last run (None when no earlier run was made)."""
    keys = ("reanalysis_alerts_per_patient", "reanalysis_alert_precision", "reanalysis_alerts",
            "reanalysis_true_alerts", "reanalysis_alerts_by_status", "reanalysis_true_alerts_by_status",
            "reanalysis_alerts_per_control")
    if not ran:
        return dict.fromkeys(keys)
    alerts = (reported[reported["status"].isin(ALERT_STATUSES)].sort_values("status", key=lambda x: x != "new")
              .drop_duplicates(["sample", "variant_id"])[["sample", "variant_id", "status"]])
    truth = causal[["sample", "variant_id"]].drop_duplicates().assign(true=True)
    alerts = alerts.merge(truth, on=["sample", "variant_id"], how="left")
    alerts["true"] = alerts["true"].fillna(False).astype(bool)
    mine = alerts[alerts["sample"].isin(patients)]
    n_control = int(alerts["sample"].isin(controls).sum())
    return {"reanalysis_alerts_per_patient": _ratio(len(mine), len(patients)),
            "reanalysis_alert_precision": _ratio(mine["true"].sum(), len(mine)),
            "reanalysis_alerts": int(len(mine)), "reanalysis_true_alerts": int(mine["true"].sum()),
            "reanalysis_alerts_by_status": {k: int(v) for k, v in mine["status"].value_counts().items()},
            "reanalysis_true_alerts_by_status": {k: int(v) for k, v in mine.loc[mine["true"], "status"]
                                                 .value_counts().items()},
            "reanalysis_alerts_per_control": _ratio(n_control, len(controls))}


def _breakdown(cases: pd.DataFrame, col: str) -> dict:
    """Per stratum of ``col``: in-scope cases, found, recall, top1, top3, mean candidates."""
    scope = cases[cases["in_scope"]]
    out = {}
    for value, g in scope.groupby(col, sort=True):
        out[str(value)] = {"n_in_scope": int(len(g)), "found": int(g["found"].sum()),
                           "recall": _ratio(g["found"].sum(), len(g)),
                           "top1": _ratio((g["rank"] <= 1).sum(), len(g)),
                           "top3": _ratio((g["rank"] <= 3).sum(), len(g)),
                           "candidates_mean": float(g["candidates"].mean())}
    return out


CASE_COLUMNS = ["case_id", "family_id", "proband_id", "family_type", "moi", "genotype_model", "variant_class",
                "route", "genes", "in_scope", "scope_reason", "found", "found_old_knowledge", "rank", "candidates",
                "why_missed", "miss_detail"]


def write_cases_tsv(cases: pd.DataFrame, path: str | Path) -> None:
    cols = [c for c in CASE_COLUMNS if c in cases.columns]
    out = cases[cols].copy()
    out["rank"] = out["rank"].astype("Int64")
    out.to_csv(path, sep="\t", index=False)


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def markdown(result: dict) -> str:
    """The result as Markdown tables (headline, reanalysis, breakdowns, miss reasons)."""
    lines = [f"# Accuracy benchmark — seed {result.get('seed')}, {result['n_cases']} cases", ""]
    head = [("cases (in scope)", f"{result['n_cases']} ({result['n_in_scope']})"),
            ("recall", _fmt(result["recall"])), ("top-1", _fmt(result["top1"])), ("top-3", _fmt(result["top3"])),
            ("candidates / patient: mean, median, p90",
             f"{_fmt(result['candidates_per_patient_mean'], 2)}, {_fmt(result['candidates_per_patient_median'], 1)}, "
             f"{_fmt(result['candidates_per_patient_p90'], 1)}"),
            ("negative controls: mean, median, p90",
             f"{_fmt(result['negative_control_candidates_mean'], 2)}, "
             f"{_fmt(result['negative_control_candidates_median'], 1)}, "
             f"{_fmt(result['negative_control_candidates_p90'], 1)}"),
            ("recall with the older knowledge", _fmt(result.get("recall_old_knowledge"))),
            ("reanalysis alerts / patient", _fmt(result["reanalysis_alerts_per_patient"], 2)),
            ("reanalysis alerts new, changed (true)",
             ", ".join(f"{result['reanalysis_alerts_by_status'].get(k, 0)} "
                       f"({result['reanalysis_true_alerts_by_status'].get(k, 0)})" for k in ALERT_STATUSES)
             if result["reanalysis_alerts_by_status"] is not None else "–"),
            ("diagnoses found only with the newer knowledge", _fmt(result.get("reanalysis_new_diagnoses"))),
            ("reanalysis alert precision", _fmt(result["reanalysis_alert_precision"])),
            ("wall seconds (full-knowledge run)", _fmt(result.get("wall_seconds"), 0)),
            ("peak RSS MB (largest process)", _fmt(result.get("peak_rss_mb"), 0))]
    lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in head] + [""]
    for col, table in result["breakdowns"].items():
        lines += [f"## By {col.replace('_', ' ')}", "", "| stratum | in scope | found | recall | top-1 | top-3 |"
                  " candidates |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['n_in_scope']} | {v['found']} | {_fmt(v['recall'])} | {_fmt(v['top1'])} | "
                  f"{_fmt(v['top3'])} | {_fmt(v['candidates_mean'], 2)} |" for k, v in table.items()]
        lines.append("")
    lines += ["## Why in-scope diagnoses were missed", "", "| reason (audit rule) | cases |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in result["miss_reasons"].items()] + [""]
    return "\n".join(lines)
