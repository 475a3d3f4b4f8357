"""Accuracy-benchmark scorer: the scoring rules on a hand-made run, and the `run` command end to end
(heron's real Snakemake workflow on a small generated cohort)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.accuracy.__main__ import main
from benchmarks.accuracy.run import manifest_matches
from benchmarks.accuracy.score import NO_ROW_CATEGORY, NO_ROW_GENE, NOT_IN_VCF, Knowledge, markdown, score, \
    trim_variant

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "data" / "accuracy"
CASES = FIXTURES / "phenopackets_mixed_cases.jsonl"
GENES = FIXTURES / "gene_exons_small.txt"
RESULT_KEYS = ("recall", "candidates_per_patient_mean", "candidates_per_patient_median", "candidates_per_patient_p90",
               "negative_control_candidates_mean", "top1", "top3", "n_cases", "n_in_scope",
               "reanalysis_alerts_per_patient", "reanalysis_alert_precision", "wall_seconds", "peak_rss_mb",
               "breakdowns", "miss_reasons")


# -- scoring rules on a hand-made run ---------------------------------------------------------------

def _variant(chrom, pos, ref, alt, gene, father=None, mother=None):
    return {"chrom": chrom, "pos": pos, "ref": ref, "alt": alt, "gene": gene,
            "genotype": {"proband": "0/1", "father": father, "mother": mother}}


def _case(fid, family_type, variants, in_scope=True, route="clinvar", father=False, mother=False):
    return {"case_id": f"case_{fid}", "family_id": fid, "proband_id": f"{fid}-P",
            "father_id": f"{fid}-F" if father else None, "mother_id": f"{fid}-M" if mother else None,
            "family_type": family_type, "moi": "autosomal_recessive", "genotype_model": "homozygous",
            "variant_class": "missense", "route": route, "in_scope": in_scope,
            "scope_reason": None if in_scope else "gene X not on a green PanelApp panel", "batch": 0,
            "genes": sorted({v["gene"] for v in variants}), "variants": variants}


def _cand(variant_id, gene, rank, status=""):
    return {"variant_id": variant_id, "gene": gene, "rank": rank, "score": 10.0 - rank,
            "change": {"status": status, "reasons": []}}


@pytest.fixture()
def toy():
    manifest = {"cases": [
        _case("A", "singleton", [_variant("chr1", 100, "C", "T", "G1")]),
        _case("B", "trio", [_variant("chr1", 500, "G", "A", "G2"), _variant("chr1", 600, "T", "C", "G2")],
              route="missense_not_in_clinvar", father=True, mother=True),
        _case("C", "singleton", [_variant("chr2", 200, "AGT", "AT", "G3")], route="loss_of_function"),
        _case("D", "singleton", [_variant("chrX", 300, "A", "G", "G4")], route="missense_not_in_clinvar"),
        _case("E", "singleton", [_variant("chr3", 50, "C", "A", "OFF")], in_scope=False),
        _case("F", "duo", [_variant("chr4", 70, "G", "T", "G5", father="0/1")], father=True),
        _case("H", "singleton", [_variant("chr5", 90, "C", "G", "G6")], route="missense_not_in_clinvar"),
    ], "negative_controls": [{"sample_id": "C1"}, {"sample_id": "C2"}]}
    report = {"samples": {
        "A-P": {"candidates": [_cand("chr9:1:A:C", "Z", 1, "new"), _cand("chr1:100:C:T", "G1", 2, "new")]},
        "B-P": {"candidates": [_cand("chr1:500:G:A", "G2", 1, "")]},
        "C-P": {"candidates": [_cand("chr2:200:AG:A", "G3", 1, "changed"), _cand("chr2:200:AG:A", "G3b", 3)]},
        "D-P": {"candidates": []},
        "F-P": {"candidates": [_cand("chr4:70:G:T", "G5", 1, "new")]},
        "F-F": {"candidates": [_cand("chr4:70:G:T", "G5", 1, "new"), _cand("chr8:8:T:G", "Q", 2, "")]},
        "C1": {"candidates": [_cand("chr7:1:A:G", "Y", 1, "new"), _cand("chr7:2:A:G", "Y", 2)]},
    }}
    audit = pd.DataFrame({"sample": ["B-P", "B-P", "H-P"],
                          "variant_id": ["chr1:600:T:C", "chr1:600:T:C", "chr5:90:C:G"],
                          "symbol": ["OTHER", "G2", "G6"], "model": ["AD", "AR_comphet", "AD"],
                          "rule": ["AD.category", "AR_comphet.partner", "AD.frequency"],
                          "threshold": ["x", "partner", "1e-05"], "observed": ["0", "0", "0.002"]})
    affected = {"A-P", "B-P", "C-P", "D-P", "E-P", "F-P", "F-F", "H-P", "C1", "C2"}
    gene_sets = {s: {"G1", "G2", "G3", "G4", "G5", "G6"} for s in affected}
    knowledge = Knowledge(report=report, audit=audit, affected=affected, gene_sets=gene_sets)
    lookups = []

    def vcf_lookup(batch, sample, chrom, pos, ref, alt):
        lookups.append((sample, chrom, pos))
        return "absent"

    old = {"samples": {"A-P": {"candidates": [_cand("chr1:100:C:T", "G1", 1)]}}}
    result, cases = score(manifest, knowledge, vcf_lookup, old)
    return result, cases.set_index("case_id"), lookups


def test_recall_counts_in_scope_cases_with_every_causal_variant(toy):
    result, cases, _ = toy
    # A found (rank 2), B comp-het half reported: missed, C trimmed indel found, D, H missed, F found
    assert cases["found"].to_dict() == {"case_A": True, "case_B": False, "case_C": True, "case_D": False,
                                        "case_E": False, "case_F": True, "case_H": False}
    assert result["n_in_scope"] == 6 and result["n_found"] == 3 and result["recall"] == pytest.approx(0.5)
    assert cases.loc["case_A", "rank"] == 2 and cases.loc["case_C", "rank"] == 1
    assert result["top1"] == pytest.approx(2 / 6) and result["top3"] == pytest.approx(3 / 6)
    assert result["recall_old_knowledge"] == pytest.approx(1 / 6)
    assert cases.loc["case_A", "found_old_knowledge"] and not cases.loc["case_C", "found_old_knowledge"]


def test_candidates_per_patient_include_zeros_and_affected_relatives(toy):
    result, cases, _ = toy
    # patients: A 2, B 1, C 1 (one variant in two genes), D 0, E 0, F-P 1, F-F 2, H 0
    counts = np.array([2, 1, 1, 0, 0, 1, 2, 0])
    assert result["n_patients"] == 8
    assert result["candidates_per_patient_mean"] == pytest.approx(counts.mean())
    assert result["candidates_per_patient_median"] == pytest.approx(np.median(counts))
    assert result["candidates_per_patient_p90"] == pytest.approx(np.percentile(counts, 90))
    assert result["negative_control_candidates_mean"] == pytest.approx(1.0)  # C1 2, C2 0
    assert cases.loc["case_C", "candidates"] == 1


def test_reanalysis_alerts_and_their_precision(toy):
    result, _, _ = toy
    # patient alerts: A-P two new (one true), C-P changed (true), F-P and F-F new (both true)
    assert result["reanalysis_alerts"] == 5 and result["reanalysis_true_alerts"] == 4
    assert result["reanalysis_alerts_per_patient"] == pytest.approx(5 / 8)
    assert result["reanalysis_alert_precision"] == pytest.approx(4 / 5)
    assert result["reanalysis_alerts_per_control"] == pytest.approx(0.5)
    assert result["reanalysis_alerts_by_status"] == {"new": 4, "changed": 1}
    assert result["reanalysis_true_alerts_by_status"] == {"new": 3, "changed": 1}
    assert result["reanalysis_new_diagnoses"] == 2  # C and F found now, not before


def test_miss_reasons_from_the_audit_trail(toy):
    result, cases, lookups = toy
    assert cases.loc["case_B", "why_missed"] == "AR_comphet.partner"  # the causal gene's row wins
    assert cases.loc["case_H", "why_missed"] == "AD.frequency"
    assert "observed 0.002" in cases.loc["case_H", "miss_detail"]
    assert cases.loc["case_D", "why_missed"] == NOT_IN_VCF
    assert sorted(s for s, _, _ in lookups) == ["D-P", "E-P"]  # the VCF is read only for unexplained misses
    assert result["miss_reasons"] == {"AR_comphet.partner": 1, "AD.frequency": 1, NOT_IN_VCF: 1}
    assert cases.loc["case_A", "why_missed"] == ""
    assert result["breakdowns"]["route"]["missense_not_in_clinvar"] == {
        "n_in_scope": 3, "found": 0, "recall": 0.0, "top1": 0.0, "top3": 0.0, "candidates_mean": pytest.approx(1 / 3)}
    assert "| recall | 0.500 |" in markdown(dict(result, seed=1))


def test_no_row_reasons_distinguish_gene_set_from_category():
    manifest = {"cases": [_case("A", "singleton", [_variant("chr1", 100, "C", "T", "G1")]),
                          _case("B", "singleton", [_variant("chr1", 200, "C", "T", "G2")])],
                "negative_controls": []}
    knowledge = Knowledge(report={"samples": {}}, audit=pd.DataFrame(columns=[
        "sample", "variant_id", "symbol", "model", "rule", "threshold", "observed"]),
        affected={"A-P", "B-P"}, gene_sets={"A-P": {"G1"}, "B-P": {"G1"}})
    result, cases = score(manifest, knowledge, lambda *a: "carrier")
    assert cases.set_index("case_id")["why_missed"].to_dict() == {"case_A": NO_ROW_CATEGORY, "case_B": NO_ROW_GENE}
    assert result["reanalysis_alerts_per_patient"] is None and result["recall"] == 0.0


def test_trim_matches_heron_minimal_representation():
    pos, ref, alt = trim_variant(np.array([10, 10, 10, 10]), np.array(["AGT", "A", "CAAA", "ATG"], dtype=object),
                                 np.array(["AT", "AC", "CA", "GTG"], dtype=object))
    assert pos.tolist() == [10, 10, 10, 10] and ref.tolist() == ["AG", "A", "CAA", "A"]
    assert alt.tolist() == ["A", "AC", "C", "G"]
    pos, ref, alt = trim_variant(np.array([5]), np.array(["GCA"], dtype=object), np.array(["GTA"], dtype=object))
    assert (pos[0], ref[0], alt[0]) == (6, "C", "T")


def test_manifest_matches_only_the_same_arguments(tmp_path):
    (tmp_path / "a.vcf.gz").write_text("")
    manifest = {"seed": 1, "n_cases_requested": 20, "batch_size": 100, "cut_year": None, "cases_file": str(CASES),
                "_dir": str(tmp_path), "files": {"vcfs": ["a.vcf.gz"], "ped": "a.vcf.gz", "clinvar": "a.vcf.gz",
                                                 "clinvar_old": None, "panelapp": "a.vcf.gz", "panelapp_old": None}}
    assert manifest_matches(manifest, CASES, 20, 1, 100, None)
    assert not manifest_matches(manifest, CASES, 20, 2, 100, None)
    assert not manifest_matches(manifest, CASES, 20, 1, 100, 2020)
    assert not manifest_matches(manifest, GENES, 20, 1, 100, None)
    (tmp_path / "a.vcf.gz").unlink()
    assert not manifest_matches(manifest, CASES, 20, 1, 100, None)


# -- the run command end to end ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_data() -> Path:
    path = HERE.parent.parent / "shared" / "data"
    if not (path / "vcf").is_dir() or not (path / "panelapp").is_dir():
        pytest.skip(f"shared real data not found at {path}")
    return path


@pytest.fixture(scope="module")
def bench(shared_data, tmp_path_factory):
    """One run of the command on the 21 fixture cases (one batch; no reanalysis pass, to keep CPU low)."""
    out = tmp_path_factory.mktemp("bench")
    args = ["run", "--cases", str(CASES), "--gene-table", str(GENES), "--n-cases", "21", "--seed", "3",
            "--out", str(out), "--data", str(shared_data), "--cut-year", "0", "--cores", "2", "--quiet"]
    assert main(args) == 0
    result = json.loads((out / "result.json").read_text())
    manifest = json.loads((out / "cohort" / "manifest.json").read_text())
    cases = pd.read_csv(out / "cases.tsv", sep="\t", keep_default_na=False)
    return out, args, result, manifest, cases


def test_run_writes_result_with_every_key(bench):
    out, _, result, manifest, _ = bench
    assert all(k in result for k in RESULT_KEYS)
    assert set(result["breakdowns"]) == {"family_type", "moi", "variant_class", "route"}
    assert result["n_cases"] == len(manifest["cases"]) == 21
    assert result["wall_seconds"] > 0 and result["peak_rss_mb"] > 50  # heron's jobs, not just Snakemake
    assert result["reanalysis_alerts_per_patient"] is None  # --cut-year 0: no older-knowledge run
    assert (out / "result.md").read_text().startswith("# Accuracy benchmark")
    assert (out / "results" / "accuracy" / "report.json").exists()
    work = out / "work" / "accuracy"
    assert (work / "prioritised" / "1-of-1" / "audit.tsv").exists()
    assert not (work / "store").exists()  # stores pruned


def test_cases_tsv_has_one_row_per_case(bench):
    _, _, result, manifest, cases = bench
    assert sorted(cases["case_id"]) == sorted(c["case_id"] for c in manifest["cases"])
    scope = cases[cases["in_scope"]]
    assert len(scope) == result["n_in_scope"]
    assert result["recall"] == pytest.approx(scope["found"].mean())
    missed = scope[~scope["found"]]
    assert (missed["why_missed"] != "").all() and (scope.loc[scope["found"], "why_missed"] == "").all()


def test_planted_clinvar_and_lof_cases_are_found(bench):
    _, _, _, manifest, cases = bench
    by_id = cases.set_index("case_id")
    known = [c["case_id"] for c in manifest["cases"] if c["in_scope"] and c["route"] in ("clinvar", "loss_of_function")]
    assert len(known) >= 3
    assert by_id.loc[known, "found"].all()
    assert (pd.to_numeric(by_id.loc[known, "rank"]) >= 1).all()
    fbxl4 = by_id[by_id["genes"] == "FBXL4"]  # homozygous, in ClinVar via another publication
    assert len(fbxl4) and fbxl4["found"].all()


def test_off_panel_case_is_out_of_scope_and_not_counted(bench):
    _, _, result, _, cases = bench
    rab32 = cases.set_index("case_id").loc["PMID_38614108_CAN1_III_2"]
    assert not rab32["in_scope"] and "RAB32" in rab32["scope_reason"]
    assert rab32["why_missed"] == NO_ROW_GENE
    assert result["n_in_scope"] == int(cases["in_scope"].sum()) < result["n_cases"]
    assert result["out_of_scope_reasons"]["gene not on a green PanelApp panel"] >= 1


def test_score_only_reuses_cohort_and_outputs(bench, capsys):
    out, args, result, _, _ = bench
    manifest_time = (out / "cohort" / "manifest.json").stat().st_mtime_ns
    assert main(args + ["--score-only"]) == 0
    assert (out / "cohort" / "manifest.json").stat().st_mtime_ns == manifest_time
    again = json.loads((out / "result.json").read_text())
    assert again["recall"] == result["recall"] and again["wall_seconds"] == result["wall_seconds"]
    assert "recall" in capsys.readouterr().out
