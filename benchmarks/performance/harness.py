"""Time every reader and every heron stage on one generated cohort, each as a child process.

Wall time comes from a monotonic clock around the child; peak RSS from the child's own
rusage (``os.wait4``), so a figure never mixes in the harness or an earlier child. heron runs
as its real CLI with the cohort's config, stage by stage as the workflow calls it: ``plan``,
then ``ingest`` per region (``sharding="plan"``; or once over the whole file with
``sharding="whole"``), ``knowledge``, ``annotate`` per shard, ``genes``, ``classify`` per
shard, ``prioritise``, ``report``. A stage's time is the sum over its jobs (one core), its RSS
the largest job's; its wall time is how long the stage took with up to ``cores`` of its jobs
running at once, as Snakemake runs a stage's independent jobs. ``first_analysis`` is
everything after ingest, right after it; ``reanalysis`` (and each stage's figure) the same
stages run again over the same store, as next month's run; ``reanalysis_cold`` once more with
the cohort folder's files (store, caches, resources) dropped from the page cache first, as
they are after a month of other work.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# bcftools filter equivalent to heron's pre-filter (rare in gnomAD, missing counts as rare)
# and category consequences
BCFTOOLS_FILTER = ('(INFO/gnomad_AF<0.01 || INFO/gnomad_AF=".") && INFO/CSQ~"stop_gained|'
                   'frameshift|splice_acceptor|splice_donor|start_lost|stop_lost|missense|'
                   'inframe"')
_REPO = Path(__file__).resolve().parents[2]
_GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
REANALYSIS = ("heron_knowledge", "heron_annotate", "heron_genes", "heron_classify",
              "heron_prioritise", "heron_report")


@dataclass
class Step:
    """One timed figure: seconds summed over its jobs, wall seconds from its first job's
    start to its last job's end (the same with one core), the largest peak RSS (MB)."""

    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    jobs: int = 0
    wall: float = 0.0

    def add(self, seconds: float, rss_mb: float) -> None:
        self.seconds += seconds
        self.peak_rss_mb = max(self.peak_rss_mb, rss_mb)
        self.jobs += 1


@dataclass
class Run:
    """Figures of one harness run; ``skipped`` names figures not measured and why."""

    steps: dict[str, Step] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


def run_child(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; (wall seconds, peak RSS MB). Raises RuntimeError, with the end of its
    stderr, on failure.

    The peak RSS is GNU time's (``/usr/bin/time``) when it exists: Linux charges a child the
    memory of the process it was forked from, and GNU time is a small process to fork from.
    Without it the child's own rusage is used, which then includes the harness's size.
    """
    env = dict(os.environ)
    # the readers run as `python -m benchmarks.performance.floor` from another folder
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH")) if p)
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss_file:
        wrapped = ([_GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd] if _GNU_TIME else cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                               f"{err.decode(errors='replace')[-2000:]}")
        kib = int(Path(rss_file.name).read_text().split()[-1]) if _GNU_TIME else usage.ru_maxrss
    return seconds, kib / 1024


def _timed(run: Run, name: str, cmd: list[str], cwd: Path) -> None:
    _timed_jobs(run, name, [cmd], cwd, cores=1)


def _timed_jobs(run: Run, name: str, cmds: list[list[str]], cwd: Path, cores: int) -> None:
    """The independent jobs of one stage, up to ``cores`` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, cores)) as pool:
        done = list(pool.map(lambda cmd: run_child(cmd, cwd), cmds))
    step = run.steps.setdefault(name, Step())
    for seconds, rss in done:
        step.add(seconds, rss)
    step.wall += time.perf_counter() - start


def _heron() -> list[str]:
    exe = Path(sys.executable).with_name("heron")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "heron.cli"]


def time_readers(run: Run, vcf: Path, cwd: Path) -> None:
    """bgzip -dc, the cyvcf2 loop, heron's compiled reader and bcftools view."""
    py = [sys.executable, "-m", "benchmarks.performance.floor"]
    if shutil.which("bgzip"):
        _timed(run, "bgzip_dc", ["bgzip", "-dc", str(vcf)], cwd)
    else:
        run.notes["bgzip_dc"] = "no bgzip binary: htslib BGZF through pysam"
        _timed(run, "bgzip_dc", py + ["decompress", str(vcf)], cwd)
    _timed(run, "cyvcf2_loop", py + ["cyvcf2", str(vcf)], cwd)
    try:
        import numba  # noqa: F401
    except ImportError:
        run.skipped["fastparse"] = "numba is not installed"
    else:
        run_child(py + ["fastparse", str(_head(vcf, cwd))], cwd)  # compiles, untimed
        _timed(run, "fastparse", py + ["fastparse", str(vcf)], cwd)
    if shutil.which("bcftools"):
        _timed(run, "bcftools_view", ["bcftools", "view", "-i", BCFTOOLS_FILTER, "-Ou", "-o",
                                      os.devnull, str(vcf)], cwd)
        run.notes["bcftools_filter"] = BCFTOOLS_FILTER
    else:
        run.skipped["bcftools_view"] = ("bcftools is not installed (Debian: apt-get install "
                                        "bcftools); ratios to it are not computed")


