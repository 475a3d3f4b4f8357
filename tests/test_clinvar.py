"""ClinVar: re-summarisation case by case, both input routes, table I/O, PM5, download."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from httpserver import http_server  # noqa: F401 (pytest fixture)

from heron.errors import InputError, ResourceError
from heron.genome import chrom_code
from heron.keys import variant_keys
from heron.resources.clinvar import (
    ClinSig, ClinVarTable, Pm5Index, clinsig_codes, download_clinvar, load_clinvar_tables,
    pm5_from_csq, read_clinvar_vcf, read_submission_summary, read_variant_summary, resummarise,
    review_stars)
from heron.resources.snapshot import verify_snapshot

DATA = Path(__file__).resolve().parent / "data" / "resources"
TINY_VCF = DATA / "clinvar_multiallelic_csq.vcf"
SUBMISSIONS = DATA / "submission_summary_cases.txt"
VARIANTS = DATA / "variant_summary_cases.txt"
P, B, U, C = ClinSig.PATHOGENIC, ClinSig.BENIGN, ClinSig.UNCERTAIN, ClinSig.CONFLICTING
CP = "criteria provided, single submitter"
NA = "no assertion criteria provided"
EP = "reviewed by expert panel"
PG = "practice guideline"


@pytest.fixture(scope="module")
def shared_data():
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path


def subs(*rows, vid=1):
    """Submissions of one variant: (significance, 'YYYY-MM-DD' or None, review, submitter)."""
    return pd.DataFrame({
        "variation_id": np.full(len(rows), vid, dtype=np.int64),
        "significance": [r[0].lower() for r in rows],
        "evaluated": pd.to_datetime([r[1] for r in rows]),
        "review_status": [r[2] for r in rows],
        "submitter": [r[3] if len(r) > 3 else f"lab {i}" for i, r in enumerate(rows)],
    })


def decide(frame, **kwargs):
    out = resummarise(frame, **kwargs)
    assert list(out.index) == [1]
    return ClinSig(int(out["clinsig"].iloc[0])), int(out["stars"].iloc[0])


# ----------------------------------------------------------------- re-summarisation

def test_expert_panel_decides_outright():
    frame = subs(("Benign", "2018-03-02", EP), ("Pathogenic", "2019-06-29", CP),
                 ("Pathogenic", "2019-06-30", CP), ("Likely pathogenic", "2019-07-01", CP))
    assert decide(frame) == (B, 3)


def test_practice_guideline_beats_expert_panel():
    frame = subs(("Benign", "2021-01-01", EP), ("Pathogenic", "2020-01-01", PG))
    assert decide(frame) == (P, 4)


def test_later_of_two_expert_panels_decides():
    frame = subs(("Pathogenic", "2017-01-01", EP), ("Uncertain significance", "2022-01-01", EP))
    assert decide(frame) == (U, 3)  # stars come from P/B submissions only


@pytest.mark.parametrize("n_p,n_b,expected", [
    (4, 1, P),      # 80% / 20%: a clear side
    (1, 4, B),
    (3, 1, C),      # 75% / 25%: minority above 20%
    (3, 2, C),      # 60% / 40%
    (1, 1, C),
    (8, 2, P),      # exactly 80 / 20
])
def test_conflict_rule(n_p, n_b, expected):
    rows = [("Pathogenic", "2020-01-01", CP)] * n_p + [("Likely benign", "2020-01-01", CP)] * n_b
    assert decide(subs(*rows)) == (expected, 1)


def test_conflict_thresholds_are_parameters():
    rows = [("Pathogenic", "2020-01-01", CP)] * 3 + [("Benign", "2020-01-01", CP)]
    assert decide(subs(*rows), minority=0.25) == (P, 1)
    rows = [("Pathogenic", "2020-01-01", CP)] * 4 + [("Benign", "2020-01-01", CP)]
    assert decide(subs(*rows), majority=0.9) == (C, 1)


def test_uncertain_majority_then_any_pathogenic_then_any_benign():
    vus = ("Uncertain significance", "2020-01-01", CP)
    assert decide(subs(("Pathogenic", "2020-01-01", CP), vus, vus)) == (U, 1)  # 67% VUS
    assert decide(subs(("Pathogenic, low penetrance", "2020-01-01", CP), vus)) == (P, 1)
    assert decide(subs(("Likely benign", "2020-01-01", CP), vus)) == (B, 1)
    assert decide(subs(vus)) == (U, 0)
    assert decide(subs(("Uncertain risk allele", "2020-01-01", CP))) == (U, 0)


def test_date_filter_only_when_a_recent_submission_exists():
    old_p = ("Pathogenic", "2012-06-29", CP)
    assert decide(subs(old_p, ("Likely benign", "2019-02-01", CP))) == (B, 1)
    assert decide(subs(old_p, ("Likely benign", "2015-12-31", CP))) == (C, 1)
    assert decide(subs(old_p, ("Likely benign", None, CP))) == (C, 1)  # undated counts as old
    assert decide(subs(old_p, ("Likely benign", "2016-01-01", CP))) == (B, 1)  # on the day
    assert decide(subs(old_p, ("Likely benign", "2019-02-01", CP)),
                  acmg_date=pd.Timestamp("2020-01-01").date()) == (C, 1)


def test_old_expert_panel_survives_date_filter():
    assert decide(subs(("Pathogenic", "2014-06-29", EP), ("Benign", "2020-06-29", CP))) == (P, 3)


def test_block_list_is_case_insensitive():
    frame = subs(("Pathogenic", "2020-06-29", CP, "untrusted genomics"),
                 ("Benign", "2020-06-30", CP, "lab b"))
    assert decide(frame) == (C, 1)
    assert decide(frame, blocked_submitters=["  Untrusted Genomics "]) == (B, 1)


def test_stars():
    assert decide(subs(("Pathogenic", "2020-01-01", NA))) == (P, 0)
    assert decide(subs(("Pathogenic", "2020-01-01", NA), ("Pathogenic", "2020-01-01", CP))) == (P, 1)
    assert decide(subs(("Pathogenic", "2020-01-01", "no assertion provided"))) == (P, 0)
    assert decide(subs(("Pathogenic", "2020-01-01", NA),
                       ("Uncertain significance", "2020-01-01", CP))) == (P, 0)


def test_unbinnable_submissions_are_ignored():
    frame = pd.concat([subs(("not provided", None, "no assertion provided"),
                            ("drug response", "2020-01-01", CP)),
                       subs(("other", "2020-01-01", CP), ("Pathogenic", "2020-01-01", CP), vid=2)])
    out = resummarise(frame)
    assert list(out.index) == [2] and out.loc[2, "clinsig"] == P


def test_many_variants_at_once():
    frame = pd.concat([subs(("Pathogenic", "2020-01-01", CP), vid=v) for v in range(500, 0, -1)])
    out = resummarise(frame)
    assert list(out.index) == list(range(1, 501))
    assert (out["clinsig"] == P).all() and out["clinsig"].dtype == np.int8


# -------------------------------------------------------------------- file route

def test_read_submission_summary():
    frame = read_submission_summary(SUBMISSIONS)
    assert len(frame) == 29
    first = frame.iloc[0]
    assert (first["variation_id"], first["significance"], first["review_status"],
            first["submitter"]) == (1, "benign", EP, "enigma")
    assert first["evaluated"] == pd.Timestamp("2018-03-02")
    assert frame["evaluated"].isna().sum() == 2  # '-' dates


def test_file_route_end_to_end():
    decisions = resummarise(read_submission_summary(SUBMISSIONS),
                            blocked_submitters=["Untrusted Genomics"])
    expected = {1: (B, 3), 2: (C, 1), 3: (P, 1), 4: (B, 1), 5: (U, 0), 6: (B, 1), 7: (P, 0),
                8: (P, 4), 10: (P, 1), 11: (P, 3)}
    got = {v: (ClinSig(int(r.clinsig)), int(r.stars)) for v, r in decisions.iterrows()}
    assert got == expected

    table, pm5 = load_clinvar_tables(SUBMISSIONS, VARIANTS, "GRCh38", "2024-01",
                                     blocked_submitters=["Untrusted Genomics"])
    assert (table.release, table.build, len(table)) == ("2024-01", "GRCh38", 10)
    assert np.all(np.diff(table.key) > 0)
    # TP53 R248Q at its GRCh38 position
    idx = table.lookup(variant_keys(np.array([17]), np.array([7674220]), ["C"], ["T"]), ["C"], ["T"])
    assert idx[0] >= 0
    assert (table.clinsig[idx[0]], table.stars[idx[0]], table.allele_id[idx[0]],
            table.gene[idx[0]]) == (P, 1, 15003, "TP53")
    assert table.chrom[table.allele_id == 15008][0] == chrom_code("MT")

    assert list(zip(pm5.gene, pm5.transcript, pm5.protein_pos, pm5.aa_ref, pm5.aa_alt,
                    pm5.allele_id, pm5.stars)) == [
        ("FBN1", "NM_000138.5", 1013, "G", "R", 15007, 0),
        ("FBN1", "NM_000138.5", 1013, "G", "A", 15011, 3),
        ("TP53", "NM_000546.6", 248, "R", "Q", 15003, 1),
        ("TP53", "NM_000546.6", 248, "R", "W", 15010, 1),
    ]
    _, pm5 = load_clinvar_tables(SUBMISSIONS, VARIANTS, "GRCh38", "x", pm5_min_stars=1)
    assert list(pm5.allele_id) == [15011, 15003, 15010]

    b37, _ = load_clinvar_tables(SUBMISSIONS, VARIANTS, "GRCh37", "2024-01")
    assert b37.pos[b37.allele_id == 15003][0] == 7577538


def test_read_variant_summary_filters():
    frame = read_variant_summary(VARIANTS, "GRCh38")
    assert sorted(frame["variation_id"]) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]  # not 12, 13, 14
    assert frame.loc[frame["variation_id"] == 11, "gene"].item() == "FBN1"
    longer = read_variant_summary(VARIANTS, "GRCh38", max_allele_length=100)
    assert 14 in set(longer["variation_id"])


def test_tab_file_errors(tmp_path):
    bad = tmp_path / "s.txt"
    bad.write_text("#VariationID\tClinicalSignificance\n1\tBenign\n")
    with pytest.raises(InputError, match=r"s.txt:1: missing column\(s\) DateLastEvaluated"):
        read_submission_summary(bad)
    bad.write_text("no header\n")
    with pytest.raises(InputError, match="no '#'-prefixed header"):
        read_submission_summary(bad)
    text = SUBMISSIONS.read_text().replace("\n3\tPathogenic", "\nx3\tPathogenic", 1)
    bad.write_text(text)
    with pytest.raises(InputError, match="VariationID 'x3' is not a number"):
        read_submission_summary(bad)


# --------------------------------------------------------------------- VCF route

def test_vocabularies():
    sig = pd.Series(["Pathogenic", "Likely_pathogenic", "Pathogenic/Likely_pathogenic|other",
                     "Likely_pathogenic,_low_penetrance", "Conflicting_classifications_of_pathogenicity",
                     "Conflicting_interpretations_of_pathogenicity", "Uncertain_significance",
                     "Benign/Likely_benign", "Benign..risk_factor", "risk_factor", "not_provided", None])
    assert list(clinsig_codes(sig)) == [P, P, P, P, C, C, U, B, B, 0, 0, 0]
    rev = pd.Series(["practice_guideline", "reviewed_by_expert_panel",
                     "criteria_provided,_multiple_submitters,_no_conflicts",
                     "criteria_provided,_single_submitter", "criteria_provided,_conflicting_classifications",
                     "criteria_provided..conflicting_interpretations", "no_assertion_criteria_provided",
                     "no_classification_provided", None])
    assert list(review_stars(rev)) == [4, 3, 2, 1, 1, 1, 0, 0, 0]


def test_tiny_vcf_multiallelic_and_filters(tmp_path):
    table = read_clinvar_vcf(TINY_VCF)
    assert (table.release, table.build, len(table)) == ("2024-01-07", "GRCh38", 9)
    rows = {(int(c), int(p), r.decode(), a.decode()): i
            for i, (c, p, r, a) in enumerate(zip(table.chrom, table.pos, table.ref, table.alt))}
    # both ALTs of the multi-allelic record, sharing its INFO
    a, c = rows[(17, 7674221, "G", "A")], rows[(17, 7674221, "G", "C")]
    assert table.allele_id[a] == table.allele_id[c] == 108
    assert (table.clinsig[a], table.stars[a]) == (P, 2)
    # no-ALT, symbolic and unplaced records are gone
    assert not any(k[0] in (2, 23, 0) for k in rows)
    m = rows[(25, 3243, "A", "G")]
    assert (table.clinsig[m], table.stars[m], table.gene[m]) == (P, 4, "MT-TL1")
    assert table.gene[rows[(13, 32398489, "A", "T")]] == "BRCA2"
    assert table.gene[rows[(1, 300, "C", "T")]] == "" and table.clinsig[rows[(1, 300, "C", "T")]] == 0
    assert table.csq[rows[(1, 100, "A", "AT")]] == ""
    assert table.csq[a].startswith("A|missense_variant|")
    assert table.csq_fields[12] == "Protein_position"

    gz = tmp_path / "clinvar.vcf.gz"
    gz.write_bytes(gzip.compress(TINY_VCF.read_bytes()))
    same = read_clinvar_vcf(gz, "GRCh38")
    assert np.array_equal(same.key, table.key) and np.array_equal(same.stars, table.stars)
    with pytest.raises(InputError, match="header says GRCh38, but GRCh37"):
        read_clinvar_vcf(gz, "GRCh37")


def test_vcf_errors(tmp_path):
    bad = tmp_path / "x.vcf"
    bad.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    with pytest.raises(InputError, match="no CLNSIG INFO field"):
        read_clinvar_vcf(bad)
    bad.write_text("##fileformat=VCFv4.2\n")
    with pytest.raises(InputError, match="no #CHROM header line"):
        read_clinvar_vcf(bad)


def test_lookup_checks_alleles():
    table = read_clinvar_vcf(TINY_VCF)
    chrom = np.array([17, 17, 17, 1], dtype=np.int8)
    pos = np.array([7674221, 7674221, 7674220, 999])
    ref, alt = np.array(["G", "G", "C", "A"]), np.array(["C", "T", "T", "G"])
    idx = table.lookup(variant_keys(chrom, pos, ref, alt), ref, alt)
    assert idx[0] >= 0 and table.alt[idx[0]] == b"C"
    assert list(idx[1:]) == [-1, idx[2], -1] and idx[2] >= 0
    # a key that matches but alleles that do not (as after a hash collision) never attach
    fake = table.lookup(table.key[[idx[0]]], np.array([b"G"]), np.array([b"T"]))
    assert list(fake) == [-1]
    assert list(table.lookup(table.key[[idx[0]]], [b"G"], [b"C"])) == [idx[0]]


def test_table_save_load_roundtrip(tmp_path):
    table = read_clinvar_vcf(TINY_VCF)
    table.save(tmp_path / "t")
    back = ClinVarTable.load(tmp_path / "t", mmap=True)
    for name in ClinVarTable._ARRAYS:
        assert np.array_equal(getattr(back, name), getattr(table, name)), name
    assert list(back.csq) == list(table.csq)
    assert (back.release, back.build, back.csq_fields) == (table.release, table.build, table.csq_fields)
    (tmp_path / "t" / "stars.npy").unlink()
    with pytest.raises(ResourceError, match="not a readable ClinVar table"):
        ClinVarTable.load(tmp_path / "t")


def test_pm5_from_csq(tmp_path):
    table = read_clinvar_vcf(TINY_VCF)
    pm5 = pm5_from_csq(table)
    assert list(zip(pm5.gene, pm5.transcript, pm5.protein_pos, pm5.aa_ref, pm5.aa_alt,
                    pm5.allele_id, pm5.stars)) == [
        ("TP53", "ENST00000269305", 248, "R", "Q", 107, 3),
        ("TP53", "ENST00000269305", 248, "R", "W", 108, 2),
        ("TP53", "ENST00000269305", 248, "R", "G", 108, 2),
    ]
    assert len(pm5_from_csq(table, min_stars=3)) == 1
    assert len(pm5_from_csq(table, min_stars=5)) == 0
    pm5.save(tmp_path / "pm5")
    back = Pm5Index.load(tmp_path / "pm5")
    assert np.array_equal(back.aa_alt, pm5.aa_alt) and back.protein_pos.dtype == np.int32
    with pytest.raises(InputError, match="no CSQ annotation"):
        pm5_from_csq(ClinVarTable.build_from([], [], [], [], [], [], [], [], release="x", build=None))


def test_real_clinvar_vcf_grch37(shared_data):
    path = shared_data / "clinvar-fixtures" / "exomiser_clinvar_20230710_first2000.b37.vcf.gz"
    if not path.exists():
        pytest.skip(f"{path} absent")
    table = read_clinvar_vcf(path, "GRCh37")
    assert (table.release, table.build) == ("2023-07-10", "GRCh37")
    # 2,000 single-ALT records; 9 have an allele over 50 bp or no ALT
    assert len(table) == 1991 and np.all(np.diff(table.key) > 0)
    assert set(np.unique(table.chrom)) == {1}
    counts = np.bincount(table.clinsig, minlength=5)
    assert counts[P] == 19 + 8 + 2 and counts[C] == 25
    assert np.count_nonzero(table.stars == 2) == 139
    assert table.gene[0] == "OR4F5" and table.allele_id[0] == 2193183
    with pytest.raises(InputError, match="header says GRCh37"):
        read_clinvar_vcf(path, "GRCh38")


def test_real_processed_clinvar_vcf_grch38(shared_data):
    path = shared_data / "clinvar-fixtures" / "macarthur_clinvar_alleles_example_750_rows.single.b38.vcf.gz"
    if not path.exists():
        pytest.skip(f"{path} absent")
    table = read_clinvar_vcf(path, release="2018-macarthur")
    # build told by the contig lengths; field names of this processed form are understood
    assert (table.build, table.release, len(table)) == ("GRCh38", "2018-macarthur", 515)
    counts = np.bincount(table.clinsig, minlength=5)
    assert counts[P] == 57 + 12 + 4 and counts[C] == 18 and counts[B] == 79 + 1 + 52 + 110
    assert np.count_nonzero(table.stars == 0) == 41
    first = np.flatnonzero((table.pos == 1014143))[0]
    assert (table.allele_id[first], table.gene[first], table.clinsig[first]) == (181485, "ISG15", P)


# ---------------------------------------------------------------------- download

def _serve_release(server, vcf_bytes, build="GRCh38", **behaviour):
    gz = gzip.compress(vcf_bytes)
    server.add(f"/clinvar/vcf_{build}/clinvar.vcf.gz", gz, **behaviour)
    server.add(f"/clinvar/vcf_{build}/clinvar.vcf.gz.tbi", b"TBI\x01index")
    server.add("/clinvar/tab_delimited/submission_summary.txt.gz",
               gzip.compress(SUBMISSIONS.read_bytes()))
    server.add("/clinvar/tab_delimited/variant_summary.txt.gz", gzip.compress(VARIANTS.read_bytes()))


def test_download_clinvar_snapshot(http_server, tmp_path):
    _serve_release(http_server, TINY_VCF.read_bytes(), fail_first=1)
    base = http_server.url("/clinvar/")
    snap = download_clinvar("GRCh38", tmp_path, base_url=base, with_tables=True, backoff=0.01)
    assert snap == tmp_path / "clinvar_GRCh38" / "2024-01-07"
    manifest = verify_snapshot(snap)
    assert sorted(manifest.files) == ["clinvar.vcf.gz", "clinvar.vcf.gz.tbi",
                                      "submission_summary.txt.gz", "variant_summary.txt.gz"]
    assert manifest.urls[0] == base + "vcf_GRCh38/clinvar.vcf.gz"
    assert len(read_clinvar_vcf(snap / "clinvar.vcf.gz")) == 9
    table, _ = load_clinvar_tables(snap / "submission_summary.txt.gz",
                                   snap / "variant_summary.txt.gz", "GRCh38", manifest.release)
    assert len(table) == 10
    # the same release again: kept as it is
    created = manifest.created
    again = download_clinvar("GRCh38", tmp_path, base_url=base, backoff=0.01)
    assert again == snap and verify_snapshot(snap).created == created
    assert [p.name for p in (tmp_path / "clinvar_GRCh38").iterdir()] == ["2024-01-07"]


def test_failed_refresh_keeps_previous_snapshot(http_server, tmp_path):
    _serve_release(http_server, TINY_VCF.read_bytes())
    base = http_server.url("/clinvar/")
    old = download_clinvar("GRCh38", tmp_path, base_url=base, backoff=0.01)
    before = {p.name: p.read_bytes() for p in old.iterdir()}

    newer = TINY_VCF.read_bytes().replace(b"fileDate=20240107", b"fileDate=20240204")
    _serve_release(http_server, newer, truncate_to=200)
    with pytest.raises(ResourceError, match=r"clinvar.vcf.gz after 2 attempts: .*(broke off|announced)"):
        download_clinvar("GRCh38", tmp_path, base_url=base, retries=1, backoff=0.01)
    assert [p.name for p in (tmp_path / "clinvar_GRCh38").iterdir()] == ["2024-01-07"]
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    verify_snapshot(old)

    _serve_release(http_server, newer)
    with pytest.raises(ResourceError, match="is GRCh38, not GRCh37"):
        download_clinvar("GRCh37", tmp_path, base_url=base,
                         vcf_url=http_server.url("/clinvar/vcf_GRCh38/clinvar.vcf.gz"))
    assert not (tmp_path / "clinvar_GRCh37").exists()
    fresh = download_clinvar("GRCh38", tmp_path, base_url=base)
    assert fresh.name == "2024-02-04" and old.exists()


def test_download_clinvar_local_files(tmp_path):
    vcf = tmp_path / "in" / "clinvar.vcf.gz"
    vcf.parent.mkdir()
    vcf.write_bytes(gzip.compress(TINY_VCF.read_bytes()))
    (tmp_path / "in" / "clinvar.vcf.gz.tbi").write_bytes(b"idx")
    snap = download_clinvar("GRCh38", tmp_path / "res", vcf_url=str(vcf))
    assert (snap / "clinvar.vcf.gz").read_bytes() == vcf.read_bytes()
    with pytest.raises(InputError, match="unknown genome build"):
        download_clinvar("hg19", tmp_path / "res", vcf_url=str(vcf))
