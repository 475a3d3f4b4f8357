"""AlphaMissense: reading the TSV, max score per variant, per-transcript scores, I/O, download."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from httpserver import http_server  # noqa: F401 (pytest fixture)

from heron.errors import InputError, ResourceError
from heron.genome import chrom_code
from heron.keys import variant_keys
from heron.resources.alphamissense import (AM_CLASSES, AlphaMissenseTable,
                                           download_alphamissense, read_alphamissense)
from heron.resources.snapshot import verify_snapshot

DATA = Path(__file__).resolve().parent / "data" / "alphamissense"
HG38 = DATA / "alphamissense_hg38_two_transcripts.tsv"
ISOFORMS_HG19 = DATA / "alphamissense_isoforms_hg19.tsv"
BAD = DATA / "alphamissense_bad_score.tsv"
PATHOGENIC = AM_CLASSES.index("likely_pathogenic")


def query(*variants):
    chrom = np.array([chrom_code(v[0]) for v in variants], np.int8)
    pos = np.array([v[1] for v in variants], np.int64)
    ref = np.array([v[2] for v in variants])
    alt = np.array([v[3] for v in variants])
    return variant_keys(chrom, pos, ref, alt), ref, alt


def test_max_score_and_its_transcript_per_variant(tmp_path):
    gz = tmp_path / "AlphaMissense_hg38.tsv.gz"
    gz.write_bytes(gzip.compress(HG38.read_bytes()))
    table = read_alphamissense(gz, "GRCh38", release="2023-09", chunk_rows=2)
    assert len(table) == 5 and table.build == "GRCh38"
    out = table.join(*query(("chr2", 1000, "A", "G"), ("1", 69094, "G", "C"),
                            ("chr1", 69094, "G", "A"), ("chrX", 5000, "C", "T"),
                            ("chr1", 69094, "G", "G"), ("chr3", 1, "A", "C")))
    np.testing.assert_allclose(out["score"][:4], [0.9, 0.8, 0.45, 0.6], rtol=1e-6)
    assert np.isnan(out["score"][4:]).all()
    assert out["transcript"].tolist() == ["ENST00000000002", "ENST00000335137",
                                          "ENST00000335137", "ENST00000000003", "", ""]
    assert out["am_class"].tolist() == [PATHOGENIC, PATHOGENIC, AM_CLASSES.index("ambiguous"),
                                        PATHOGENIC, -1, -1]
    assert out["score"].dtype == np.float32


def test_alleles_are_confirmed():
    table = read_alphamissense(HG38)
    keys, ref, alt = query(("chr1", 69094, "G", "T"))
    row = table.lookup(keys, ref, alt)[0]
    assert row >= 0 and (table.ref[row], table.alt[row]) == (b"G", b"T")
    assert table.lookup(keys, ["A"], ["T"]).tolist() == [-1]  # same key, other REF claimed


def test_per_transcript_scores():
    table = read_alphamissense(HG38, per_transcript=True)
    assert len(table.tx_key) == 6
    keys, ref, alt = query(("chr2", 1000, "A", "G"), ("chr2", 1000, "A", "G"),
                           ("chr2", 1000, "A", "G"), ("chr1", 69094, "G", "T"),
                           ("chr1", 69094, "G", "T"))
    scores = table.transcript_scores(keys, ref, alt, np.array([
        b"ENST00000000001.7", b"ENST00000000002", b"ENST00000335137", b"ENST00000335137.4", b""]))
    np.testing.assert_allclose(scores, [0.3, 0.9, np.nan, 0.2937, np.nan], rtol=1e-6)
    with pytest.raises(InputError, match="no per-transcript scores"):
        read_alphamissense(HG38).transcript_scores(keys, ref, alt, ["ENST00000000001"] * 5)


def test_isoforms_file_and_build_check():
    table = read_alphamissense(ISOFORMS_HG19, per_transcript=True)
    assert table.build == "GRCh37" and len(table) == 1
    assert table.join(*query(("chr1", 69094, "G", "T")))["transcript"].tolist() == \
        ["ENST00000999999"]
    with pytest.raises(InputError, match="rows are hg19, but GRCh38 was asked for"):
        read_alphamissense(ISOFORMS_HG19, "GRCh38")


def test_bad_input_is_explained(tmp_path):
    with pytest.raises(InputError, match=r"alphamissense_bad_score.tsv:6: not an SNV"):
        read_alphamissense(BAD)
    headless = tmp_path / "headless.tsv"
    headless.write_text("chr1\t1\tA\tC\n")
    with pytest.raises(InputError, match="no '#CHROM"):
        read_alphamissense(headless)
    wrong = tmp_path / "wrong.tsv"
    wrong.write_text("#CHROM\tPOS\tREF\tALT\n")
    with pytest.raises(InputError, match="missing column"):
        read_alphamissense(wrong)
    with pytest.raises(InputError, match="not found"):
        read_alphamissense(tmp_path / "absent.tsv.gz")


def test_save_load_round_trip(tmp_path):
    table = read_alphamissense(HG38, per_transcript=True, release="2023-09")
    loaded = AlphaMissenseTable.load(table.save(tmp_path / "am"))
    assert loaded.release == "2023-09" and isinstance(loaded.score, np.memmap)
    q = query(("chr2", 1000, "A", "G"), ("chrX", 5000, "C", "T"))
    np.testing.assert_array_equal(loaded.join(*q)["score"], table.join(*q)["score"])
    np.testing.assert_array_equal(loaded.transcript_scores(*q, ["ENST00000000001", "x"]),
                                  table.transcript_scores(*q, ["ENST00000000001", "x"]))
    without = AlphaMissenseTable.load(read_alphamissense(HG38).save(tmp_path / "plain"))
    assert without.tx_key is None
    (tmp_path / "am" / "meta.json").write_text("{")
    with pytest.raises(ResourceError, match="not a readable AlphaMissense table"):
        AlphaMissenseTable.load(tmp_path / "am")


def test_download_snapshot(http_server, tmp_path):  # noqa: F811
    body = gzip.compress(HG38.read_bytes())
    http_server.add("/am/AlphaMissense_hg38.tsv.gz", body, fail_first=1)
    snap = download_alphamissense("GRCh38", tmp_path, url=http_server.url(
        "/am/AlphaMissense_hg38.tsv.gz"), backoff=0.01)
    assert snap == tmp_path / "alphamissense_GRCh38" / "2023-09"
    assert list(verify_snapshot(snap).files) == ["AlphaMissense_hg38.tsv.gz"]
    assert len(read_alphamissense(snap / "AlphaMissense_hg38.tsv.gz", "GRCh38")) == 5
    http_server.add("/am/page.html", b"<html>moved</html>")
    with pytest.raises(ResourceError, match="not an AlphaMissense file"):
        download_alphamissense("GRCh38", tmp_path, release="x",
                               url=http_server.url("/am/page.html"))
    assert not (tmp_path / "alphamissense_GRCh38" / "x").exists()
    with pytest.raises(InputError, match="unknown genome build"):
        download_alphamissense("hg38", tmp_path)
