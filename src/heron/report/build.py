"""The report stage: history update, then report.json, report.tsv and report.html.

Everything is rendered inside the history transaction into temporary files, and the files
are renamed into place only after the history commits: a failed report never advances the
history, and a failed history update never leaves new reports behind.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from heron import __version__, history
from heron.annotate.csq import CONSEQUENCES
from heron.classify.categories import names as category_names
from heron.config import HeronConfig
from heron.genome import CHROM_X, in_par
from heron.ingest.pedigree import AFFECTED, FEMALE, MALE
from heron.inherit.models import FLAGS
from heron.report import html, seqr, tsv
from heron.report.model import (Candidate, Change, ClinVar, Consequence, Dropped, Phenotype,
                                Population, Report, RunInfo, SampleReport, ScoreParts, Summary,
                                Variant)
from heron.resources.clinvar import ClinSig
from heron.store import Shard

log = logging.getLogger(__name__)

CLINVAR_TEXT = {-1: "not in ClinVar", int(ClinSig.PATHOGENIC): "Pathogenic/Likely pathogenic",
                int(ClinSig.CONFLICTING): "Conflicting", int(ClinSig.UNCERTAIN): "Uncertain",
                int(ClinSig.BENIGN): "Benign/Likely benign", int(ClinSig.OTHER): "Other"}


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


def genotype_labels(gt: np.ndarray, sex: np.ndarray, chrom: int, haploid_x: bool) -> list[str]:
    """het|hom|hemi|ref|missing for each (n,) int8 genotype of one variant."""
    labels = np.full(len(gt), "missing", dtype=object)
    labels[gt == 0] = "ref"
    labels[gt == 1] = "het"
    labels[gt == 2] = "hom"
    if chrom == CHROM_X and haploid_x:
        labels[(sex == MALE) & (gt >= 1)] = "hemi"
    return labels.tolist()


def write_reports(config: HeronConfig, prioritised: Path | list[Path], out: Path) -> str:
    """Update the history and write the three reports from the output folder(s) of
    prioritise (one per batch of families); returns the run summary as text."""
    from heron.pipeline import load_pedigree, run_date

    folders = [prioritised] if isinstance(prioritised, Path) else list(prioritised)
    shards = [Shard.load(folder / "shard") for folder in folders]
    table = pd.concat([pd.read_csv(folder / "candidates.tsv", sep="\t", keep_default_na=False,
                                   dtype={"partners": str, "matched_terms": str}
                                   ).assign(part=i) for i, folder in enumerate(folders)],
                      ignore_index=True)
    audit = pd.concat([pd.read_csv(folder / "audit.tsv", sep="\t", keep_default_na=False)
                       for folder in folders], ignore_index=True)
    ped = load_pedigree(config)
    date = run_date(config).isoformat()
    resources = resource_versions(config, shards[0])
    patients = {i.id: sorted(i.hpo) for i in ped if i.affected == AFFECTED}
    run = history.RunInfo(date, __version__, config.digest(), resources, patients)
    table["categories_list"] = [category_names(c) for c in table["categories"]]
    current = pd.DataFrame({
        "sample": table["sample"], "variant": table["variant_id"], "gene": table["symbol"],
        "categories": table["categories_list"], "models": table["models"],
        "partners": table["partners"].fillna(""),
        "phenotype_match": table["phenotype_match"].astype(str).eq("True")})
    # plain lists: iterating pandas string columns element by element is slow
    audit = audit.drop_duplicates(["sample", "variant_id", "symbol"], keep="last")
    cols = {c: audit[c].astype(str).tolist()
            for c in ("sample", "variant_id", "symbol", "rule", "threshold", "observed")}
    dropped_reasons = {key: f"{rule} ({limit}; observed {seen})" for key, rule, limit, seen in
                       zip(zip(cols["sample"], cols["variant_id"], cols["symbol"]), cols["rule"],
                           cols["threshold"], cols["observed"])}
    db = Path(config.history.path or Path(config.results_dir) / config.cohort.name /
              "history.sqlite")
    out.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}

    def render(dated: pd.DataFrame, changes: list[history.Change]) -> None:
        report = build_report(config, shards, table, dated, changes, ped, run)
        summary_text = summary_lines(report)
        for name, text in (("report.json", report.model_dump_json(indent=1)),
                           ("report.tsv", tsv.render(report)),
                           ("report.html", html.render(report, config)),
                           ("seqr.json", seqr.render(report, config.cohort.name)),
                           ("summary.json", report.summary.model_dump_json(indent=1)),
                           ("summary.txt", summary_text)):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            staged[name] = Path(tmp)

    con = history.connect(db)
    try:
        history.record_run(con, run, current, dropped_reasons, before_commit=render)
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    for name, tmp in staged.items():
        os.replace(tmp, out / name)
    return (out / "summary.txt").read_text()


def build_report(config: HeronConfig, shards: list[Shard], table: pd.DataFrame,
                 dated: pd.DataFrame, changes: list[history.Change], ped,
                 run: history.RunInfo) -> Report:
    """The report model; ``table["part"]`` says which of ``shards`` (one per batch of
    families) a candidate's ``variant`` and ``row`` point into."""
    samples_cols = [{s: i for i, s in enumerate(shard.samples)} for shard in shards]
    change_of = {(c.sample, c.variant, c.gene): c for c in changes}
    dates = {(r.sample, r.variant, r.gene): r for r in dated.itertuples()}
    solved = set(config.cohort.solved)
    reports: dict[str, SampleReport] = {}
    for ind in ped:
        if ind.affected != AFFECTED or ind.id in solved or ind.family in solved:
            continue
        reports[ind.id] = SampleReport(
            family_id=ind.family, affected=True,
            sex={MALE: "male", FEMALE: "female"}.get(ind.sex, "unknown"),
            phenotypes=ind.hpo)
    _name_terms(config, reports)
    family_members = {}
    for ind in ped:
        family_members.setdefault(ind.family, []).append(ind)
    for row in table.itertuples():  # one iteration per candidate, a handful per patient
        if row.sample not in reports:
            continue
        shard, samples_col = shards[row.part], samples_cols[row.part]
        v, tx = shard.variants, shard.transcripts
        var = int(row.variant)
        key = (row.sample, row.variant_id, row.symbol)
        members = family_members[reports[row.sample].family_id]
        cols = np.array([samples_col.get(m.id, -1) for m in members])
        gt = np.where(cols >= 0, shard.calls["gt"][var, np.maximum(cols, 0)], -1)
        sex = np.array([m.sex for m in members])
        chrom = int(v["chrom"][var])
        non_par = chrom == CHROM_X and not in_par(v["chrom"][var:var + 1], v["pos"][var:var + 1],
                                                  shard.build)[0]
        genotypes = dict(zip([m.id for m in members], genotype_labels(gt, sex, chrom, non_par)))
        t = int(shard.rows["tx"][int(row.row)]) if shard.rows else -1
        consequence = Consequence()
        if t >= 0:
            bits = int(tx["consequence"][t])
            consequence = Consequence(
                transcript=tx["transcript"][t].decode(),
                consequences=[n for i, n in enumerate(CONSEQUENCES) if bits >> i & 1],
                hgvsc=tx["hgvsc"][t].decode(), hgvsp=tx["hgvsp"][t].decode(),
                mane=bool(tx["mane"][t]), canonical=bool(tx["canonical"][t]))
        dated_row = dates.get(key)
        change = change_of.get(key)
        chrom_name, pos, ref, alt = row.variant_id.split(":")
        flags = [name for i, name in enumerate(FLAGS) if int(row.flags) >> i & 1]
        reports[row.sample].candidates.append(Candidate(
            variant=Variant(chrom=chrom_name, pos=int(pos), ref=ref, alt=alt),
            variant_id=row.variant_id, gene=row.symbol, moi=row.models,
            categories=dated_row.category_dates if dated_row is not None else {},
            rank=int(row.rank), score=float(row.score),
            score_parts=ScoreParts(evidence=row.evidence, phenotype=row.phenotype,
                                   moi=row.moi, penalty=row.penalty),
            genotypes=genotypes, flags=flags,
            partners=[p for p in str(row.partners).split(",") if p],
            consequence=consequence,
            clinvar=ClinVar(classification=CLINVAR_TEXT.get(int(v["ann.clinvar"][var]), "Other"),
                            stars=int(v["ann.clinvar_stars"][var]),
                            allele_id=int(v["ann.clinvar_id"][var])
                            if v["ann.clinvar_id"][var] >= 0 else None),
            population=Population(
                gnomad_af=_num(v["ann.gnomad_af"][var]), gnomad_ac=_num(v["ann.gnomad_ac"][var]),
                gnomad_homozygotes=_num(v["ann.gnomad_hom"][var]),
                gnomad_hemizygotes=_num(v["ann.gnomad_hemi"][var]),
                callset_ac=int(v["ac"][var]), callset_an=int(v["an"][var])),
            phenotype=Phenotype(score=float(row.phenotype_score),
                                matched=str(row.phenotype_match) == "True",
                                matched_terms=[t for t in str(row.matched_terms).split(",") if t]),
            first_tagged=dated_row.first_tagged if dated_row is not None else None,
            evidence_last_updated=dated_row.evidence_last_updated if dated_row is not None
            else None,
            change=Change(status=change.status, reasons=change.reasons) if change
            else Change(status=""),
            links=_links(chrom_name, pos, ref, alt, row.symbol, v["ann.clinvar_id"][var],
                         shard.build)))
    cap = config.report.max_candidates_per_patient
    for rep in reports.values():
        rep.candidates.sort(key=lambda c: c.rank)
        if cap is not None and len(rep.candidates) > cap:
            rep.below_the_line = len(rep.candidates) - cap
            rep.candidates = rep.candidates[:cap]
    dropped = [Dropped(sample=c.sample, variant_id=c.variant, gene=c.gene, reason=c.reasons[0])
               for c in changes if c.status == "dropped" and c.sample in reports]
    return Report(run=RunInfo(date=run.date, heron_version=run.heron_version,
                              config_digest=run.config_digest,
                              genome_build=config.cohort.genome_build,
                              resources=run.resources),
                  summary=_summary(reports, changes, dropped), samples=reports,
                  dropped_since_last_run=dropped)


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


