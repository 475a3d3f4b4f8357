"""The bundled demo, end to end through the real Snakemake workflow: exactly the expected
candidates come out, and the three reports exist."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from heron.report.model import load_report

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run `snakemake --cores 2` on a copy of the demo config and resources."""
    work = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "config", work / "config")
    shutil.copytree(REPO / "resources" / "demo", work / "resources" / "demo")
    bin_dir = Path(sys.executable).parent  # the rules call `heron` from this environment
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        [str(bin_dir / "snakemake"), "--cores", "2", "--snakefile",
         str(REPO / "workflow" / "Snakefile"), "--directory", str(work)],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return work / "results" / "demo", result


def test_reports_exist(demo_run):
    results, _ = demo_run
    for name in ("report.json", "report.tsv", "report.html", "summary.txt"):
        assert (results / name).stat().st_size > 0


def test_exactly_the_expected_candidates(demo_run):
    results, _ = demo_run
    expected = json.loads((REPO / "resources" / "demo" / "expected.json").read_text())
    report = load_report(results / "report.json")
    got = {sample: sorted((c.variant_id, c.gene, c.moi) for c in rep.candidates)
           for sample, rep in report.samples.items()}
    assert set(got) == set(expected)
    for sample, wanted in expected.items():
        pairs = [(v, g) for v, g, _ in got[sample]]
        assert pairs == [(v, g) for v, g, _ in sorted(map(tuple, wanted))], sample
        for (_, _, models), (_, _, model) in zip(got[sample], sorted(map(tuple, wanted))):
            assert model in models.split(","), (sample, models)


def test_every_route_and_decoy(demo_run):
    results, _ = demo_run
    report = load_report(results / "report.json")
    f1 = report.samples["F1_child"].candidates[0]
    assert set(f1.categories) == {"high_impact", "de_novo"}
    assert f1.genotypes == {"F1_child": "het", "F1_father": "ref", "F1_mother": "ref"}
    dmd = report.samples["F4_proband"].candidates[0]
    assert dmd.genotypes == {"F4_proband": "hemi"}
    pah = report.samples["F3_child"].candidates
    assert {c.variant_id for c in pah} == {p for c in pah for p in c.partners}
    assert report.samples["F3_child"].candidates[0].genotypes["F3_sib"] == "missing"
    assert report.summary.patients_without_candidates == ["F8_child1"]
    assert report.run.resources["clinvar"] == "2026-10-05"


def test_tsv_lists_the_same_candidates(demo_run):
    results, _ = demo_run
    table = pd.read_csv(results / "report.tsv", sep="\t")
    report = load_report(results / "report.json")
    assert len(table) == report.summary.candidates
    assert set(table["variant"]) == {c.variant_id for r in report.samples.values()
                                     for c in r.candidates}


def test_summary_printed_at_the_end(demo_run):
    _, result = demo_run
    assert "candidates: 10" in result.stdout + result.stderr


def test_seqr_export(demo_run):
    results, _ = demo_run
    seqr = json.loads((results / "seqr.json").read_text())
    assert seqr["metadata"]["projects"] == ["demo"]
    assert set(seqr["metadata"]["categories"]) >= {"clinvar_plp", "high_impact", "de_novo"}
    assert seqr["results"]["F7_proband"] == {"M-11778-G-A": {"categories": ["clinvar_plp"],
                                                             "support_vars": []}}
    pah = seqr["results"]["F3_child"]
    assert pah["12-102840507-G-A"]["support_vars"] == ["12-102866632-C-CA"]
    for variants in seqr["results"].values():
        for key, entry in variants.items():
            assert not key.startswith("chr") and len(key.split("-")) == 4
            assert set(entry) == {"categories", "support_vars"}
