"""The demo workflow through ``--executor slurm`` on a running SLURM cluster.

Checks that every rule of the workflow ran in a SLURM job (a shard's annotate and classify
in one) that accounting (sacct) saw complete, and that the report equals a local run's. Needs a cluster with accounting
(``tests/cluster/start-slurm.sh`` starts a one-node one on this machine) and the
executor plugin (``pip install snakemake-executor-plugin-slurm``); skips otherwise.
Every wait is bounded, so a broken cluster fails in minutes.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
PROFILE = REPO / "profiles" / "slurm"
DEMO_CONFIG = REPO / "config" / "config.yaml"

# Bounds: a SLURM command answers in seconds; the demo takes about 1 min locally and
# about 5 min on a loaded 2-core one-node cluster; accounting lags job ends by seconds.
COMMAND_TIMEOUT = 30
LOCAL_RUN_TIMEOUT = 600
SLURM_RUN_TIMEOUT = 1200
ACCOUNTING_WAIT = 60
# One user on a one-node cluster: poll sacct more often than the profile does (saves about
# a minute of the demo's ~4 min on SLURM).
STATUS_CHECK_SECONDS = "3"
# Snakemake runs a rule without a command (the target rule) in its own process.
# rules Snakemake runs in its own process: the target and the workflow's `localrules`
LOCAL_RULES = frozenset({"all", "heron_config"})
# a shard's annotate and classify run as one group job (the rules' group "shard"), which the
# executor names after the group and its rules
SHARD_GROUP = "shard_annotate_classify"

# Report fields that differ between two runs of the same inputs in different directories,
# besides dates and paths: the digest covers the config with its resolved paths.
RUN_SPECIFIC = frozenset({"config_digest"})
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


def _slurm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def _cluster_problem() -> str | None:
    """Why the SLURM test cannot run here, or None when a usable cluster answers."""
    for tool in ("sbatch", "squeue", "sacct", "scontrol", "sinfo"):
        if shutil.which(tool) is None:
            return f"{tool} not on PATH (start a test cluster with tests/cluster/start-slurm.sh)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install '.[cluster]')"
    try:
        ping = _slurm("scontrol", "ping")
        if ping.returncode != 0 or "UP" not in ping.stdout:
            said = (ping.stdout + ping.stderr).strip().splitlines() or ["no output"]
            return f"slurmctld does not answer: {said[-1]}"
        nodes = _slurm("sinfo", "-h", "-o", "%T")
        if not re.search(r"^(idle|mixed|allocated|completing)", nodes.stdout, re.M):
            return f"no SLURM node accepts jobs (node states: {nodes.stdout.split()})"
        acct = _slurm("sacct", "-n", "-X", "--starttime", "now-1minutes")
        if acct.returncode != 0:
            return ("SLURM accounting (slurmdbd) does not answer, and the executor "
                    f"follows jobs through sacct: {acct.stderr.strip()}")
    except subprocess.TimeoutExpired as err:
        return f"SLURM did not answer within {COMMAND_TIMEOUT}s: {err.cmd}"
    return None


@pytest.fixture(scope="module")
def slurm_env() -> dict[str, str]:
    """Environment for workflow runs: heron on PATH, the cluster's account and partition."""
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)
    env = dict(os.environ)
    # Jobs inherit the submitting environment (sbatch --export=ALL) and call `heron`.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if not env.get("HERON_SLURM_ACCOUNT"):
        user = pwd.getpwuid(os.getuid()).pw_name
        account = _slurm("sacctmgr", "-n", "-P", "show", "user", user,
                         "format=DefaultAccount").stdout.strip()
        if account:
            env["HERON_SLURM_ACCOUNT"] = account.splitlines()[0]
    return env


def make_workspace(root: Path) -> Path:
    """A working directory holding a copy of the demo config with its own results/work dirs.

    Relative paths in the demo config stay valid through symlinks to the repository's
    top-level folders they name (e.g. resources/).
    """
    root.mkdir(parents=True)
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    # Outputs (and anything under them, like a history file) stay in the workspace.
    own = {Path(config.pop(key, key.split("_")[0])).parts[0]
           for key in ("results_dir", "work_dir")} | {"results", "work"}

    def link_paths(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                link_paths(item)
        elif isinstance(value, list):
            for item in value:
                link_paths(item)
        elif isinstance(value, str) and not Path(value).is_absolute() \
                and (REPO / value).exists():
            top = Path(value).parts[0]
            if top not in own and not (root / top).exists():
                (root / top).symlink_to(REPO / top)

    link_paths(config)
    config["results_dir"], config["work_dir"] = "results", "work"
    (root / "config").mkdir()
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def run_snakemake(workdir: Path, args: list[str], env: dict[str, str], timeout: int,
                  log: Path) -> float:
    """Run the workflow in ``workdir``; return its wall time in seconds.

    On timeout Snakemake gets SIGINT first, so that it cancels its SLURM jobs itself.
    """
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
           "--directory", str(workdir), *args]
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _cancel_run(log)
            pytest.fail(f"snakemake did not finish within {timeout}s; log:\n"
                        f"{_tail(log)}")
    if rc != 0:
        _cancel_run(log)
        pytest.fail(f"snakemake exited {rc}; log:\n{_tail(log)}\n{_failed_job_logs(workdir)}")
    return time.monotonic() - start


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _failed_job_logs(workdir: Path) -> str:
    """The SLURM logs the executor kept (it deletes those of successful jobs)."""
    logs = sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    return "\n".join(f"--- {p}\n{_tail(p, 20)}" for p in logs[:5])


def _run_id(log: Path) -> str | None:
    found = re.search(r"SLURM run ID: (\S+)", log.read_text(errors="replace"))
    return found.group(1) if found else None


