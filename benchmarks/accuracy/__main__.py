"""Command line: ``python -m benchmarks.accuracy generate ...`` writes the cohort;
``python -m benchmarks.accuracy run ...`` also runs heron's workflow on it and scores the result."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from heron.errors import HeronError

from .cases import read_pub_years
from .genes import DEFAULT_CACHE, resolve_gene_table
from .generate import generate
from .run import SNAKEFILE, run_benchmark

DEFAULT_DATA = Path("..") / "shared" / "data"
DEFAULT_CASES = DEFAULT_DATA / "phenopacket-store" / "phenopackets.dev.jsonl.gz"


def _generate(args: argparse.Namespace) -> int:
    gene_table = resolve_gene_table(args.gene_table, Path(args.cache_dir), download=args.download_gene_table)
    pub_years = read_pub_years(args.pub_years) if args.pub_years else None
    start = time.perf_counter()
    manifest = generate(args.cases, args.n_cases, args.seed, args.out, args.data, gene_table,
                        batch_size=args.batch_size, cut_year=args.cut_year, pub_years=pub_years,
                        compress_level=args.compress_level,
                        log=(lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr)))
    counts = manifest["counts"]
    print(f"{counts['cases']} cases ({counts['in_scope']} in scope), {counts['samples']} samples, "
          f"{len(manifest['batches'])} batches, {time.perf_counter() - start:.1f} s -> {args.out}/manifest.json")
    return 0


def _run(args: argparse.Namespace) -> int:
    gene_table = None
    if not args.score_only:
        try:
            gene_table = resolve_gene_table(args.gene_table, Path(args.cache_dir), download=args.download_gene_table)
        except HeronError:
            if not (args.out / "cohort" / "manifest.json").exists():
                raise
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    result = run_benchmark(args.out, args.cases, args.n_cases, args.seed, args.data, gene_table,
                           cut_year=args.cut_year or None, cores=args.cores, batch_size=args.batch_size,
                           snakefile=args.snakefile, score_only=args.score_only, keep_work=args.keep_work, log=log)
    alerts = result["reanalysis_alerts_per_patient"]
    print(f"recall {result['recall']:.3f} ({result['n_found']}/{result['n_in_scope']} in scope), "
          f"candidates/patient {result['candidates_per_patient_mean']:.2f}, "
          f"controls {result['negative_control_candidates_mean']:.2f}, top-1 {result['top1']:.3f}, "
          f"alerts/patient {'-' if alerts is None else f'{alerts:.2f}'}, wall {result['wall_seconds']:.0f} s, "
          f"peak RSS {result['peak_rss_mb']:.0f} MB -> {args.out}/result.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy",
                                     description="Accuracy benchmark: published patients in a simulated cohort.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the cohort VCFs, pedigree, knowledge snapshots and manifest")
    gen.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="phenopacket JSON-lines file (.jsonl[.gz])")
    gen.add_argument("--n-cases", type=int, required=True, help="number of cases to draw")
    gen.add_argument("--seed", type=int, required=True, help="seed of every random choice")
    gen.add_argument("--out", type=Path, required=True, help="output folder")
    gen.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared real-data folder (vcf/, panelapp/)")
    gen.add_argument("--batch-size", type=int, default=100, help="cases per joint-called VCF batch")
    gen.add_argument("--cut-year", type=int, default=None,
                     help="also write the older knowledge snapshot (publications before this year)")
    gen.add_argument("--gene-table", type=Path, default=None,
                     help="SpliceAI grch38.txt (or the spliceai wheel); default: the cached copy")
    gen.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the gene table is cached")
    gen.add_argument("--download-gene-table", action="store_true",
                     help="fetch spliceai==1.3.1 with pip into the cache if the table is missing")
    gen.add_argument("--pub-years", type=Path, default=None,
                     help="TSV publication<TAB>year overriding years estimated from PubMed ids")
    gen.add_argument("--compress-level", type=int, default=3, help="BGZF deflate level of the cohort VCFs")
    gen.add_argument("--quiet", action="store_true", help="no progress messages")
    gen.set_defaults(func=_generate)
    run = sub.add_parser("run", help="generate (or reuse) the cohort, run heron's workflow on it, score it")
    run.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="phenopacket JSON-lines file (.jsonl[.gz])")
    run.add_argument("--n-cases", type=int, required=True, help="number of cases to draw")
    run.add_argument("--seed", type=int, required=True, help="seed of every random choice")
    run.add_argument("--out", type=Path, required=True, help="output folder (the cohort goes to OUT/cohort)")
    run.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared real-data folder (vcf/, panelapp/)")
    run.add_argument("--cut-year", type=int, default=2020,
                     help="older knowledge for the reanalysis test: publications before this year (0: no test)")
    run.add_argument("--cores", type=int, default=2, help="Snakemake --cores")
    run.add_argument("--batch-size", type=int, default=100, help="cases per joint-called VCF batch")
    run.add_argument("--gene-table", type=Path, default=None,
                     help="SpliceAI grch38.txt (or the spliceai wheel); default: the cached copy")
    run.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the gene table is cached")
    run.add_argument("--download-gene-table", action="store_true",
                     help="fetch spliceai==1.3.1 with pip into the cache if the table is missing")
    run.add_argument("--snakefile", type=Path, default=SNAKEFILE, help="heron's workflow")
    run.add_argument("--score-only", action="store_true", help="score the heron outputs already in OUT")
    run.add_argument("--keep-work", action="store_true",
                     help="keep heron's columnar stores of the current run (for heron explain; large)")
    run.add_argument("--quiet", action="store_true", help="no progress messages")
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HeronError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
