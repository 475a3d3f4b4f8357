"""The report stage: history update, then report.json, report.tsv and report.html.

Everything is rendered inside the history transaction into temporary files, and the files
are renamed into place only after the history commits: a failed report never advances the
history, and a failed history update never leaves new reports behind.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections import Counter
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from heron import __version__, history
from heron.classify.categories import names as category_names
from heron.config import HeronConfig
from heron.errors import InputError
from heron.ingest.pedigree import AFFECTED, FEMALE, MALE
from heron.report import html, seqr, tsv
from heron.report.candidates import candidate_table, change_table, decode_masks, records, shown
from heron.report.model import ReportData, RunInfo, SampleReport, Summary
from heron.staging import staging_file
from heron.store import Shard

log = logging.getLogger(__name__)

AUDIT_COLUMNS = ["sample", "variant_id", "symbol", "rule", "threshold", "observed"]


def resource_versions(config: HeronConfig, shard: Shard) -> dict[str, str | None]:
    """Release labels of the knowledge a run used."""
    versions = {"clinvar": shard.meta.get("clinvar_release")}
    if config.resources.panelapp.snapshot:
        try:
            snapshot = json.loads(Path(config.resources.panelapp.snapshot).read_text())
            versions["panelapp"] = snapshot.get("retrieved")
        except (OSError, ValueError):
            versions["panelapp"] = None
    try:
        from heron.resources.hpo import locate_hpo

        versions["hpo"] = locate_hpo(config.phenotype.hpo_dir).release
    except Exception:  # the report still names every other version
        versions["hpo"] = None
    for path in config.resources.gene_lists:
        versions[f"gene_list:{Path(path).name}"] = _digest(path)
    return versions


def _digest(path: str) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def dropped_reasons(audits: list[Path], gone: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """(sample, variant, gene) → why prioritise left a finding out, for the findings in
    ``gone`` (columns sample, variant, gene: those the last run reported and this run does
    not), from the audit trails (``audit.tsv`` of each batch; a later row wins).

    A cohort's audit trail is half a million rows: it is read only when something dropped,
    and only its rows of the dropped variants are turned into reasons.
    """
    if not len(gone):
        return {}
    audit = pd.concat([pd.read_csv(p, sep="\t", keep_default_na=False, dtype=str,
                                   usecols=AUDIT_COLUMNS) for p in audits], ignore_index=True)
    audit = audit[audit["variant_id"].isin(gone["variant"])]
    cols = {c: audit[c].tolist() for c in AUDIT_COLUMNS}
    return {key: f"{rule} ({limit}; observed {seen})" for key, rule, limit, seen in
            zip(zip(cols["sample"], cols["variant_id"], cols["symbol"]), cols["rule"],
                cols["threshold"], cols["observed"])}


def _gone(con, current: pd.DataFrame) -> pd.DataFrame:
    """The findings the history has as found in the last run that ``current`` lacks (sample,
    variant, gene): the ones :func:`heron.history.record_run` will record as dropped."""
    keys = ["sample", "variant", "gene"]
    before = history.findings(con)
    before = before.loc[before["found_in_current_run"] == 1, keys]
    both = before.merge(current[keys].drop_duplicates(), on=keys, how="left", indicator=True)
    return both.loc[both["_merge"] == "left_only", keys]


def write_reports(config: HeronConfig, prioritised: Path | list[Path], out: Path) -> str:
    """Update the history and write the reports from the output folder(s) of prioritise (one
    per batch of families); returns the run summary as text."""
    from heron.pipeline import load_pedigree, run_date

    folders = [prioritised] if isinstance(prioritised, Path) else list(prioritised)
    # memory-mapped: of the calls only the candidates' family genotypes are read
    shards = [Shard.load(folder / "shard", mmap=True) for folder in folders]
    table = pd.concat([pd.read_csv(folder / "candidates.tsv", sep="\t", keep_default_na=False,
                                   dtype={"sample": str, "variant_id": str, "symbol": str,
                                          "partners": str, "matched_terms": str}
                                   ).assign(part=i) for i, folder in enumerate(folders)],
                      ignore_index=True)
    audits = [folder / "audit.tsv" for folder in folders]
    for path in audits:  # read only when a finding drops out, but required every run
        if not path.exists():
            raise InputError("the audit trail of prioritise is missing", path=str(path),
                             hint="re-run `heron prioritise` for this batch")
    ped = load_pedigree(config)
    date = run_date(config).isoformat()
    resources = resource_versions(config, shards[0])
    patients = {i.id: sorted(i.hpo) for i in ped if i.affected == AFFECTED}
    run = history.RunInfo(date, __version__, config.digest(), resources, patients)
    current = pd.DataFrame({
        "sample": table["sample"], "variant": table["variant_id"], "gene": table["symbol"],
        "categories": decode_masks(table["categories"].to_numpy(), category_names),
        "models": table["models"], "partners": table["partners"].fillna(""),
        "phenotype_match": table["phenotype_match"].astype(str).eq("True")})
    db = Path(config.history.path or Path(config.results_dir) / config.cohort.name /
              "history.sqlite")
    out.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}

    def render(dated: pd.DataFrame, changes: list[history.Change]) -> None:
        data = build_report(config, shards, table, dated, changes, ped, run)
        writers = (("report.json", data.json), ("report.tsv", lambda: tsv.render(data.candidates)),
                   ("report.html", lambda: html.render(data, config)),
                   ("seqr.json", lambda: seqr.render(data.candidates, config.cohort.name)),
                   ("summary.json", lambda: data.summary.model_dump_json(indent=1)),
                   ("summary.txt", lambda: summary_lines(data)))
        for name, write in writers:
            fd, staged[name] = staging_file(out, prefix=f".{name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(write())

    con = history.connect(db)
    try:
        reasons = dropped_reasons(audits, _gone(con, current))
        with _collector_paused():
            history.record_run(con, run, current, reasons, before_commit=render)
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    for name, tmp in staged.items():
        os.replace(tmp, out / name)
        # stamped after the history's commit: written before it, a report would look older
        # than the history it was made with, and Snakemake refuses outputs older than an input
        os.utime(out / name)
    return (out / "summary.txt").read_text()


@contextmanager
def _collector_paused():
    """Python's cycle collector off for a block: building a report allocates a dozen acyclic
    containers per candidate, and each of the hundreds of collections that triggers walks
    every live object (a fifth of the stage's time on a 1,000-patient cohort)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_report(config: HeronConfig, shards: list[Shard], table: pd.DataFrame,
                 dated: pd.DataFrame, changes: list[history.Change], ped,
                 run: history.RunInfo) -> ReportData:
    """The report of the candidates in ``table`` (candidates.tsv rows; ``table["part"]`` says
    which of ``shards``, one per batch of families, a candidate's ``variant`` and ``row``
    point into), with the history's dates (``dated``) and ``changes`` of this run."""
    solved = set(config.cohort.solved)
    reports = {ind.id: SampleReport(family_id=ind.family, affected=True,
                                    sex={MALE: "male", FEMALE: "female"}.get(ind.sex, "unknown"),
                                    phenotypes=ind.hpo)
               for ind in ped if ind.affected == AFFECTED and ind.id not in solved
               and ind.family not in solved}
    _name_terms(config, reports)
    rows, below = shown(table, list(reports), config.report.max_candidates_per_patient)
    change = change_table(changes)
    frame = candidate_table(rows, shards, dated, change, ped,
                            {s: r.family_id for s, r in reports.items()})
    candidates = records(frame)
    per_sample = frame["sample"].value_counts().to_dict()
    samples: dict[str, dict] = {}
    start = 0
    for sample, rep in reports.items():  # rows are grouped by patient, in this order
        n = int(per_sample.get(sample, 0))
        samples[sample] = rep.model_dump() | {"candidates": candidates[start:start + n],
                                              "below_the_line": below.get(sample, 0)}
        start += n
    change = change[change["sample"].isin(reports)]
    gone = change[change["status"] == "dropped"]
    dropped = [{"sample": s, "variant_id": v, "gene": g, "reason": r[0]}
               for s, v, g, r in zip(gone["sample"], gone["variant"], gone["gene"],
                                     gone["reasons"])]
    counts = np.array([len(s["candidates"]) for s in samples.values()], dtype=np.int64)
    return ReportData(run=RunInfo(date=run.date, heron_version=run.heron_version,
                                  config_digest=run.config_digest,
                                  genome_build=config.cohort.genome_build,
                                  resources=run.resources),
                      summary=_summary(list(samples), counts, frame["categories"], change,
                                       len(dropped)),
                      samples=samples, dropped=dropped, candidates=frame)


