"""Two runs of the demo with a new ClinVar release in between: what is new, changed and
dropped, with reasons; a crashed run leaves the history and the reports as they were."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pysam
import pytest

from heron.config import HeronConfig
from heron.pipeline import run_local
from heron.report.model import load_report

REPO = Path(__file__).resolve().parents[1]


def demo_config(tmp_path: Path, clinvar: Path, date: str) -> HeronConfig:
    config = HeronConfig.model_validate({
        "run_date": date, "results_dir": str(tmp_path / "results"),
        "work_dir": str(tmp_path / "work"),
        "cohort": {"vcfs": [str(REPO / "resources/demo/demo.vcf.gz")],
                   "pedigree": str(REPO / "resources/demo/demo.ped")},
        "resources": {"clinvar": {"vcf": str(clinvar)},
                      "panelapp": {"snapshot": str(REPO / "resources/demo/panelapp.json")}}})
    return config


def new_release(tmp_path: Path) -> Path:
    """The demo ClinVar one month on: PAH R408W LP → VUS, STXBP1 p.Arg235Gln VUS → LP."""
    text = gzip.open(REPO / "resources/demo/clinvar.vcf.gz", "rt").read()
    text = text.replace("##fileDate=2026-10-05", "##fileDate=2026-11-02")
    text = text.replace("CLNSIG=Likely_pathogenic;CLNREVSTAT=criteria_provided,_single_submitter;"
                        "GENEINFO=PAH", "CLNSIG=Uncertain_significance;CLNREVSTAT=criteria_"
                        "provided,_single_submitter;GENEINFO=PAH")
    lines = text.splitlines()
    stxbp1 = ("9\t127663330\t90010\tG\tA\t.\t.\tALLELEID=90010;CLNSIG=Likely_pathogenic;"
              "CLNREVSTAT=criteria_provided,_single_submitter;GENEINFO=STXBP1:6812")
    body = [line for line in lines if not line.startswith("#")] + [stxbp1]
    order = {c: i for i, c in enumerate([str(i) for i in range(1, 23)] + ["X", "Y", "MT"])}
    body.sort(key=lambda line: (order[line.split("\t")[0]], int(line.split("\t")[1])))
    plain = tmp_path / "clinvar_2026-11.vcf"
    plain.write_text("\n".join([line for line in lines if line.startswith("#")] + body) + "\n")
    out = tmp_path / "clinvar_2026-11.vcf.gz"
    pysam.tabix_compress(str(plain), str(out), force=True)
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reanalysis")
    first = run_local(demo_config(tmp, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06"))
    before = (first / "report.json").read_text()
    history = sqlite3.connect(first / "history.sqlite")
    snapshot = history.execute("SELECT * FROM findings ORDER BY 1, 2").fetchall()
    history.close()
    second = run_local(demo_config(tmp, new_release(tmp), "2026-11-03"))
    return tmp, before, snapshot, load_report(second / "report.json")


def test_first_run_everything_new(two_runs):
    _, before, _, _ = two_runs
    assert '"status": "new"' in before


def test_new_candidate_cites_the_clinvar_release(two_runs):
    *_, report = two_runs
    stxbp1 = [c for c in report.samples["F1_child"].candidates if c.gene == "STXBP1"]
    assert len(stxbp1) == 1
    change = stxbp1[0].change
    assert change.status == "new"
    assert any("clinvar_plp" in r and "2026-10-05 → 2026-11-02" in r for r in change.reasons)
    assert stxbp1[0].categories == {"clinvar_plp": "2026-11-03"}


def test_downgraded_variant_and_its_partner_drop_with_reasons(two_runs):
    *_, report = two_runs
    assert report.samples["F3_child"].candidates == []
    dropped = {(d.sample, d.variant_id): d.reason for d in report.dropped_since_last_run}
    assert set(dropped) == {("F3_child", "chr12:102840507:G:A"),
                            ("F3_child", "chr12:102866632:C:CA")}
    assert "partner" in dropped[("F3_child", "chr12:102866632:C:CA")]
    assert report.summary.dropped_since_last_run == 2


def test_unchanged_candidates_keep_their_first_dates(two_runs):
    *_, report = two_runs
    cftr = report.samples["F2_child"].candidates[0]
    assert cftr.change.status == ""
    assert cftr.first_tagged == "2026-10-06"
    assert cftr.categories == {"clinvar_plp": "2026-10-06"}


def test_a_second_run_on_the_same_date_changes_nothing(tmp_path):
    config = demo_config(tmp_path, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06")
    first = load_report(run_local(config) / "report.json")
    again = load_report(run_local(config) / "report.json")
    statuses = [c.change.status for rep in again.samples.values() for c in rep.candidates]
    assert statuses and set(statuses) == {""}  # nothing new or changed, though seen "today"
    assert again.dropped_since_last_run == []
    for sample, rep in again.samples.items():
        for was, now in zip(first.samples[sample].candidates, rep.candidates):
            assert (now.first_tagged, now.categories) == (was.first_tagged, was.categories)


def test_history_keeps_dropped_findings(two_runs):
    tmp, *_ = two_runs
    con = sqlite3.connect(tmp / "results" / "demo" / "history.sqlite")
    rows = con.execute("SELECT variant, found_in_current_run, dropped_reason FROM findings "
                       "WHERE sample='F3_child'").fetchall()
    assert {(v, found) for v, found, _ in rows} == {("chr12:102840507:G:A", 0),
                                                    ("chr12:102866632:C:CA", 0)}
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


def test_crashed_report_leaves_history_and_reports_untouched(tmp_path, monkeypatch):
    config = demo_config(tmp_path, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06")
    results = run_local(config)
    report_before = (results / "report.json").read_bytes()
    db = results / "history.sqlite"
    con = sqlite3.connect(db)
    state = (con.execute("SELECT * FROM findings ORDER BY 1, 2, 3").fetchall(),
             con.execute("SELECT * FROM runs").fetchall())
    con.close()

    from heron.report import html

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing the report")

    monkeypatch.setattr(html, "render", crash)
    later = config.model_copy(update={"run_date": "2026-11-03"})
    later.resources.clinvar.vcf = str(new_release(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        run_local(later)
    con = sqlite3.connect(db)
    assert (con.execute("SELECT * FROM findings ORDER BY 1, 2, 3").fetchall(),
            con.execute("SELECT * FROM runs").fetchall()) == state
    con.close()
    assert (results / "report.json").read_bytes() == report_before
    assert not [p for p in results.iterdir() if p.name.startswith(".")]


def test_explain_names_the_failing_rule(two_runs):
    from heron.explain import explain

    tmp, *_ = two_runs
    config = demo_config(tmp, REPO / "resources/demo/clinvar.vcf.gz", "2026-11-03")
    text = explain(config, "F8_child1", "chr17:80104600:C:T")
    assert "AR_hom: failed at AR_hom.unaffected_relatives" in text
    assert "FAIL AR_hom.unaffected_relatives" in text
    text = explain(config, "F7_proband", "chr2:165320000:A:AT")
    assert "FAIL call.depth (limit 10, observed 6)" in text
    text = explain(config, "F7_proband", "chr1:69500:C:A")
    assert "no row: its genes are on no patient's panel" in text
    assert "not in the ingested VCFs" in explain(config, "F7_proband", "chr1:5:A:G")


def test_tsv_is_spreadsheet_safe_and_round_trips():

    from heron.report.tsv import excel_safe

    assert excel_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert excel_safe("-1+2") == "'-1+2" and excel_safe("@x") == "'@x"
    assert excel_safe("chr1:5:A:G") == "chr1:5:A:G" and excel_safe(3) == 3


def test_report_tsv_round_trips_with_pandas(two_runs):
    import pandas as pd

    tmp, *_ , report = two_runs
    table = pd.read_csv(tmp / "results" / "demo" / "report.tsv", sep="\t",
                        keep_default_na=False)
    assert len(table) == report.summary.candidates
    first = table[(table["sample"] == "F2_child")].iloc[0]
    assert (first["gene"], first["variant"], first["rank"]) == ("CFTR", "chr7:117559590:ATCT:A", 1)
