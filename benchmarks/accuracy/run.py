"""Run heron's real Snakemake workflow on a generated cohort and score it.

Layout under the output folder DIR:

    DIR/cohort/          the generated cohort (manifest.json, vcf/, cohort.ped, knowledge/)
    DIR/knowledge/       hard links of the knowledge files heron is given, per snapshot
    DIR/heron_<label>.yaml   the heron config of each run
    DIR/run/             Snakemake's working directory (--directory)
    DIR/work, DIR/work_before_<Y>   heron's work folders of the current / older-knowledge run
                         (the older one is removed once its report is copied; the current
                         one's stores are removed after scoring unless asked to keep them)
    DIR/report_<label>.json  each run's report (the current one also in DIR/results)
    DIR/results/         heron's reports and the reanalysis history shared by both runs
    DIR/logs/            Snakemake's output of each run
    DIR/result.json, DIR/result.md, DIR/cases.tsv   the score

The knowledge files are linked out of DIR/cohort because heron treats a ``manifest.json`` in any
parent folder of a resource as a snapshot manifest, and the cohort's manifest is not one.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cyvcf2
import yaml

from heron import __version__ as heron_version
from heron.errors import HeronError, InputError

from .generate import generate
from .score import Knowledge, markdown, read_audit, read_gene_sets, read_ped_affected, score, trim_variant, \
    write_cases_tsv

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
COHORT_NAME = "accuracy"
GENOME_BUILD = "GRCh38"
BASE_PANEL = 0  # the generator's union panel of all green genes
PANELAPP_URL = "https://panelapp.genomicsengland.co.uk/api/v1/"  # the snapshot is Genomics England's
MANIFEST_KEYS = ("seed", "n_cases_requested", "batch_size", "cut_year")


class WorkflowFailed(HeronError):
    """The heron workflow exited with an error on the benchmark cohort."""


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def cohort(self) -> Path:
        return self.root / "cohort"

    @property
    def knowledge(self) -> Path:
        return self.root / "knowledge"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def work(self, label: str) -> Path:
        return self.root / ("work" if label == "current" else f"work_{label}")

    def heron_outputs(self, label: str) -> tuple[list[Path], Path]:
        """(audit.tsv of every prioritise batch, genes.json) of one run."""
        work = self.work(label) / COHORT_NAME
        return sorted(work.glob("prioritised/*/audit.tsv")), work / "genes.json"


@dataclass
class RunStats:
    """One Snakemake run: wall seconds, CPU seconds and largest resident set of its process tree."""

    label: str
    run_date: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def manifest_matches(manifest: dict, cases: Path, n_cases: int, seed: int, batch_size: int,
                     cut_year: int | None) -> bool:
    """True when an existing cohort was generated with these arguments and its files exist."""
    wanted = {"seed": seed, "n_cases_requested": n_cases, "batch_size": batch_size, "cut_year": cut_year}
    if any(manifest.get(k) != wanted[k] for k in MANIFEST_KEYS):
        return False
    if Path(manifest.get("cases_file", "")).resolve() != Path(cases).resolve():
        return False
    return all(f is None or (Path(manifest["_dir"]) / f).exists() for f in _manifest_files(manifest))


def _manifest_files(manifest: dict) -> list[str | None]:
    files = manifest["files"]
    return [*files["vcfs"], files["ped"], files["clinvar"], files["clinvar_old"], files["panelapp"],
            files["panelapp_old"]]


def ensure_cohort(layout: Layout, cases: Path, n_cases: int, seed: int, data: Path, gene_table: Path | None,
                  batch_size: int, cut_year: int | None, log=print) -> tuple[dict, float]:
    """The cohort's manifest, generated unless DIR/cohort already holds the same one.

    Returns (manifest, seconds spent generating; 0 when reused)."""
    path = layout.cohort / "manifest.json"
    if path.exists():
        manifest = json.loads(path.read_text())
        manifest["_dir"] = str(layout.cohort)
        if manifest_matches(manifest, cases, n_cases, seed, batch_size, cut_year):
            log(f"reusing the cohort in {layout.cohort}")
            return manifest, 0.0
    if gene_table is None:
        raise InputError("no gene table to generate the cohort", hint="pass --gene-table or --download-gene-table")
    start = time.perf_counter()
    manifest = generate(Path(cases).resolve(), n_cases, seed, layout.cohort, data, gene_table,
                        batch_size=batch_size, cut_year=cut_year, log=log)
    manifest["_dir"] = str(layout.cohort)
    return manifest, time.perf_counter() - start


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:  # another file system
        shutil.copy2(src, dest)


def stage_knowledge(layout: Layout, manifest: dict) -> dict[str, dict[str, Path]]:
    """Link each knowledge snapshot out of the cohort folder: {label: {clinvar, panelapp}}."""
    files = manifest["files"]
    snapshots = {"current": (files["clinvar"], files["panelapp"])}
    if files.get("clinvar_old") and files.get("panelapp_old"):
        snapshots[f"before_{manifest['cut_year']}"] = (files["clinvar_old"], files["panelapp_old"])
    staged = {}
    for label, (clinvar, panelapp) in snapshots.items():
        folder = layout.knowledge / label
        for rel in (clinvar, clinvar + ".tbi", panelapp):
            _link(layout.cohort / rel, folder / Path(rel).name)
        staged[label] = {"clinvar": folder / Path(clinvar).name, "panelapp": folder / Path(panelapp).name}
    return staged


def panelapp_date(path: Path) -> str:
    """The snapshot's retrieval date (YYYY-MM-DD): the run date of the current-knowledge run."""
    with gzip.open(path, "rt") as handle:
        return json.load(handle)["retrieved"]


