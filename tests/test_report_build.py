"""The report built column-wise from a small hand-made cohort: report.json is exactly what
the Report model writes, every field lands where it belongs (genotypes on X, a missing
transcript, absent ClinVar and gnomAD values, dates, changes, the per-patient cap, solved
families, batches), and the TSV and seqr writers read the same table."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from heron import history
from heron.classify.categories import CAT
from heron.classify.categories import names as category_names
from heron.config import HeronConfig
from heron.ingest.pedigree import Individual, Pedigree
from heron.report import seqr, tsv
from heron.report.build import build_report, dropped_reasons, summary_lines
from heron.report.candidates import genotype_codes
from heron.report.html import script_json
from heron.report.model import Report
from heron.report.seqr import ascii_json
from heron.resources.clinvar import ClinSig
from heron.store import Shard

HOSTILE_REASON = ('new comp-het partner chr2:2000:ATCT:A </script><img src=x '
                  'onerror="document.title=\'owned\'"> & more\u2028')
HOSTILE_GENE = "GENE3<b>bold</b>"

# samples of the two batches' shards: the same calls, columns in another order
SAMPLES_A = ["F1_mother", "F1_child", "F2_p", "F3_p"]
SAMPLES_B = ["F2_p", "F1_child", "F1_mother", "F3_p"]


def _shard(samples: list[str]) -> Shard:
    gt_a = np.array([[1, 2, 0, 0],     # chrX non-PAR: the male child's alt call is hemizygous
                     [0, 2, 0, 0],     # chrX PAR1: diploid, so hom
                     [0, 0, 1, 0],
                     [0, 0, 2, 0],
                     [0, 0, 0, 1]], dtype=np.int8)
    gt = gt_a[:, [SAMPLES_A.index(s) for s in samples]]
    variants = {
        "chrom": np.array([23, 23, 1, 2, 7], dtype=np.int8),
        "pos": np.array([31819974, 10500, 1000, 2000, 3000], dtype=np.int32),
        "ann.clinvar": np.array([int(ClinSig.PATHOGENIC), -1, -1, int(ClinSig.UNCERTAIN), -1],
                                dtype=np.int8),
        "ann.clinvar_stars": np.array([2, 0, 0, 1, 0], dtype=np.int8),
        "ann.clinvar_id": np.array([1234, -1, -1, 77, -1], dtype=np.int32),
        "ann.gnomad_af": np.array([np.nan, np.nan, 1.2e-5, 0.125, np.nan], dtype=np.float32),
        "ann.gnomad_ac": np.array([np.nan, np.nan, 2, 10, np.nan], dtype=np.float32),
        "ann.gnomad_hom": np.array([np.nan, np.nan, 0, 1, np.nan], dtype=np.float32),
        "ann.gnomad_hemi": np.array([np.nan] * 5, dtype=np.float32),
        "ac": np.array([3, 2, 1, 2, 1], dtype=np.int32),
        "an": np.array([8, 8, 8, 8, 8], dtype=np.int32)}
    transcripts = {
        "transcript": np.array([b"ENST1", b"ENST2"]),
        "hgvsc": np.array([b"ENST1:c.1A>G", b"ENST2:c.2del"]),
        "hgvsp": np.array([b"ENSP1:p.Met1?", b"ENSP2:p.Ser1fs"]),
        "consequence": np.array([1 << 9, 1 << 3 | 1 << 4], dtype=np.uint32),
        "mane": np.array([True, False]), "canonical": np.array([True, True])}
    rows = {"tx": np.array([0, -1, 1, 0, 1], dtype=np.int32)}
    return Shard(samples, "GRCh38", variants, {"gt": gt}, transcripts, {}, rows)


def _table() -> pd.DataFrame:
    columns = ["sample", "variant", "row", "variant_id", "symbol", "models", "partners",
               "flags", "categories", "phenotype_score", "phenotype_match", "matched_terms",
               "evidence", "phenotype", "moi", "penalty", "score", "rank", "part"]
    rows = [
        ("F1_child", 0, 0, "chrX:31819974:G:A", "DMD", "XLR", "", 0b10,
         int(CAT["clinvar_plp"]) | int(CAT["de_novo"]), 0.5, True, "HP:0001250", 3.625, 1.5,
         0.0, 0.25, 4.875, 1, 0),
        ("F1_child", 1, 1, "chrX:10500:C:T", "PARGENE", "AD", "", 0, int(CAT["high_impact"]),
         0.0, False, "", 2.0, 0.0, 0.0, 0.0, 2.0, 2, 0),
        ("F2_p", 2, 2, "chr1:1000:A:G", "=SUM(A1)", "AR_comphet", "chr2:2000:ATCT:A", 0,
         int(CAT["alphamissense"]), 0.125, False, "", 1.0, 0.375, 0.0, 0.0, 1.375, 2, 1),
        ("F2_p", 3, 3, "chr2:2000:ATCT:A", "GENE2", "AR_comphet", "chr1:1000:A:G", 0,
         int(CAT["high_impact"]), 0.0, False, "", 3.0, 0.0, 0.0, 0.0, 3.0, 1, 1),
        ("F2_p", 3, 3, "chr2:2000:ATCT:A", HOSTILE_GENE, "AD", "", 0, int(CAT["de_novo"]),
         0.0, False, "", 1.0, 0.0, 0.0, 0.0, 1.0, 2, 1),
        ("F2_p", 4, 4, "chr7:3000:G:C", "GENE4", "AD", "", 0, int(CAT["de_novo"]),
         0.0, False, "", 0.5, 0.0, 0.0, 0.0, 0.5, 4, 1),
        ("F3_p", 4, 4, "chr7:3000:G:C", "GENE4", "AD", "", 0, int(CAT["de_novo"]),
         0.0, False, "", 0.5, 0.0, 0.0, 0.0, 0.5, 1, 0)]
    return pd.DataFrame(rows, columns=columns)


def _dated(table: pd.DataFrame) -> pd.DataFrame:
    known = table[table["symbol"] != "GENE2"]  # a finding without dates: the report copes
    moved = {("DMD", "clinvar_plp"): "2026-11-03", ("PARGENE", "high_impact"): None}
    return pd.DataFrame({
        "sample": known["sample"], "variant": known["variant_id"], "gene": known["symbol"],
        "first_tagged": "2026-10-06", "evidence_last_updated": "2026-11-03",
        "category_dates": [{c: moved.get((g, c), "2026-10-06") for c in category_names(m)}
                           for g, m in zip(known["symbol"], known["categories"])]})


@pytest.fixture(scope="module")
def cohort():
    ped = Pedigree([
        Individual(family="F1", id="F1_child", father="F1_father", mother="F1_mother", sex=1,
                   affected=2, hpo=["HP:0001250"]),
        Individual(family="F1", id="F1_father", sex=1, affected=1),
        Individual(family="F1", id="F1_mother", sex=2, affected=1),
        Individual(family="F2", id="F2_p", sex=2, affected=2),
        Individual(family="F3", id="F3_p", affected=2)])
    config = HeronConfig.model_validate({
        "cohort": {"solved": ["F3"]}, "report": {"max_candidates_per_patient": 3},
        "phenotype": {"hpo_dir": "/nonexistent/hpo"}})
    table = _table()
    changes = [
        history.Change("F1_child", "chrX:31819974:G:A", "DMD", "new",
                       ["new category clinvar_plp (ClinVar 2026-10 → 2026-11)"]),
        history.Change("F2_p", "chr1:1000:A:G", "=SUM(A1)", "changed", [HOSTILE_REASON]),
        history.Change("F2_p", "chr9:1:A:T", "OLD", "dropped", ["prefilter (0.01; observed 0.5)"]),
        history.Change("F3_p", "chr7:3000:G:C", "GENE4", "dropped", ["solved, not shown"])]
    run = history.RunInfo("2026-11-03", "0.1.0", "abc123", {"clinvar": "2026-11"}, {})
    data = build_report(config, [_shard(SAMPLES_A), _shard(SAMPLES_B)], table, _dated(table),
                        changes, ped, run)
    return config, data


def test_report_json_round_trips_through_the_model(cohort):
    _, data = cohort
    text = data.json()
    report = Report.model_validate_json(text)
    assert report.model_dump_json(indent=1) == text
    assert json.loads(text)["schema_version"] == report.schema_version


def test_candidate_fields(cohort):
    _, data = cohort
    report = Report.model_validate_json(data.json())
    assert list(report.samples) == ["F1_child", "F2_p"]  # affected, unsolved, pedigree order
    hemi, par = report.samples["F1_child"].candidates
    assert hemi.genotypes == {"F1_child": "hemi", "F1_father": "missing", "F1_mother": "het"}
    assert par.genotypes == {"F1_child": "hom", "F1_father": "missing", "F1_mother": "ref"}
    assert (hemi.variant.chrom, hemi.variant.pos, hemi.variant.ref, hemi.variant.alt) == \
        ("chrX", 31819974, "G", "A")
    assert hemi.categories == {"clinvar_plp": "2026-11-03", "de_novo": "2026-10-06"}
    assert hemi.flags == ["low_depth"] and hemi.moi == "XLR"
    assert hemi.consequence.consequences == ["missense"] and hemi.consequence.mane
    assert hemi.consequence.hgvsp == "ENSP1:p.Met1?"
    assert (hemi.clinvar.classification, hemi.clinvar.stars, hemi.clinvar.allele_id) == \
        ("Pathogenic/Likely pathogenic", 2, 1234)
    assert hemi.links["clinvar"].endswith("?term=1234[alleleid]")
    assert hemi.links["gnomad"] == ("https://gnomad.broadinstitute.org/variant/"
                                    "X-31819974-G-A?dataset=gnomad_r4")
    assert hemi.population.gnomad_af is None and hemi.population.callset_an == 8
    assert hemi.score_parts.evidence == 3.625 and hemi.phenotype.matched
    assert hemi.phenotype.matched_terms == ["HP:0001250"]
    assert hemi.change.status == "new" and "2026-10 → 2026-11" in hemi.change.reasons[0]
    # no transcript, not in ClinVar: the model's defaults
    assert par.consequence.transcript == "" and par.consequence.consequences == []
    assert par.clinvar.classification == "not in ClinVar" and par.clinvar.allele_id is None
    assert "clinvar" not in par.links and par.categories == {"high_impact": None}
    assert par.change.status == "" and par.change.reasons == []


def test_batches_cap_and_ties(cohort):
    _, data = cohort
    report = Report.model_validate_json(data.json())
    f2 = report.samples["F2_p"]
    # rank order, a tie kept in table order; the fourth is below the line of 3
    assert [(c.rank, c.gene) for c in f2.candidates] == [(1, "GENE2"), (2, "=SUM(A1)"),
                                                         (2, HOSTILE_GENE)]
    assert f2.below_the_line == 1
    # read from the second batch's shard, whose columns are in another order
    assert [c.genotypes["F2_p"] for c in f2.candidates] == ["hom", "het", "hom"]
    assert f2.candidates[0].first_tagged is None and f2.candidates[0].categories == {}
    assert f2.candidates[0].partners == ["chr1:1000:A:G"]
    assert f2.candidates[1].population.gnomad_af == pytest.approx(1.2e-5)
    assert f2.candidates[0].population.gnomad_ac == 10.0


def test_summary_and_dropped(cohort):
    _, data = cohort
    s = data.summary
    assert (s.patients, s.candidates, s.candidates_per_patient_max) == (2, 5, 3)
    assert s.per_category == {"alphamissense": 1, "clinvar_plp": 1, "de_novo": 2,
                              "high_impact": 1}
    assert (s.new_since_last_run, s.changed_since_last_run, s.dropped_since_last_run) == \
        (1, 1, 1)
    assert data.dropped == [{"sample": "F2_p", "variant_id": "chr9:1:A:T", "gene": "OLD",
                             "reason": "prefilter (0.01; observed 0.5)"}]
    assert "since the last run: 1 new, 1 changed, 1 dropped" in summary_lines(data)


def test_tsv_rows(cohort):
    _, data = cohort
    table = tsv.frame(data.candidates)
    assert list(table.columns) == tsv.COLUMNS and len(table) == 5
    first = table.iloc[0]
    assert first["genotypes"] == "F1_child=hemi,F1_father=missing,F1_mother=het"
    assert first["categories"] == "clinvar_plp,de_novo" and first["flags"] == "low_depth"
    assert pd.isna(first["gnomad_af"]) and first["new_or_changed"] == "new"
    assert table.iloc[3]["gene"] == "'=SUM(A1)"  # a spreadsheet formula, defused
    text = tsv.render(data.candidates)
    back = pd.read_csv(io.StringIO(text), sep="\t", keep_default_na=False)
    assert back["variant"].tolist() == [c["variant_id"] for s in data.samples.values()
                                        for c in s["candidates"]]


def test_excel_safe_column_on_every_text_dtype():
    for dtype in (object, "str"):
        column = pd.Series(["=1+1", "-2", "@x", "plain", None], dtype=dtype)
        safe = tsv.excel_safe_column(column).tolist()
        assert safe[:4] == ["'=1+1", "'-2", "'@x", "plain"] and pd.isna(safe[4])
    numbers = pd.Series([-1.0, 2.0])
    assert tsv.excel_safe_column(numbers).tolist() == [-1.0, 2.0]
    mixed = pd.Series(["=x", -1, None], dtype=object)
    assert tsv.excel_safe_column(mixed).tolist() == ["'=x", -1, None]


def test_seqr_merges_a_variant_under_two_genes(cohort):
    _, data = cohort
    out = json.loads(seqr.render(data.candidates, "cohort"))
    # categories from one gene's finding (the other has no dates), the partner from the other
    entry = out["results"]["F2_p"]["2-2000-ATCT-A"]
    assert entry == {"categories": ["de_novo"], "support_vars": ["1-1000-A-G"]}
    assert out["results"]["F1_child"]["X-31819974-G-A"]["categories"] == ["clinvar_plp",
                                                                          "de_novo"]
    assert out["metadata"]["projects"] == ["cohort"]


def test_ascii_json_matches_json_dumps():
    data = {"name": "Zoë → ☃ \U0001F600 \x7f \x01 \"q\" \\ /", "list": [], "empty": {}}
    import pydantic_core

    assert ascii_json(pydantic_core.to_json(data, indent=1).decode()) == \
        json.dumps(data, indent=1)


def test_script_json_is_inert_inside_a_script_element():
    data = {"reason": HOSTILE_REASON, "gene": HOSTILE_GENE, "para": "a\u2029b", "amp": "&lt;"}
    text = script_json(data)
    assert json.loads(text) == data
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}


def test_genotype_codes():
    gt = np.array([[2, 1, -1], [1, 0, 2]], dtype=np.int8)
    sex = np.array([[1, 2, 1], [1, 2, 0]], dtype=np.int8)
    codes = genotype_codes(gt, sex, np.array([True, False]))
    assert codes.tolist() == [[4, 2, 0], [2, 1, 3]]


def test_dropped_reasons_come_from_the_audit_trails(tmp_path):
    header = "sample\tvariant_id\tsymbol\tmodel\trule\tthreshold\tobserved\n"
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text(header + "001\tchr1:5:A:G\tG1\tall\tprefilter\tgnomad_af: 0.01\t0.10\n"
                     "001\tchr1:5:A:G\tG1\tAD\tAD.depth\tdepth: 10\t6\n"
                     "003\tchr3:5:A:G\tG3\tall\tprefilter\tgnomad_af: 0.01\t0.5\n")
    second.write_text(header + "002\tchr2:5:A:G\tG2\tall\tcall.gq\tgq: 20\t5\n")
    gone = pd.DataFrame({"sample": ["001", "002"], "variant": ["chr1:5:A:G", "chr2:5:A:G"],
                         "gene": ["G1", "G2"]})
    reasons = dropped_reasons([first, second], gone)
    # a later row of the same finding wins; ids stay text ("001", not 1)
    assert reasons == {("001", "chr1:5:A:G", "G1"): "AD.depth (depth: 10; observed 6)",
                       ("002", "chr2:5:A:G", "G2"): "call.gq (gq: 20; observed 5)"}
    # nothing dropped: the audit trails are not read at all
    assert dropped_reasons([tmp_path / "absent.tsv"], gone.iloc[:0]) == {}


def test_a_run_without_candidates(cohort):
    config, _ = cohort
    ped = Pedigree([Individual(family="F2", id="F2_p", sex=2, affected=2)])
    run = history.RunInfo("2026-11-03", "0.1.0", "abc123", {}, {})
    empty = _table().iloc[:0]
    data = build_report(config, [_shard(SAMPLES_A)], empty, _dated(empty), [], ped, run)
    text = data.json()
    assert Report.model_validate_json(text).model_dump_json(indent=1) == text
    assert data.summary.patients_without_candidates == ["F2_p"]
    assert tsv.render(data.candidates).splitlines() == ["\t".join(tsv.COLUMNS)]
    assert json.loads(seqr.render(data.candidates, "c"))["results"] == {}
