"""The ``heron`` command: one subcommand per stage, as the Snakemake rules call them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import yaml

from heron import __version__
from heron.errors import HeronError


# Options that point a stage at the files it reads, each replacing one config path (a list
# option replaces the whole list). The workflow passes the copies Snakemake staged for the job
# (under a storage provider, local copies at paths of Snakemake's choosing), so that a job reads
# exactly its declared inputs and never the config's own paths.
PATH_OPTIONS = {
    "vcf": ("cohort.vcfs", True),
    "sv_vcf": ("cohort.sv_vcfs", True),
    "pedigree": ("cohort.pedigree", False),
    "phenopacket": ("cohort.phenopackets", True),
    "reference_fasta": ("cohort.reference_fasta", False),
    "gff3": ("ingest.gff3", False),
    "clinvar_vcf": ("resources.clinvar.vcf", False),
    "clinvar_submission_summary": ("resources.clinvar.submission_summary", False),
    "clinvar_variant_summary": ("resources.clinvar.variant_summary", False),
    "gnomad_vcf": ("resources.gnomad.vcfs", True),
    "alphamissense_tsv": ("resources.alphamissense.tsv", False),
    "panelapp_snapshot": ("resources.panelapp.snapshot", False),
    "gene_list": ("resources.gene_lists", True),
    "hpo_dir": ("phenotype.hpo_dir", False),
    "history": ("history.path", False),
}


def _path_option(name: str):
    field, many = PATH_OPTIONS[name]
    what = "files" if many else ("folder" if name.endswith("_dir") else "file")
    use = "add the run to" if name == "history" else "read"
    return (("--" + name.replace("_", "-"),),
            dict(nargs="+" if many else None, metavar="PATH", default=None,
                 help=f"{what} to {use} instead of the config's {field}"))


def _config(args):
    """The config file's settings, with the paths given by PATH_OPTIONS options in place of
    the config's (relative paths taken from the working directory, as in the file)."""
    from heron.config import HeronConfig, load_config

    config = load_config(args.config)
    given = {name: getattr(args, name) for name in PATH_OPTIONS
             if getattr(args, name, None) is not None}
    if not given:
        return config
    data = config.model_dump()
    for name, value in given.items():
        *parents, key = PATH_OPTIONS[name][0].split(".")
        section = data
        for part in parents:
            section = section[part]
        section[key] = value
    return HeronConfig.model_validate(data).resolve(Path.cwd())


def cmd_plan(args) -> None:
    from heron.pipeline import plan_batches, plan_shards, write_text_atomic

    config = _config(args)
    plan = {"regions": plan_shards(config), "batches": plan_batches(config)}
    write_text_atomic(Path(args.out), json.dumps(plan, indent=1) + "\n")


def cmd_ingest(args) -> None:
    from heron.pipeline import ingest

    ingest(_config(args), args.region, Path(args.out))


def cmd_knowledge(args) -> None:
    from heron.pipeline import prepare_knowledge

    prepare_knowledge(_config(args), Path(args.out))


def cmd_annotate(args) -> None:
    from heron.pipeline import annotate

    annotate(_config(args), Path(args.store), Path(args.knowledge), Path(args.out))


def cmd_genes(args) -> None:
    from heron.pipeline import build_genes

    build_genes(_config(args), Path(args.out))


def cmd_classify(args) -> None:
    from heron.pipeline import classify

    classify(_config(args), Path(args.store), Path(args.annotation), Path(args.genes),
             Path(args.knowledge), Path(args.out))


def cmd_prioritise(args) -> None:
    from heron.pipeline import parse_batch, prioritise

    prioritise(_config(args), [Path(p) for p in args.classified],
               [Path(p) for p in args.store], Path(args.genes), Path(args.out),
               parse_batch(args.batch))


def cmd_report(args) -> None:
    from heron.report.build import write_reports

    summary = write_reports(_config(args), [Path(p) for p in args.prioritised], Path(args.out))
    print(summary)


def cmd_run(args) -> None:
    from heron.pipeline import run_local

    out = run_local(_config(args))
    print((out / "summary.txt").read_text(), end="")


def cmd_explain(args) -> None:
    from heron.explain import explain

    print(explain(_config(args), args.sample, args.variant, args.work and Path(args.work)))


def _emit(text: str, out: str | None) -> None:
    """Write generated text to a file, or to standard output."""
    if out:
        Path(out).write_text(text)
    else:
        sys.stdout.write(text)


def cmd_config_schema(args) -> None:
    from heron.config import json_schema

    _emit(yaml.safe_dump(json_schema(), sort_keys=False, allow_unicode=True), args.out)


def cmd_config_docs(args) -> None:
    from heron.config import config_docs

    _emit(config_docs(), args.out)


def cmd_resources_status(args) -> int:
    from heron.resources.snapshot import snapshot_status

    config = _config(args)
    records = snapshot_status(config.resources.root, config.resources.max_age_days)
    if not records:
        print(f"no snapshots under {config.resources.root}")
    bad = 0
    for r in records:
        state = "CORRUPT" if not r.ok else ("stale" if r.stale else "ok")
        bad += not r.ok
        print(f"{r.source:<16} {r.release or '-':<14} retrieved {r.retrieved or '-'} "
              f"({r.age_days if r.age_days is not None else '?'} days) {state}"
              + (f": {r.problem}" if r.problem else ""))
    return 1 if bad else 0


