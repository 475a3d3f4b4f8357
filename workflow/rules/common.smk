"""Shared wiring: the effective config file every heron call reads, and the shard list."""

import hashlib
import json
from pathlib import Path

import yaml

from heron.config import HeronConfig
from heron.pipeline import plan_shards

COHORT = config.get("cohort", {}).get("name", "demo")
WORK = Path(config.get("work_dir", "work")) / COHORT
RESULTS = Path(config.get("results_dir", "results")) / COHORT

# Every heron call reads the same effective config; it is rewritten only when it changes so
# that an unchanged config never makes Snakemake re-run anything.
HERON_CONFIG = WORK / "heron.yaml"
_text = yaml.safe_dump(HeronConfig.model_validate(config).model_dump(mode="json"),
                       sort_keys=False)
if not HERON_CONFIG.exists() or HERON_CONFIG.read_text() != _text:
    HERON_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    HERON_CONFIG.write_text(_text)

_settings = HeronConfig.model_validate(config).resolve(Path.cwd())
REGIONS = {r.replace(":", "_"): r for r in plan_shards(_settings)}
SHARDS = sorted(REGIONS)
_r = _settings.resources
KNOWLEDGE_SOURCES = [p for p in (_r.clinvar.vcf, _r.clinvar.submission_summary,
                                 _r.clinvar.variant_summary, _r.alphamissense.tsv,
                                 *_r.gnomad.vcfs) if p]
GENE_SOURCES = [p for p in [_settings.resources.panelapp.snapshot, _settings.cohort.pedigree,
                            *_settings.resources.gene_lists, *_settings.cohort.phenopackets] if p]
INGEST_SOURCES = [p for p in (*_settings.cohort.vcfs, _settings.cohort.reference_fasta,
                              _settings.ingest.gff3) if p]
REPORTS = [RESULTS / "report.json", RESULTS / "report.tsv", RESULTS / "report.html"]


def shard_mem_mb(wildcards, input, attempt):
    """Memory for a shard job: a few times its input on disk, doubled on each retry."""
    size_mb = sum(Path(p).stat().st_size for p in input if Path(p).is_file()) / 1e6
    return int(max(1000, 8 * size_mb) * attempt)