def _num(x) -> float | None:
    return None if np.isnan(x) else float(x)


def _links(chrom, pos, ref, alt, gene, clinvar_id, build) -> dict[str, str]:
    dataset = "gnomad_r4" if build == "GRCh38" else "gnomad_r2_1"
    bare = chrom.removeprefix("chr")
    links = {"gnomad": f"https://gnomad.broadinstitute.org/variant/{bare}-{pos}-{ref}-{alt}"
                       f"?dataset={dataset}",
             "panelapp": f"https://panelapp-aus.org/panels/entities/{gene}"}
    if clinvar_id >= 0:
        links["clinvar"] = f"https://www.ncbi.nlm.nih.gov/clinvar/?term={int(clinvar_id)}[alleleid]"
    return links


def _summary(reports: dict[str, SampleReport], changes, dropped) -> Summary:
    counts = np.array([len(r.candidates) for r in reports.values()]) if reports else np.zeros(0)
    per_category: dict[str, int] = {}
    for rep in reports.values():
        for cand in rep.candidates:
            for cat in cand.categories:
                per_category[cat] = per_category.get(cat, 0) + 1
    shown = set(reports)
    return Summary(
        patients=len(reports), patients_with_candidates=int((counts > 0).sum()),
        candidates=int(counts.sum()),
        candidates_per_patient_mean=round(float(counts.mean()), 3) if len(counts) else 0.0,
        candidates_per_patient_median=float(np.median(counts)) if len(counts) else 0.0,
        candidates_per_patient_max=int(counts.max()) if len(counts) else 0,
        per_category=dict(sorted(per_category.items())),
        new_since_last_run=sum(c.status == "new" and c.sample in shown for c in changes),
        changed_since_last_run=sum(c.status == "changed" and c.sample in shown for c in changes),
        dropped_since_last_run=len(dropped),
        patients_without_candidates=sorted(s for s, r in reports.items() if not r.candidates))


def summary_lines(report: Report) -> str:
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