def _head(vcf: Path, folder: Path, records: int = 50) -> Path:
    """``folder/head.vcf.gz``: the header and first records of ``vcf``. Reading it first
    compiles the compiled reader's kernels for this file's types (numba caches them on
    disk), so that the timed runs measure reading, not a first-use compilation."""
    import gzip

    import pysam

    out = folder / "head.vcf.gz"
    with gzip.open(vcf, "rb") as src, pysam.BGZFile(str(out), "wb") as dst:
        kept = 0
        for line in src:
            dst.write(line)
            kept += not line.startswith(b"#")
            if kept == records:
                break
    return out


def _compile_heron() -> None:
    """heron's modules compiled to bytecode, as an installed package's are (pip compiles at
    install, an editable install on first import): otherwise, where PYTHONDONTWRITEBYTECODE
    is set, every job would compile heron's source again and the figures would count it."""
    spec = importlib.util.find_spec("heron")
    for folder in spec.submodule_search_locations or ():
        compileall.compile_dir(folder, quiet=1)


def time_heron(run: Run, vcf: Path, config: Path, sharding: str, cores: int = 1) -> None:
    """Every heron stage as the workflow runs it over ``vcf`` (the one ``config`` names); work
    files go to the config's folder's work/."""
    heron, cfg, cohort = _heron(), ["--config", str(config)], config.parent
    work = cohort / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(cohort / "results", ignore_errors=True)
    work.mkdir()
    if sharding == "plan":
        _timed(run, "heron_plan", heron + ["plan", *cfg, "--out", str(work / "plan.json")], cohort)
        regions = json.loads((work / "plan.json").read_text())["regions"]
    else:
        regions = ["*"]
    _compile_heron()
    run_child(heron + ["ingest", *cfg, "--vcf", str(_head(vcf, work)),
                       "--region", "*", "--out", str(work / "head")], cohort)  # compiles
    run.notes["shards"] = len(regions)
    run.notes["cores"] = cores
    store = {f"s{i:03d}": str(work / "store" / f"s{i:03d}") for i in range(len(regions))}
    _timed_jobs(run, "heron_ingest", [heron + ["ingest", *cfg, "--region", region, "--out",
                                               path]
                                      for region, path in zip(regions, store.values())],
                cohort, cores)
    # the analysis right after ingest, then next month's over the same store: the work
    # folder's caches (the HPO arrays) and the history are there, every other output is made
    # again, as the workflow does when the knowledge changes
    first = Run()
    _analyse(first, heron, cfg, work, store, cohort, cores)
    run.steps["first_analysis"] = _total(first.steps, REANALYSIS)
    _clear_outputs(work)
    _analyse(run, heron, cfg, work, store, cohort, cores)
    run.steps["reanalysis"] = _total(run.steps, REANALYSIS)
    # and once more with the cohort's files out of the page cache, as they are a month later:
    # the store's call matrices are then read from disk
    if not hasattr(os, "posix_fadvise"):
        run.skipped["reanalysis_cold"] = "this system cannot drop files from the page cache"
        return
    _clear_outputs(work)
    _evict(cohort)
    cold = Run()
    _analyse(cold, heron, cfg, work, store, cohort, cores)
    run.steps["reanalysis_cold"] = _total(cold.steps, REANALYSIS)
    run.notes["reanalysis_cold_seconds"] = {k: round(s.seconds, 3) for k, s in cold.steps.items()}


def _clear_outputs(work: Path) -> None:
    """Remove what the stages after ingest made, as a run with new knowledge makes it again."""
    for name in ("knowledge", "annotation", "classified", "prioritised", "genes.json"):
        path = work / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _evict(folder: Path) -> None:
    """Drop every file under ``folder`` from the page cache (written back first)."""
    os.sync()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _analyse(run: Run, heron: list[str], cfg: list[str], work: Path, store: dict[str, str],
             cohort: Path, cores: int) -> None:
    """The stages after ingest over the ``store`` shards (``heron``: the CLI; ``cfg``: its
    --config)."""
    annotation, classified = ({shard: str(work / stage / shard) for shard in store}
                              for stage in ("annotation", "classified"))
    knowledge, genes, prioritised = (str(work / name) for name in
                                     ("knowledge", "genes.json", "prioritised"))
    _timed(run, "heron_knowledge", heron + ["knowledge", *cfg, "--out", knowledge], cohort)
    _timed_jobs(run, "heron_annotate", [
        heron + ["annotate", *cfg, "--store", path, "--knowledge", knowledge,
                 "--out", annotation[shard]] for shard, path in store.items()], cohort, cores)
    _timed(run, "heron_genes", heron + ["genes", *cfg, "--out", genes], cohort)
    _timed_jobs(run, "heron_classify", [
        heron + ["classify", *cfg, "--store", path, "--annotation", annotation[shard],
                 "--genes", genes, "--knowledge", knowledge, "--out", classified[shard]]
        for shard, path in store.items()], cohort, cores)
    _timed(run, "heron_prioritise", heron + [
        "prioritise", *cfg, "--classified", *classified.values(), "--store", *store.values(),
        "--genes", genes, "--out", prioritised], cohort)
    _timed(run, "heron_report", heron + ["report", *cfg, "--prioritised", prioritised,
                                         "--out", str(cohort / "results")], cohort)