def heron_config(layout: Layout, manifest: dict, knowledge: dict[str, Path], label: str, run_date: str) -> dict:
    """The heron config of one run: every path absolute, nothing else changed from the defaults
    except the base panel (the generator's union panel) and PanelApp's site for links."""
    cohort = layout.cohort
    return {
        "cohort": {"name": COHORT_NAME, "vcfs": [str(cohort / v) for v in manifest["files"]["vcfs"]],
                   "pedigree": str(cohort / manifest["files"]["ped"]), "genome_build": GENOME_BUILD},
        "resources": {"clinvar": {"vcf": str(knowledge["clinvar"])},
                      "panelapp": {"snapshot": str(knowledge["panelapp"]), "base_url": PANELAPP_URL},
                      "base_panel": BASE_PANEL},
        "results_dir": str(layout.results), "work_dir": str(layout.work(label)), "run_date": run_date,
    }


def _bin_dir() -> Path:
    """The running interpreter's bin folder, where the ``heron`` and ``snakemake`` scripts live."""
    return Path(sys.executable).parent


def run_workflow(layout: Layout, config_path: Path, label: str, run_date: str, cores: int,
                 snakefile: Path = SNAKEFILE) -> RunStats:
    """Run ``snakemake`` on one config; wall time, CPU and peak RSS of its whole process tree.

    The peak is ``wait4``'s ru_maxrss for the Snakemake process, which Linux takes as the
    largest of the process and every descendant it waited for (heron's jobs).
    """
    bindir = _bin_dir()
    snakemake = bindir / "snakemake"
    cmd = [str(snakemake)] if snakemake.exists() else [sys.executable, "-m", "snakemake"]
    cmd += ["--cores", str(cores), "--snakefile", str(snakefile), "--directory", str(layout.run),
            "--configfile", str(config_path)]
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    layout.logs.mkdir(parents=True, exist_ok=True)
    log_path = layout.logs / f"snakemake_{label}.log"
    load_before = os.getloadavg()
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=layout.root)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise WorkflowFailed(_failure_text(layout, label, log_path, proc.returncode))
    return RunStats(label=label, run_date=run_date, wall_seconds=wall, cpu_seconds=usage.ru_utime + usage.ru_stime,
                    peak_rss_mb=usage.ru_maxrss / 1024.0, load_before=load_before, load_after=os.getloadavg())