def _name_terms(config: HeronConfig, reports: dict[str, SampleReport]) -> None:
    """Fill each patient's HPO term names (the report reads better with names than ids)."""
    terms = sorted({t for rep in reports.values() for t in rep.phenotypes})
    if not terms:
        return
    try:
        from heron.pipeline import load_hpo

        ontology, _ = load_hpo(config)
    except Exception as exc:  # names are a courtesy; a report without them is still right
        log.warning("HPO term names unavailable: %s", exc)
        return
    index = ontology.resolve(terms).index
    names = {t: str(ontology.names[i]) for t, i in zip(terms, index) if i >= 0}
    for rep in reports.values():
        rep.phenotype_names = {t: names[t] for t in rep.phenotypes if t in names}


def _summary(samples: list[str], counts: np.ndarray, categories: pd.Series,
             changes: pd.DataFrame, n_dropped: int) -> Summary:
    """counts: (n_samples,) int64 candidates shown per sample; categories: each shown
    candidate's {category: date}; changes: the shown patients' :func:`change_table`."""
    per_category = Counter(chain.from_iterable(categories.tolist()))
    status = changes["status"]
    return Summary(
        patients=len(samples), patients_with_candidates=int((counts > 0).sum()),
        candidates=int(counts.sum()),
        candidates_per_patient_mean=round(float(counts.mean()), 3) if len(counts) else 0.0,
        candidates_per_patient_median=float(np.median(counts)) if len(counts) else 0.0,
        candidates_per_patient_max=int(counts.max()) if len(counts) else 0,
        per_category=dict(sorted(per_category.items())),
        new_since_last_run=int((status == "new").sum()),
        changed_since_last_run=int((status == "changed").sum()),
        dropped_since_last_run=n_dropped,
        patients_without_candidates=sorted(np.asarray(samples, dtype=object)[counts == 0]))


def summary_lines(report: ReportData) -> str:
    s = report.summary
    lines = [f"heron {report.run.heron_version} run {report.run.date} "
             f"({report.run.genome_build}, config {report.run.config_digest})",
             f"patients: {s.patients}, with candidates: {s.patients_with_candidates}",
             f"candidates: {s.candidates} (per patient mean {s.candidates_per_patient_mean}, "
             f"median {s.candidates_per_patient_median}, max {s.candidates_per_patient_max})",
             "per category: " + ", ".join(f"{k} {v}" for k, v in s.per_category.items()),
             f"since the last run: {s.new_since_last_run} new, {s.changed_since_last_run} "
             f"changed, {s.dropped_since_last_run} dropped",
             "resources: " + ", ".join(f"{k} {v}" for k, v in report.run.resources.items())]
    return "\n".join(lines) + "\n"