def cmd_resources_download(args) -> None:
    config = _config(args)
    r, d = config.resources, config.resources.download
    http = dict(timeout=d.timeout, retries=d.retries)
    if args.source == "clinvar":
        from heron.resources.clinvar import download_clinvar

        path = download_clinvar(config.cohort.genome_build, r.root, base_url=r.clinvar.base_url,
                                with_tables=args.with_tables, backoff=d.backoff, **http)
        hint = "resources.clinvar.vcf (and submission_summary / variant_summary)"
    elif args.source == "panelapp":
        from heron.resources.panelapp import download_panelapp

        path = download_panelapp(r.panelapp.base_url, r.panelapp.panel_ids, r.root,
                                 activities=r.panelapp.activities, backoff=d.backoff, **http)
        hint = "resources.panelapp.snapshot"
    else:
        from heron.resources.hpo import download_hpo

        path = download_hpo(r.root, **http).obo.parent
        hint = "phenotype.hpo_dir"
    print(f"{path}\nset {hint} in your config to use it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heron", description=__doc__)
    parser.add_argument("--version", action="version", version=f"heron {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text, *options):
        p = sub.add_parser(name, help=help_text, description=help_text)
        for flags, kwargs in options:
            p.add_argument(*flags, **kwargs)
        p.set_defaults(func=func)
        return p

    config = (("--config", "-c"), dict(required=True, help="config YAML"))
    out = (("--out", "-o"), dict(required=True, help="output path"))

    def paths(*names):
        return [_path_option(name) for name in names]

    people = ("pedigree", "phenopacket")
    add("plan", cmd_plan, "the cohort's region shards and prioritise batches (JSON)", config,
        out, *paths("vcf", *people))
    add("ingest", cmd_ingest, "read one region of the cohort VCFs into a shard", config, out,
        (("--region",), dict(required=True, help="a shard: CONTIG, CONTIG:START-END or "
                             "FIRST..LAST (every chromosome between, in genome order), several "
                             "joined by ',' (e.g. chr1:1-124478211,chr20..chrX,chrM); or * "
                             "(whole file)")),
        *paths("vcf", "sv_vcf", "reference_fasta", "gff3"))
    add("knowledge", cmd_knowledge, "ClinVar (table, PM5 index), gnomAD and AlphaMissense "
        "indexes for the run", config, out,
        *paths("clinvar_vcf", "clinvar_submission_summary", "clinvar_variant_summary",
               "gnomad_vcf", "alphamissense_tsv"))
    add("annotate", cmd_annotate, "consequences, ClinVar and frequencies for a shard", config,
        out, (("--store",), dict(required=True, help="shard folder from ingest")),
        (("--knowledge",), dict(required=True, help="folder from `heron knowledge`")))
    add("genes", cmd_genes, "every patient's gene set from panels, HPO terms and gene lists",
        config, out, *paths(*people, "panelapp_snapshot", "gene_list", "hpo_dir"))
    add("classify", cmd_classify, "rows, pre-filters, categories and frequency filters", config,
        out, (("--store",), dict(required=True)), (("--annotation",), dict(required=True)),
        (("--genes",), dict(required=True)), (("--knowledge",), dict(required=True)))
    add("prioritise", cmd_prioritise, "inheritance models, phenotype and ranking", config, out,
        (("--classified",), dict(required=True, nargs="+")),
        (("--store",), dict(required=True, nargs="+", help="the store shard of each classified "
                            "shard, in the same order (the calls are read from it)")),
        (("--genes",), dict(required=True)),
        (("--batch",), dict(default="1/1", help="I/N: the I-th of N batches of whole families "
                            "(default 1/1, every family)")),
        *paths(*people, "hpo_dir"))
    add("report", cmd_report, "history and the JSON, TSV and HTML reports", config, out,
        (("--prioritised",), dict(required=True, nargs="+",
                                  help="the output folder of every prioritise batch")),
        *paths(*people, "panelapp_snapshot", "gene_list", "hpo_dir", "history"))
    add("run", cmd_run, "every stage in this process (small cohorts; use Snakemake for "
        "clusters)", config)
    add("explain", cmd_explain, "every filter one call passed or failed, with the numbers",
        config, (("--sample",), dict(required=True)),
        (("--variant",), dict(required=True, help="chrom:pos:ref:alt")),
        (("--work",), dict(default=None, help="work folder of the run (default from config)")))
    add("config-schema", cmd_config_schema, "print the JSON Schema of the config as YAML",
        (("--out", "-o"), dict(default=None)))
    res = sub.add_parser("resources", help="reference snapshots: status and downloads")
    res_sub = res.add_subparsers(dest="resources_command", required=True)
    status = res_sub.add_parser("status", help="release, age and health of every snapshot")
    status.add_argument(*config[0], **config[1])
    status.set_defaults(func=cmd_resources_status)
    download = res_sub.add_parser("download", help="fetch a new snapshot of a source")
    download.add_argument("source", choices=["clinvar", "panelapp", "hpo"])
    download.add_argument(*config[0], **config[1])
    download.add_argument("--with-tables", action="store_true",
                          help="ClinVar: also submission_summary and variant_summary")
    download.set_defaults(func=cmd_resources_download)
    add("config-docs", cmd_config_docs, "print config/README.md (every key, generated)",
        (("--out", "-o"), dict(default=None)))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="heron %(levelname)s: %(message)s")
    try:
        return args.func(args) or 0
    except HeronError as exc:
        print(f"heron: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