def _failure_text(layout: Layout, label: str, log_path: Path, code: int) -> str:
    """The Snakemake error and the log of the heron job that failed."""
    text = [f"snakemake exited with {code} on the {label} run; its output: {log_path}"]
    tail = log_path.read_text().splitlines()[-15:]
    text += ["  " + line for line in tail]
    logs = sorted((layout.work(label) / COHORT_NAME / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime)
    failed = [p for p in logs if p.stat().st_size and ("Error" in p.read_text() or "error:" in p.read_text())]
    if failed:
        text += [f"heron log {failed[-1]}:"] + ["  " + line for line in failed[-1].read_text().splitlines()[-40:]]
    return "\n".join(text)


class BatchVcfs:
    """Looks up a causal variant's record and one sample's call in the batch VCFs (cyvcf2)."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.readers: dict[int, cyvcf2.VCF] = {}

    def __call__(self, batch: int, sample: str, chrom: str, pos: int, ref: str, alt: str) -> str:
        vcf = self.readers.setdefault(batch, cyvcf2.VCF(str(self.paths[batch])))
        col = vcf.samples.index(sample)
        want = trim_variant([pos], [ref], [alt])
        for record in vcf(f"{chrom}:{max(1, pos - 1)}-{pos + len(ref)}"):
            for j, a in enumerate(record.ALT):
                got = trim_variant([record.POS], [record.REF], [a])
                if all(x[0] == y[0] for x, y in zip(got, want)):
                    return "carrier" if j + 1 in record.genotypes[col][:2] else "not_carrier"
        return "absent"


def _clean(layout: Layout) -> None:
    """Remove earlier heron outputs so that the history holds exactly this benchmark's runs."""
    for folder in (layout.run, layout.results, layout.logs, *layout.root.glob("work*")):
        if folder.is_dir():
            shutil.rmtree(folder)


def load_knowledge(layout: Layout, label: str) -> Knowledge:
    """The outputs of a finished run (report.json is the last run's)."""
    audit, genes = layout.heron_outputs(label)
    report = json.loads((layout.results / COHORT_NAME / "report.json").read_text())
    cohort_manifest = json.loads((layout.cohort / "manifest.json").read_text())
    return Knowledge(report=report, audit=read_audit(audit),
                     affected=read_ped_affected(layout.cohort / cohort_manifest["files"]["ped"]),
                     gene_sets=read_gene_sets(genes))


def run_benchmark(out: Path, cases: Path, n_cases: int, seed: int, data: Path, gene_table: Path | None,
                  cut_year: int | None = 2020, cores: int = 2, batch_size: int = 100,
                  snakefile: Path = SNAKEFILE, score_only: bool = False, keep_work: bool = False,
                  log=print) -> dict:
    """Generate (or reuse) the cohort, run heron with the older then the current knowledge, score.

    score_only: skip the runs and score the outputs already in ``out`` (timings are read from
    ``out/runs.json``). keep_work: keep the current run's stores (for ``heron explain``); the
    older-knowledge run's work folder is always removed. Returns the result dict, also written to
    out/result.json.
    """
    layout = Layout(Path(out).resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    manifest, gen_seconds = ensure_cohort(layout, cases, n_cases, seed, data, gene_table, batch_size, cut_year,
                                          log)
    runs_path = layout.root / "runs.json"
    if score_only:
        if not runs_path.exists():
            raise InputError("no earlier run to score", path=str(runs_path), hint="run without --score-only first")
        runs = [RunStats(**r) for r in json.loads(runs_path.read_text())["runs"]]
    else:
        _clean(layout)
        staged = stage_knowledge(layout, manifest)
        current_date = panelapp_date(staged["current"]["panelapp"])
        plan = [(label, f"{manifest['cut_year']}-01-01") for label in staged if label != "current"]
        plan.append(("current", current_date))
        runs = []
        for label, run_date in plan:
            config_path = layout.root / f"heron_{label}.yaml"
            config_path.write_text(yaml.safe_dump(heron_config(layout, manifest, staged[label], label, run_date),
                                                  sort_keys=False))
            log(f"heron run with the {label} knowledge (run date {run_date}) ...")
            runs.append(run_workflow(layout, config_path, label, run_date, cores, snakefile))
            log(f"  {runs[-1].wall_seconds:.0f} s wall, {runs[-1].cpu_seconds:.0f} s CPU, "
                f"peak RSS {runs[-1].peak_rss_mb:.0f} MB")
            shutil.copy2(layout.results / COHORT_NAME / "report.json", layout.root / f"report_{label}.json")
            if label != "current":  # only its report is scored; its stores grow with the cohort squared
                shutil.rmtree(layout.work(label))
        runs_path.write_text(json.dumps({"generate_seconds": gen_seconds, "runs": [asdict(r) for r in runs]},
                                        indent=1))
    old = [r for r in runs if r.label != "current"]
    old_report = json.loads((layout.root / f"report_{old[0].label}.json").read_text()) if old else None
    vcfs = BatchVcfs([layout.cohort / v for v in manifest["files"]["vcfs"]])
    result, cases_table = score(manifest, load_knowledge(layout, "current"), vcfs, old_report)
    current = next(r for r in runs if r.label == "current")
    result.update({
        "seed": seed, "n_cases_requested": n_cases, "cut_year": manifest["cut_year"],
        "cases_file": str(Path(cases).resolve()), "heron_version": heron_version, "cores": cores,
        "cpu_count": os.cpu_count(),
        "wall_seconds": current.wall_seconds, "cpu_seconds": current.cpu_seconds, "peak_rss_mb": current.peak_rss_mb,
        "wall_seconds_all_runs": sum(r.wall_seconds for r in runs),
        "peak_rss_mb_all_runs": max(r.peak_rss_mb for r in runs),
        "peak_rss_mb_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0 if not score_only
        else None,
        "generate_seconds": gen_seconds if not score_only else json.loads(runs_path.read_text())["generate_seconds"],
        "runs": [asdict(r) for r in runs],
        "cohort_counts": manifest["counts"],
    })
    (layout.root / "result.json").write_text(json.dumps(result, indent=1))
    (layout.root / "result.md").write_text(markdown(result))
    write_cases_tsv(cases_table, layout.root / "cases.tsv")
    if not keep_work:
        prune_work(layout)
    return result


def prune_work(layout: Layout) -> None:
    """Drop the current run's columnar stores (tens of GB for 1,000 cases); the audit trail,
    candidates, gene sets and logs stay, which is all the score reads."""
    work = layout.work("current") / COHORT_NAME
    for folder in (work / "store", work / "annotation", work / "classified",
                   *work.glob("prioritised/*/shard")):
        if folder.is_dir():
            shutil.rmtree(folder)
