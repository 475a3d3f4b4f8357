"""The performance harness runs end to end on a tiny cohort and writes its figures."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3

import numpy as np
import pytest

from benchmarks.performance.__main__ import main
from benchmarks.performance.cohort import simulate_calls, simulate_sites
from benchmarks.performance.genes import synthetic_genes

HERON_STAGES = ("heron_ingest", "heron_knowledge", "heron_annotate", "heron_genes",
                "heron_classify", "heron_prioritise", "heron_report")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("perf")
    assert main(["--samples", "10", "--variants", "500", "--out", str(out),
                 "--sharding", "whole", "--genes", str(out / "no-panels")]) == 0
    return out, json.loads((out / "result.json").read_text())


def test_every_figure_is_timed_with_its_memory(result):
    out, res = result
    figures = ["bgzip_dc", "cyvcf2_loop", *HERON_STAGES, "reanalysis"]
    figures += [] if "bcftools_view" in res["skipped"] else ["bcftools_view"]
    figures += [] if "fastparse" in res["skipped"] else ["fastparse"]
    for name in figures:
        assert res["seconds"][name] > 0, name
        assert res["peak_rss_mb"][name] > 0, name
    assert res["jobs"]["reanalysis"] == res["jobs"]["first_analysis"] == 6
    reanalysis = sum(res["seconds"][k] for k in HERON_STAGES[1:])
    assert res["seconds"]["reanalysis"] == pytest.approx(reanalysis, abs=0.01)
    assert res["seconds"]["first_analysis"] > 0
    if "reanalysis_cold" not in res["skipped"]:
        assert res["jobs"]["reanalysis_cold"] == 6
        assert set(res["notes"]["reanalysis_cold_seconds"]) == set(HERON_STAGES[1:])
    for key in ("heron_ingest_over_bcftools_view", "reanalysis_over_bcftools_view"):
        assert key in res
        if "bcftools_view" not in res["skipped"]:
            assert res[key] > 0
    assert (out / "result.md").read_text().startswith("# heron performance: 10 samples")
    assert (out / "cohort" / "results" / "report.json").exists()
    # the reanalyses ran after a first analysis: every run is in the history
    history = next((out / "cohort" / "results").rglob("history.sqlite"))
    with sqlite3.connect(history) as con:
        runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert runs == (2 if "reanalysis_cold" in res["skipped"] else 3)


def test_one_core_wall_time_is_the_sum_of_jobs(result):
    _, res = result
    for name in HERON_STAGES:
        assert res["wall_seconds"][name] == pytest.approx(res["seconds"][name], abs=0.01)
    assert "heron_ingest_wall_over_bcftools_view" in res["ratios"]


def test_shards_run_side_by_side_on_two_cores(tmp_path):
    assert main(["--samples", "10", "--variants", "2500", "--out", str(tmp_path),
                 "--cores", "2", "--shard-variants", "1000",
                 "--genes", str(tmp_path / "no-panels")]) == 0
    res = json.loads((tmp_path / "result.json").read_text())
    shards = res["notes"]["shards"]
    assert shards >= 2 and res["notes"]["cores"] == 2 and res["cohort"]["shard_variants"] == 1000
    for name in ("heron_ingest", "heron_annotate", "heron_classify"):
        assert res["jobs"][name] == shards
        # jobs overlapped: the stage took less than its jobs one after another
        assert 0 < res["wall_seconds"][name] < res["seconds"][name]
    assert res["jobs"]["reanalysis"] == res["jobs"]["first_analysis"] == 4 + 2 * shards
    assert (tmp_path / "cohort" / "heron.shard-1000.yaml").exists()
    assert json.loads((tmp_path / "cohort" / "results" / "report.json").read_text())


def test_generated_vcf_is_consistent(result):
    out, res = result
    vcf = out / "cohort" / "cohort.vcf.gz"
    assert (out / "cohort" / "cohort.vcf.gz.tbi").exists()
    with gzip.open(vcf, "rt") as handle:
        records = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    assert len(records) == res["cohort"]["variants"] == 500
    for rec in records[:200]:
        n_alleles = 1 + len(rec[4].split(","))
        assert rec[8] == "GT:AD:DP:GQ" and "CSQ=" in rec[7]
        for call in rec[9:]:
            parts = call.split(":")
            if parts[0] == "./.":
                continue
            ad = [int(x) for x in parts[1].split(",")]
            assert len(ad) == n_alleles and sum(ad) == int(parts[2])
            assert 0 <= int(parts[3]) <= 99


def test_spectrum_is_rare_heavy_and_genotypes_match_depths():
    sites = simulate_sites(synthetic_genes(200), 3000, 1000, seed=3)
    assert np.all(np.diff(sites.pos[sites.chrom == "chr1"]) > 0)
    rare = np.mean(sites.af[:, 0] < 0.01)
    assert 0.7 < rare < 0.9
    calls = simulate_calls(sites, slice(0, 300), 1000, seed=3, chunk=0)
    called = calls.lo >= 0
    assert np.array_equal(calls.ad.sum(axis=2)[called], calls.dp[called])
    het = called & (calls.lo == 0) & (calls.hi == 1)
    balance = calls.ad[..., 1][het] / np.maximum(calls.dp[het], 1)
    assert 0.4 < balance.mean() < 0.6
    assert np.all((calls.hi > 0).any(axis=1))


def test_missing_bcftools_is_reported_not_fatal(tmp_path, monkeypatch):
    from benchmarks.performance import harness

    real_which = shutil.which
    monkeypatch.setattr(harness.shutil, "which",
                        lambda name: None if name == "bcftools" else real_which(name))
    run = harness.Run()
    monkeypatch.setattr(harness, "run_child", lambda cmd, cwd: (1.0, 1.0))
    monkeypatch.setattr(harness, "_head", lambda vcf, folder: vcf)
    harness.time_readers(run, tmp_path / "x.vcf.gz", tmp_path)
    assert "bcftools" in run.skipped["bcftools_view"]
    assert harness.ratios(run.steps)["fastparse_over_bcftools_view"] is None
    assert run.steps["fastparse"].seconds == 1.0 and "bcftools_view" not in run.steps