def _cancel_run(log: Path) -> None:
    """Cancel whatever a failed run left in the queue (its jobs share the run id as name)."""
    run_id = _run_id(log)
    if run_id:
        subprocess.run(["scancel", "--name", run_id], capture_output=True,
                       timeout=COMMAND_TIMEOUT)


def planned_jobs(workdir: Path, env: dict[str, str]) -> Counter:
    """Jobs per rule that a full run of the workflow consists of (from a dry run)."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory",
         str(workdir), "--dry-run", "--forceall", "--cores", "1"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT * 4)
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "Job stats:" in text, text
    table = text.split("Job stats:", 1)[1]
    counts = Counter()
    for line in table.splitlines()[3:]:
        fields = line.split()
        if len(fields) != 2 or fields[0] == "total":
            break
        counts[fields[0]] = int(fields[1])
    assert counts, f"no job stats in the dry run:\n{text}"
    return counts


def submitted_jobs(log: Path) -> dict[str, str]:
    """SLURM job id → rule (or group job), as the executor reported each submission."""
    pattern = re.compile(r"submitted with SLURM jobid (\d+) \(log: \S*/(?:rule|group)_([^/\s]+)/")
    return {m.group(1): m.group(2) for m in pattern.finditer(log.read_text(errors="replace"))}


def accounted_jobs(run_id: str, since: datetime, expected: int) -> list[dict[str, str]]:
    """sacct's records of the run's jobs, waiting (bounded) until all ``expected`` are in."""
    deadline = time.monotonic() + ACCOUNTING_WAIT
    while True:
        out = _slurm("sacct", "-X", "-P", "-n", "--allusers", "--name", run_id,
                     "--starttime", since.strftime("%Y-%m-%dT%H:%M:%S"),
                     "--format=JobIDRaw,State,Comment")
        assert out.returncode == 0, out.stderr
        rows = [dict(zip(("id", "state", "comment"), line.split("|", 2)))
                for line in out.stdout.splitlines() if line.strip()]
        done = [r for r in rows if r["state"] not in ("PENDING", "RUNNING", "COMPLETING")]
        if len(done) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(2)


def normalised(value, workdir: Path):
    """A report with what differs between two runs of the same inputs masked: dates,
    the run's own directory and the RUN_SPECIFIC fields."""
    if isinstance(value, dict):
        return {k: "<run-specific>" if k in RUN_SPECIFIC else normalised(v, workdir)
                for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, workdir) for v in value]
    if isinstance(value, str):
        return ISO_DATE.sub("<date>", value.replace(str(workdir), "<run>"))
    return value


def candidates(report: dict) -> dict[str, list[tuple]]:
    """Each sample's candidates as (variant, gene, MOI, rank, score), in report order."""
    return {
        sample: [(c["variant_id"], c["gene"], c["moi"], c["rank"], c["score"])
                 for c in entry["candidates"]]
        for sample, entry in report["samples"].items()
    }


def test_demo_workflow_on_slurm_matches_local_run(slurm_env, tmp_path):
    local = make_workspace(tmp_path / "local")
    cluster = make_workspace(tmp_path / "slurm")
    plan = planned_jobs(local, slurm_env)
    expected = Counter({rule: n for rule, n in plan.items() if rule not in LOCAL_RULES})
    shards = expected.pop("annotate")
    assert expected.pop("classify") == shards
    expected[SHARD_GROUP] = shards

    local_seconds = run_snakemake(local, ["--cores", "2"], slurm_env, LOCAL_RUN_TIMEOUT,
                                  tmp_path / "local.log")
    # sacct's start time has a resolution of seconds; leave a margin for clock steps.
    since = datetime.now() - timedelta(minutes=1)
    log = tmp_path / "slurm.log"
    slurm_seconds = run_snakemake(
        cluster, ["--profile", str(PROFILE),
                  "--slurm-init-seconds-before-status-checks", STATUS_CHECK_SECONDS,
                  "--seconds-between-status-checks", STATUS_CHECK_SECONDS],
        slurm_env, SLURM_RUN_TIMEOUT, log)
    print(f"demo workflow wall time: local {local_seconds:.0f}s, SLURM {slurm_seconds:.0f}s")

    run_id = _run_id(log)
    assert run_id, f"no SLURM run id in the log:\n{_tail(log)}"
    submitted = submitted_jobs(log)
    assert Counter(submitted.values()) == expected, "jobs submitted to SLURM per rule or group"

    records = accounted_jobs(run_id, since, len(submitted))
    assert {r["id"] for r in records} == set(submitted), "sacct lists exactly the run's jobs"
    assert {r["id"]: r["state"] for r in records} == dict.fromkeys(submitted, "COMPLETED")
    # The executor writes `rule_<name>[_wildcards_...]` into each job's comment; clusters
    # that do not store comments (AccountingStoreFlags=job_comment) leave it empty.
    comments = {r["id"]: r["comment"] for r in records if r["comment"]}
    for job_id, comment in comments.items():
        assert re.match(rf"rule_{re.escape(submitted[job_id])}(_wildcards_|$)", comment), \
            f"job {job_id}: comment {comment!r} names another rule than {submitted[job_id]}"

    local_report = json.loads((local / "results" / "demo" / "report.json").read_text())
    slurm_report = json.loads((cluster / "results" / "demo" / "report.json").read_text())
    assert candidates(slurm_report) == candidates(local_report)
    assert sum(len(c) for c in candidates(local_report).values()) > 0, "demo has candidates"
    assert normalised(slurm_report, cluster) == normalised(local_report, local)
    local_tsv = (local / "results" / "demo" / "report.tsv").read_text()
    slurm_tsv = (cluster / "results" / "demo" / "report.tsv").read_text()
    assert normalised(slurm_tsv, cluster) == normalised(local_tsv, local)
