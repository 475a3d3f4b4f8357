"""``python -m benchmarks.performance --samples N --variants M --out DIR``

Generates the cohort into DIR/cohort (reused with --reuse when its size matches), times the
readers and every heron stage on it, and writes DIR/result.json and DIR/result.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from .generate import generate
from .genes import gene_table
from .harness import Run, result_json, result_markdown, time_heron, time_readers

DEFAULT_GENES = Path("..") / "shared" / "data" / "panelapp" / "api_v1_panels"


def _cohort(args) -> tuple[Path, Path, float]:
    folder = args.out / "cohort"
    stamp = folder / "size.json"
    size = {"samples": args.samples, "variants": args.variants, "seed": args.seed}
    if args.reuse and stamp.exists() and json.loads(stamp.read_text()) == size:
        return folder / "cohort.vcf.gz", folder / "heron.yaml", 0.0
    start = time.perf_counter()
    made = generate(folder, args.samples, args.variants, gene_table(args.genes), args.seed)
    stamp.write_text(json.dumps(size))
    return made.vcf, made.config, round(time.perf_counter() - start, 2)


def _with_shard_variants(config: Path, shard_variants: int) -> Path:
    """A copy of the cohort's config beside it with another ``ingest.shard_variants``."""
    settings = yaml.safe_load(config.read_text())
    settings.setdefault("ingest", {})["shard_variants"] = shard_variants
    out = config.with_name(f"heron.shard-{shard_variants}.yaml")
    out.write_text(yaml.safe_dump(settings, sort_keys=False))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.performance",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--variants", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="output folder (put it on "
                        "/tmp: the cohort VCF is large)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--genes", type=Path, default=DEFAULT_GENES,
                        help="folder of PanelApp API panel JSONs giving real genes")
    parser.add_argument("--sharding", choices=("plan", "whole"), default="plan",
                        help="plan: ingest/annotate/classify one job per `heron plan` region, "
                             "as the workflow does; whole: one job over the whole file")
    parser.add_argument("--cores", type=int, default=1,
                        help="run up to this many jobs of a stage at once (ingest, annotate and "
                             "classify per shard), as `snakemake --cores N` does; each figure "
                             "then has a wall time besides its sum over jobs")
    parser.add_argument("--shard-variants", type=int, default=None,
                        help="ingest.shard_variants for this run (default: the config's), "
                             "to cut the cohort into more shards")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an existing cohort of the same size instead of regenerating")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    vcf, config, gen_seconds = _cohort(args)
    if args.shard_variants is not None:
        config = _with_shard_variants(config, args.shard_variants)
    run = Run()
    failed = False
    try:
        time_readers(run, vcf, args.out)
        time_heron(run, vcf, config, args.sharding, args.cores)
    except RuntimeError as exc:  # keep the figures measured so far
        run.notes["error"] = str(exc)
        failed = True
    cohort = {"samples": args.samples, "variants": args.variants, "seed": args.seed,
              "vcf_mb": round(vcf.stat().st_size / 1e6, 1), "sharding": args.sharding,
              "shard_variants": args.shard_variants,
              "generate_seconds": gen_seconds}
    result = result_json(run, cohort)
    (args.out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "result.md").write_text(result_markdown(result))
    sys.stdout.write(result_markdown(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
