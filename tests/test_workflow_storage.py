"""The demo workflow under a default storage provider, the way it runs on Kubernetes.

Every job runs as its own Snakemake process in a new empty folder, as in a pod: the workflow's
sources reach it through the storage (``--job-deploy-sources``), its inputs are retrieved from
the storage and its outputs stored there, and the cohort's files are only in the storage. The
storage is a folder (snakemake-storage-plugin-fs, which copies with rsync) and the jobs are
started by snakemake-executor-plugin-cluster-sync through a script that makes each job's
folder. Skips when either plugin, rsync or git is missing.

Checks that the reports equal a local run's (dates and paths masked), that every job ran in a
folder of its own with nothing written next to the submitting process, and that the history
goes through the storage: a second invocation adds no run, a changed setting re-plans, a failed
report leaves the stored history as it was, and the next report adds its run to the stored one.
Also that heron's path options, which the rules pass their inputs through, replace the config's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from heron.cli import _config, build_parser
from tests.test_slurm import candidates, make_workspace, normalised

REPO = Path(__file__).resolve().parents[1]
# The demo takes about 25 s locally and about 2.5 min as one process per job on 2 cores.
RUN_TIMEOUT = 900


def _missing() -> str | None:
    for module, package in (("snakemake_storage_plugin_fs", "snakemake-storage-plugin-fs"),
                            ("snakemake_executor_plugin_cluster_sync",
                             "snakemake-executor-plugin-cluster-sync")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed"
    for tool, why in (("rsync", "the fs storage plugin copies with it"),
                      ("git", "Snakemake lists the workflow sources to ship with git ls-files")):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH ({why})"
    return None


def _env() -> dict[str, str]:
    """heron and snakemake of this environment first on PATH (jobs call `heron`)."""
    bin_dir = Path(sys.executable).parent
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


def snakemake(workdir: Path, args: list[str], log: Path, fail: bool = False) -> str:
    """Run Snakemake in ``workdir``; return its output. ``fail``: the run is expected to fail."""
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=RUN_TIMEOUT)
    log.write_text(result.stdout)
    assert (result.returncode != 0) == fail, \
        f"snakemake exited {result.returncode}:\n{result.stdout[-4000:]}"
    return result.stdout


def history_runs(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        con.close()


def jobs_run(log: str) -> list[str]:
    """Rules of the jobs a run started outside the submitting process (a group job's are
    listed indented under it; the job's own Snakemake, whose output the log also holds,
    calls the rule it runs a "localrule")."""
    return [line.split()[1].rstrip(":") for line in map(str.lstrip, log.splitlines())
            if line.startswith(("rule ", "checkpoint "))]


def ran_locally(log: str, rule: str) -> bool:
    """Whether the submitting process itself ran ``rule`` (one of the workflow's
    `localrules`)."""
    return any(line == f"localrule {rule}:" for line in log.splitlines())


@pytest.fixture(scope="module")
def storage_run(tmp_path_factory):
    """The demo run locally, and through the storage with one folder per job."""
    problem = _missing()
    if problem:
        pytest.skip(problem)
    root = tmp_path_factory.mktemp("storage")
    local = make_workspace(root / "local")
    snakemake(local, ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--cores", "2"],
              root / "local.log")

    remote = root / "remote"
    shutil.copytree(REPO / "resources" / "demo", remote / "resources" / "demo")
    # Started from a checkout: the jobs get the files git tracks here, and no data.
    run = root / "run"
    for folder in ("workflow", "config"):
        shutil.copytree(REPO / folder, run / folder)
    subprocess.run(["git", "init", "-q"], cwd=run, check=True)
    subprocess.run(["git", "add", "workflow", "config"], cwd=run, check=True)
    pods = root / "pods"
    pods.mkdir()
    pod = root / "pod.sh"
    pod.write_text(f'#!/bin/sh\nset -e\ncd "$(mktemp -d {pods}/job.XXXXXX)"\nexec sh "$1"\n')
    pod.chmod(0o755)
    args = ["--snakefile", "workflow/Snakefile", "--jobs", "2",
            "--executor", "cluster-sync", "--cluster-sync-submit-cmd", str(pod),
            "--job-deploy-sources", "--default-storage-provider", "fs",
            "--default-storage-prefix", str(remote), "--shared-fs-usage", "none",
            "--keep-incomplete", "--rerun-incomplete"]

    def again(*targets: str, log: str, fail: bool = False) -> str:
        return snakemake(run, [*targets, *args], root / log, fail=fail)

    refused = again(log="refused.log", fail=True)
    again("history_init", log="init.log")
    first = again(log="first.log")
    job_folders = sorted(pods.iterdir())
    reports = root / "first-reports"  # as the first run left them; later runs rewrite them
    shutil.copytree(remote / "results" / "demo", reports)
    return SimpleNamespace(local=local, remote=remote, run=run, job_folders=job_folders,
                           refused=refused, first=first, reports=reports, again=again)


def test_a_new_cohort_needs_its_history_started(storage_run):
    assert "has no history in storage" in storage_run.refused
    assert "history_init" in storage_run.refused


def test_reports_equal_a_local_run(storage_run):
    local = storage_run.local / "results" / "demo"
    local_report = json.loads((local / "report.json").read_text())
    stored_report = json.loads((storage_run.reports / "report.json").read_text())
    assert sum(len(c) for c in candidates(local_report).values()) > 0, "demo has candidates"
    assert candidates(stored_report) == candidates(local_report)
    assert normalised(stored_report, storage_run.remote) == \
        normalised(local_report, storage_run.local)
    for name in ("report.tsv", "seqr.json"):
        assert normalised((storage_run.reports / name).read_text(), storage_run.remote) == \
            normalised((local / name).read_text(), storage_run.local), name


def test_every_submitted_job_ran_in_its_own_folder(storage_run):
    ran = jobs_run(storage_run.first)
    assert {"plan", "ingest", "knowledge", "annotate", "genes", "classify",
            "prioritise", "report"} <= set(ran)
    # one folder per submitted job: a shard's annotate and classify share one (their rules'
    # group); the workflow's local rules ran in the submitting process
    assert ran_locally(storage_run.first, "heron_config") and "heron_config" not in ran
    assert ran.count("annotate") == ran.count("classify") >= 1
    assert len(storage_run.job_folders) == len(ran) - ran.count("annotate")
    for folder in storage_run.job_folders:
        assert (folder / "workflow" / "Snakefile").is_file(), "sources deployed from storage"
    # nothing of the run was written next to the submitting process: all of it is stored
    assert not (storage_run.run / "results").exists()
    assert not (storage_run.run / "work" / "demo").exists()
    stored = storage_run.remote
    assert len(list((stored / "work" / "demo").glob("heron-*.yaml"))) == 1
    for path in ("work/demo/plan.json", "work/demo/logs/report.log",
                 "results/demo/history.sqlite"):
        assert (stored / path).is_file(), path


def test_history_goes_through_storage(storage_run):
    history = storage_run.remote / "results" / "demo" / "history.sqlite"
    assert history_runs(history) == 1

    log = storage_run.again(log="unchanged.log")
    assert "report" not in jobs_run(log), "an unchanged cohort adds no run"
    assert history_runs(history) == 1
    # a changed setting re-plans the shards (the plan checkpoint runs again)
    log = storage_run.again("--dry-run", "--config", "run_date=2031-01-01", log="replan.log")
    assert {"heron_config", "plan", "report"} <= set(jobs_run(log))  # a dry run lists all

    before = history.read_bytes()
    batches = storage_run.remote / "work" / "demo" / "prioritised"
    candidates_tsv = sorted(batches.glob("*/candidates.tsv"))[0]
    kept = candidates_tsv.read_bytes()
    candidates_tsv.unlink()
    log = storage_run.again("--forcerun", "report", log="failed.log", fail=True)
    assert "Error in rule report" in log
    assert history.read_bytes() == before, "a failed report leaves the stored history alone"

    candidates_tsv.write_bytes(kept)
    # newer than the failed job's outputs even where storage keeps whole-second times
    later = time.time() + 5
    for path in (candidates_tsv, candidates_tsv.parent):
        os.utime(path, (later, later))
    log = storage_run.again(log="second.log")
    assert "report" in jobs_run(log)
    assert history_runs(history) == 2, "the report job got the stored history and added to it"
    report = json.loads((storage_run.remote / "results" / "demo" / "report.json").read_text())
    assert candidates(report) == candidates(json.loads(
        (storage_run.reports / "report.json").read_text()))


def test_path_options_replace_the_configs_paths(tmp_path, monkeypatch):
    """What lets a job read the copies Snakemake staged: each option replaces one config path
    (a list option the whole list), relative to the working directory; the rest stays."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "heron.yaml"
    config.write_text("cohort:\n  vcfs: [cohort/a.vcf.gz, cohort/b.vcf.gz]\n"
                      "  pedigree: cohort/demo.ped\nhistory:\n  path: old/history.sqlite\n")
    parser = build_parser()
    ingest = _config(parser.parse_args(["ingest", "--config", str(config), "--region", "*",
                                        "--out", "x", "--vcf", "staged/c.vcf.gz",
                                        "--sv-vcf", "staged/sv.vcf.gz"]))
    assert ingest.cohort.vcfs == [str(tmp_path / "staged" / "c.vcf.gz")]
    assert ingest.cohort.sv_vcfs == [str(tmp_path / "staged" / "sv.vcf.gz")]
    assert ingest.cohort.pedigree == str(tmp_path / "cohort" / "demo.ped")
    report = _config(parser.parse_args([
        "report", "--config", str(config), "--prioritised", "p", "--out", "o",
        "--pedigree", "/abs/demo.ped", "--hpo-dir", "staged/hpo",
        "--history", "staged/history.sqlite"]))
    assert report.cohort.pedigree == "/abs/demo.ped"
    assert report.phenotype.hpo_dir == str(tmp_path / "staged" / "hpo")
    assert report.history.path == str(tmp_path / "staged" / "history.sqlite")
    assert report.cohort.vcfs == [str(tmp_path / "cohort" / n) for n in ("a.vcf.gz", "b.vcf.gz")]
    plain = _config(parser.parse_args(["report", "--config", str(config), "--prioritised", "p",
                                       "--out", "o"]))
    assert plain.history.path == str(tmp_path / "old" / "history.sqlite")
