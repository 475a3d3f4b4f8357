"""gnomAD index: VCF reading (multi-allelic, chr/no-chr, regions), hemizygotes, joins, I/O."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam
import pytest
from httpserver import http_server  # noqa: F401 (pytest fixture)

from heron.errors import InputError, ResourceError
from heron.genome import chrom_code
from heron.keys import variant_keys
from heron.resources.gnomad import (GnomadIndex, build_gnomad_index, download_gnomad,
                                    resolve_fields)
from heron.resources.snapshot import verify_snapshot

DATA = Path(__file__).resolve().parent / "data" / "gnomad"
V4 = DATA / "gnomad_v4_multiallelic_chrx.vcf"
V2 = DATA / "gnomad_v2_nochr_grch37.vcf"
INS_A, INS_B = "ACGGCTGAAGTCCAT", "AGATCCCCAACTGTG"  # A>INS_A and A>INS_B share a key


def query(*variants):
    """(keys, ref, alt) of ``(contig, pos, ref, alt)`` tuples."""
    chrom = np.array([chrom_code(v[0]) for v in variants], np.int8)
    pos = np.array([v[1] for v in variants], np.int64)
    ref = np.array([v[2] for v in variants])
    alt = np.array([v[3] for v in variants])
    return variant_keys(chrom, pos, ref, alt), ref, alt


def bgzip(source: Path, tmp_path: Path) -> Path:
    out = tmp_path / (source.stem + ".vcf.gz")
    pysam.tabix_compress(str(source), str(out), force=True)
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out


@pytest.fixture(scope="module")
def v4_index():
    return build_gnomad_index(V4, release="4.1")


def test_v4_values_multiallelic_split_and_trim(v4_index):
    out = v4_index.join(*query(
        ("chr1", 1000, "A", "G"), ("chr1", 2000, "CTT", "C"), ("chr1", 2000, "CT", "C"),
        ("chr1", 3000, "G", "A"), ("chr1", 3000, "G", "T"), ("chr1", 3000, "G", "C"),
        ("1", 4000, "A", "T"), ("chr1", 5000, "T", "C")))
    assert out["found"].tolist() == [True, True, True, True, True, False, True, True]
    np.testing.assert_allclose(out["af"][:5], [0.001, 0.01, 0.02, 0.1, 0.2], rtol=1e-6)
    assert out["ac"].tolist() == [10, 100, 200, 1000, 2000, -1, 0, 2]
    assert out["hom"].tolist() == [1, 3, 4, 10, 20, -1, 0, 0]
    np.testing.assert_allclose(out["grpmax_af"][:5], [0.002, 0.015, 0.03, 0.11, 0.22], rtol=1e-6)
    assert np.isnan(out["af"][5]) and np.isnan(out["af"][7])  # absent; AF '.' in gnomAD
    assert np.isnan(out["grpmax_af"][7])                       # field missing from the record
    assert out["filter_pass"].tolist() == [True] * 5 + [False, False, True]  # AC0 at 4000
    assert out["af"].dtype == np.float32 and out["ac"].dtype == np.int32


def test_skips_star_symbolic_and_other_contigs(v4_index):
    # 13 records: 1 star allele, 1 <DEL>, 1 chrUn record dropped; 3 multi-allelic records add 4
    assert len(v4_index) == 14
    assert v4_index.lookup(*query(("chr1", 7000, "G", "<DEL>")))[0] == -1


def test_hemizygotes_par_nonpar_and_y(v4_index):
    out = v4_index.join(*query(
        ("chrX", 100000, "C", "T"),        # PAR1: diploid in XY, no hemizygotes
        ("chrX", 5000000, "G", "A"),       # non-PAR: XY homozygotes are hemizygotes
        ("chrX", 6000000, "A", "C"), ("chrX", 6000000, "A", "G"),
        ("chrY", 3000000, "T", "G"), ("chr1", 1000, "A", "G")))
    assert out["hemi"].tolist() == [0, 5, 3, 1, 20, 0]
    assert out["hom"].tolist() == [6, 2, 1, 0, 0, 1]


def test_colliding_keys_keep_both_alleles(v4_index):
    keys, ref, alt = query(("chr1", 6000, "A", INS_A), ("chr1", 6000, "A", INS_B))
    assert keys[0] == keys[1]
    out = v4_index.join(keys, ref, alt)
    assert out["ac"].tolist() == [7, 9]
    # the same key with an allele gnomAD does not have is not found
    only_a = GnomadIndex.from_arrays([1], [6000], ["A"], [INS_A], [0.5], [5], [0], [0], [0.5],
                                     release="t")
    assert only_a.lookup(keys, ref, alt).tolist() == [0, -1]
    assert only_a.lookup(keys[:1], ["A"], ["ACGGCTGAAGTCCAA"]).tolist() == [-1]


def test_chunking_and_duplicate_files_give_the_same_index(v4_index):
    small = build_gnomad_index([V4, V4], chunk_rows=1, release="4.1")
    for name in ("key", "af", "ac", "hom", "hemi", "filter_pass", "allele_row",
                 "allele_offsets", "allele_bytes"):
        np.testing.assert_array_equal(getattr(small, name), getattr(v4_index, name))


def test_v2_preset_nochr_grch37(tmp_path):
    index = build_gnomad_index(bgzip(V2, tmp_path), fields="v2", release="2.1.1")
    assert index.build == "GRCh37"
    out = index.join(*query(("chr1", 1000, "A", "G"), ("chrX", 2000000, "C", "T"),
                            ("X", 2800000, "C", "A")))
    np.testing.assert_allclose(out["af"], [0.02, 0.04, 0.0533], rtol=1e-5)
    np.testing.assert_allclose(out["grpmax_af"], [0.05, 0.06, 0.07], rtol=1e-6)
    # 2,000,000 lies in the GRCh37 PAR1 (not in GRCh38's coordinates of it, but that is not used)
    assert out["hemi"].tolist() == [0, 0, 4]
    assert out["hom"].tolist() == [1, 2, 1]


def test_regions_with_either_contig_spelling(tmp_path):
    v4 = bgzip(V4, tmp_path)
    x_part = build_gnomad_index(v4, region="X:1-5500000")
    assert len(x_part) == 2
    assert x_part.join(*query(("chrX", 5000000, "G", "A")))["hemi"].tolist() == [5]
    only_y = build_gnomad_index(v4, region="chrY")
    assert only_y.join(*query(("chrY", 3000000, "T", "G")))["ac"].tolist() == [20]
    v2 = build_gnomad_index(bgzip(V2, tmp_path), fields="v2", region="chrX:2500000-3000000")
    assert len(v2) == 1


def test_field_mapping_overrides():
    names = resolve_fields({"preset": "v4", "grpmax_af": None, "hemi": None})
    assert names["af"] == "AF_joint" and names["grpmax_af"] is None
    index = build_gnomad_index(V4, fields=names)
    out = index.join(*query(("chrX", 5000000, "G", "A"), ("chr1", 1000, "A", "G")))
    assert np.isnan(out["grpmax_af"]).all()
    assert out["hemi"].tolist() == [-1, 0]   # unknown where it matters, 0 on autosomes
    assert out["hom"].tolist() == [7, 1]     # no XY count to subtract
    assert resolve_fields("v2")["hemi"] == "nhomalt_male"
    with pytest.raises(InputError, match="unknown gnomAD field role"):
        resolve_fields({"AF": "AF"})
    with pytest.raises(InputError, match="unknown gnomAD field preset"):
        resolve_fields("v3.5")


def test_bad_input_is_explained(tmp_path):
    with pytest.raises(InputError, match=r"INFO/AF is not declared.*preset 'v4'"):
        build_gnomad_index(V4, fields="v2")
    with pytest.raises(InputError, match="header says GRCh37, but GRCh38"):
        build_gnomad_index(V2, fields="v2", build="GRCh38")
    with pytest.raises(InputError, match="gnomAD VCF not found"):
        build_gnomad_index(tmp_path / "absent.vcf.bgz")
    with pytest.raises(InputError, match="index the VCF"):
        build_gnomad_index(V4, region="chr1:1-100")


def test_save_load_round_trip(v4_index, tmp_path):
    folder = v4_index.save(tmp_path / "gnomad")
    loaded = GnomadIndex.load(folder)
    assert isinstance(loaded.key, np.memmap) and loaded.release == "4.1"
    assert loaded.fields["af"] == "AF_joint" and loaded.build == "GRCh38"
    q = query(("chr1", 6000, "A", INS_B), ("chrX", 6000000, "A", "G"), ("chr1", 9, "A", "C"))
    for name, values in v4_index.join(*q).items():
        np.testing.assert_array_equal(loaded.join(*q)[name], values)
    (folder / "hemi.npy").write_bytes(b"not numpy")
    with pytest.raises(ResourceError, match="not a readable gnomAD index"):
        GnomadIndex.load(folder)


def test_empty_queries_and_empty_index(v4_index):
    empty_q = (np.zeros(0, np.int64), np.zeros(0, "S1"), np.zeros(0, "S1"))
    assert v4_index.lookup(*empty_q).shape == (0,)
    empty = GnomadIndex.from_arrays([], [], [], [], [], [], [], [], [], release="t")
    assert empty.join(*query(("chr1", 1000, "A", "G")))["found"].tolist() == [False]


def test_download_snapshot_then_index(http_server, tmp_path):  # noqa: F811
    gz = bgzip(V4, tmp_path)
    http_server.add("/release/4.1/chr1.vcf.bgz", gz.read_bytes(), fail_first=1)
    http_server.add("/release/4.1/chr1.vcf.bgz.tbi", Path(f"{gz}.tbi").read_bytes())
    snap = download_gnomad(tmp_path / "res", ["chr1"], release="4.1",
                           url_template=http_server.url("/release/4.1/chr{chrom}.vcf.bgz"),
                           backoff=0.01)
    assert snap == tmp_path / "res" / "gnomad_GRCh38" / "4.1"
    assert sorted(verify_snapshot(snap).files) == ["chr1.vcf.bgz", "chr1.vcf.bgz.tbi"]
    index = build_gnomad_index(snap / "chr1.vcf.bgz", region="chr1", release="4.1")
    assert len(index) == 9
    with pytest.raises(InputError, match="no default URLs"):
        download_gnomad(tmp_path / "res", ["1"], release="3.0")