def _total(steps: dict[str, Step], names: tuple[str, ...]) -> Step:
    """The stages ``names`` as one figure: seconds and wall summed, the largest RSS."""
    total = Step()
    for name in names:
        total.seconds += steps[name].seconds
        total.wall += steps[name].wall
        total.peak_rss_mb = max(total.peak_rss_mb, steps[name].peak_rss_mb)
        total.jobs += steps[name].jobs
    return total


def ratios(steps: dict[str, Step]) -> dict[str, float | None]:
    """heron's figures over the floor (bgzip -dc, cyvcf2) and the baseline (bcftools view);
    ``*_wall_*``: a stage's elapsed time with several jobs at once over bcftools view's."""
    def over(a: str, b: str, measure: str = "seconds") -> float | None:
        if a not in steps or b not in steps or steps[b].seconds <= 0:
            return None
        return round(getattr(steps[a], measure) / steps[b].seconds, 4)

    out = {}
    for heron in ("heron_ingest", "reanalysis"):
        for base in ("bcftools_view", "bgzip_dc", "cyvcf2_loop"):
            out[f"{heron}_over_{base}"] = over(heron, base)
        out[f"{heron}_wall_over_bcftools_view"] = over(heron, "bcftools_view", "wall")
    out["fastparse_over_bcftools_view"] = over("fastparse", "bcftools_view")
    out["fastparse_over_cyvcf2_loop"] = over("fastparse", "cyvcf2_loop")
    return out


def versions() -> dict[str, str]:
    """Versions of the tools measured, for the record."""
    import cyvcf2
    import numpy
    import pysam

    out = {"python": platform.python_version(), "numpy": numpy.__version__,
           "cyvcf2": cyvcf2.__version__, "pysam": pysam.__version__,
           "cpu": platform.processor() or platform.machine(), "cpus": str(os.cpu_count())}
    for tool in ("bcftools", "bgzip"):
        if shutil.which(tool):
            first = subprocess.run([tool, "--version"], capture_output=True, text=True)
            out[tool] = first.stdout.splitlines()[0] if first.stdout else "?"
    try:
        import numba
        out["numba"] = numba.__version__
    except ImportError:
        pass
    return out


def result_json(run: Run, cohort: dict) -> dict:
    """The machine-readable result: seconds and peak RSS (MB) per figure, and the ratios."""
    r = ratios(run.steps)
    return {
        "cohort": cohort,
        "seconds": {k: round(s.seconds, 3) for k, s in run.steps.items()},
        "wall_seconds": {k: round(s.wall, 3) for k, s in run.steps.items()},
        "peak_rss_mb": {k: round(s.peak_rss_mb, 1) for k, s in run.steps.items()},
        "jobs": {k: s.jobs for k, s in run.steps.items()},
        "heron_ingest_over_bcftools_view": r["heron_ingest_over_bcftools_view"],
        "reanalysis_over_bcftools_view": r["reanalysis_over_bcftools_view"],
        "ratios": r,
        "skipped": run.skipped,
        "notes": run.notes,
        "versions": versions(),
    }


def result_markdown(result: dict) -> str:
    """A short Markdown table of the result."""
    c = result["cohort"]
    lines = [f"# heron performance: {c['samples']} samples x {c['variants']} variants",
             "", f"VCF {c['vcf_mb']} MB bgzipped; sharding {c['sharding']} "
             f"({result['notes'].get('shards', '?')} shards, up to "
             f"{result['notes'].get('cores', 1)} jobs at once); generated in "
             f"{c['generate_seconds']} s.", "",
             "| figure | seconds (sum of jobs) | wall seconds | peak RSS (MB) | jobs |",
             "|---|---:|---:|---:|---:|"]
    for name, sec in result["seconds"].items():
        lines.append(f"| {name} | {sec:.2f} | {result['wall_seconds'][name]:.2f} | "
                     f"{result['peak_rss_mb'][name]:.0f} | {result['jobs'][name]} |")
    lines += ["", "| ratio | value |", "|---|---:|"]
    lines += [f"| {k} | {'n/a' if v is None else f'{v:.3f}'} |"
              for k, v in result["ratios"].items()]
    for name, why in result["skipped"].items():
        lines.append(f"\nSkipped {name}: {why}")
    if "error" in result["notes"]:
        lines.append(f"\nStopped early: {result['notes']['error']}")
    return "\n".join(lines) + "\n"
