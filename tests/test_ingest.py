"""VCF ingest: splitting, trimming, genotype coding, FORMAT gaps, contigs, builds, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heron.errors import InputError
from heron.genome import CHROM_M, CHROM_X
from heron.ingest.vcf import (Region, list_regions, merge_shards, parse_shard, plan_shards,
                              read_region, read_regions, shard_text)
from heron.keys import variant_keys
from heron.store import Shard


def row(shard: Shard, pos: int, ref: str, alt: str) -> int:
    v = shard.variants
    hit = np.flatnonzero((v["pos"] == pos) & (v["ref"] == ref.encode()) &
                         (v["alt"] == alt.encode()))
    assert len(hit) == 1, f"{pos}:{ref}>{alt} found {len(hit)} times"
    return int(hit[0])


def test_multiallelic_split_genotypes_ad_and_info(vcf_fixture):
    shard = read_region(vcf_fixture("multiallelic.vcf"), None, build="GRCh38",
                        info_float=["AF"], info_string=["NOTE"])
    assert shard.samples == ["S1", "S2", "S3", "S4"]
    # 2 + 2 (the '*' allele dropped) + 1
    assert shard.n_variants == 5
    t = row(shard, 1000, "A", "T")
    c = row(shard, 1000, "A", "C")
    assert shard.calls["gt"][t].tolist() == [1, 1, 0, -1]
    assert shard.calls["gt"][c].tolist() == [1, 0, 2, -1]
    assert shard.calls["ad_ref"][t].tolist() == [2, 10, 0, -1]
    assert shard.calls["ad_alt"][t].tolist() == [10, 9, 0, -1]
    assert shard.calls["ad_alt"][c].tolist() == [12, 0, 20, -1]
    assert (shard.variants["ac"][t], shard.variants["an"][t]) == (2, 6)
    assert (shard.variants["ac"][c], shard.variants["an"][c]) == (3, 6)
    assert shard.variants["info.AF"][t] == pytest.approx(0.1)
    assert shard.variants["info.AF"][c] == pytest.approx(0.002)
    assert shard.variants["info.NOTE"][t] == b"x"
    assert shard.variants["alt_index"][c] == 2 and shard.variants["n_alts"][c] == 2


def test_alleles_trimmed_and_filter_kept(vcf_fixture):
    shard = read_region(vcf_fixture("multiallelic.vcf"), None, build="GRCh38")
    deletion = row(shard, 2000, "CTT", "C")
    shorter = row(shard, 2000, "CT", "C")  # CTT>CT trimmed from the right
    insertion = row(shard, 3000, "G", "GT")  # GA>GTA trimmed from the right
    assert shard.calls["gt"][deletion].tolist() == [0, 0, 2, 0]
    assert shard.calls["gt"][shorter].tolist() == [1, 0, 0, 0]
    assert not shard.variants["filter_pass"][deletion]
    assert shard.variants["filter_pass"][insertion]
    # "./1" still shows one copy; "0/." says nothing about the ALT
    assert shard.calls["gt"][insertion].tolist() == [1, 0, 1, -1]


def test_keys_are_sorted_and_stable(vcf_fixture):
    shard = read_region(vcf_fixture("multiallelic.vcf"), None, build="GRCh38")
    keys = shard.variants["key"]
    assert np.all(np.diff(keys) > 0)
    again = variant_keys(shard.variants["chrom"], shard.variants["pos"], shard.variants["ref"],
                         shard.variants["alt"])
    assert np.array_equal(keys, again)


def test_missing_ad_dp_gq_are_minus_one(vcf_fixture):
    shard = read_region(vcf_fixture("missing_ad_gq.vcf"), None, build="GRCh38")
    gt_only = row(shard, 1000, "A", "G")
    assert shard.calls["gt"][gt_only].tolist() == [1, 2]
    for field in ("ad_ref", "ad_alt", "dp", "gq"):
        assert shard.calls[field][gt_only].tolist() == [-1, -1]
    dp_dot = row(shard, 1100, "C", "T")
    assert shard.calls["dp"][dp_dot].tolist() == [-1, 33]
    gq_dot = row(shard, 1200, "G", "A")
    assert shard.calls["gq"][gq_dot].tolist() == [-1, -1]
    assert shard.calls["ad_alt"][gq_dot].tolist() == [-1, 11]
    assert shard.calls["dp"][gq_dot].tolist() == [25, 21]


def test_haploid_calls_on_x_and_mito(vcf_fixture):
    shard = read_region(vcf_fixture("haploid_chrx.vcf"), None, build="GRCh38")
    hemi = row(shard, 31819974, "G", "A")
    assert shard.variants["chrom"][hemi] == CHROM_X
    assert shard.calls["gt"][hemi].tolist() == [2, 1]  # haploid alt counts as two copies
    assert (shard.variants["ac"][hemi], shard.variants["an"][hemi]) == (2, 3)
    assert shard.calls["gt"][row(shard, 31819990, "G", "C")].tolist() == [0, 2]
    assert shard.calls["gt"][row(shard, 31820000, "T", "C")].tolist() == [-1, 0]
    mito = row(shard, 11778, "G", "A")
    assert shard.variants["chrom"][mito] == CHROM_M
    assert shard.calls["gt"][mito].tolist() == [2, 0]


def test_phase_and_phase_sets(vcf_fixture):
    shard = read_region(vcf_fixture("phased.vcf"), None, build="GRCh38")
    first, second = row(shard, 1000, "A", "G"), row(shard, 1500, "C", "T")
    assert shard.calls["phase"][first].tolist() == [2, 1]
    assert shard.calls["phase"][second].tolist() == [1, 0]
    assert shard.calls["ps"][first].tolist() == [1000, 1000]
    assert shard.calls["ps"][second].tolist() == [1000, 0]


def test_empty_vcf_gives_an_empty_shard_that_round_trips(vcf_fixture, tmp_path):
    shard = read_region(vcf_fixture("empty.vcf"), None, build="GRCh38")
    assert shard.n_variants == 0 and shard.samples == ["S1"]
    assert shard.calls["gt"].shape == (0, 1)
    loaded = Shard.load(shard.save(tmp_path / "empty_shard"))
    assert loaded.n_variants == 0 and loaded.samples == ["S1"]


def test_corrupt_line_is_a_clear_error(vcf_fixture):
    with pytest.raises(InputError) as err:
        read_region(vcf_fixture("corrupt_line.vcf", index=False), None, build="GRCh38")
    message = str(err.value)
    assert "corrupt_line.vcf.gz" in message and "chr1:1000" in message


def test_no_chr_contigs_grch37_and_other_contigs_skipped(vcf_fixture):
    shard = read_region(vcf_fixture("nochr_grch37.vcf", index=False), None, build="GRCh37")
    assert shard.variants["chrom"].tolist() == [1, CHROM_X, CHROM_M]
    assert shard.calls["gt"][:, 0].tolist() == [1, 2, 2]


def test_build_mismatch_is_refused(vcf_fixture):
    with pytest.raises(InputError, match="GRCh37 but the config says GRCh38"):
        read_region(vcf_fixture("nochr_grch37.vcf", index=False), None, build="GRCh38")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match="VCF not found"):
        read_region(tmp_path / "absent.vcf.gz", None, build="GRCh38")


def test_regions_read_once_each(vcf_fixture):
    path = vcf_fixture("multiallelic.vcf")
    whole = read_region(path, None, build="GRCh38")
    left = read_region(path, Region("chr1", 1, 1999), build="GRCh38")
    right = read_region(path, Region("chr1", 2000, 5000), build="GRCh38")
    assert left.n_variants + right.n_variants == whole.n_variants
    assert [str(r) for r in list_regions([str(path)], 1000)] == ["chr1"]
    assert Region.parse("chr2:5-10") == Region("chr2", 5, 10)


def test_merge_of_batches_keeps_missing_as_missing(vcf_fixture, tmp_path):
    a = read_region(vcf_fixture("phased.vcf"), None, build="GRCh38")
    b = read_region(vcf_fixture("missing_ad_gq.vcf"), None, build="GRCh38")
    b.samples = ["T1", "T2"]
    merged = merge_shards([a, b])
    assert merged.samples == ["S1", "S2", "T1", "T2"]
    only_a = row(merged, 1500, "C", "T")
    assert merged.calls["gt"][only_a].tolist() == [1, 1, -1, -1]
    # for the callset frequency the batch without the site counts as hom-ref
    assert (merged.variants["ac"][only_a], merged.variants["an"][only_a]) == (2, 8)
    both = row(merged, 1000, "A", "G")
    assert merged.calls["gt"][both].tolist() == [1, 1, 1, 2]
    assert merged.variants["ac"][both] == 5
    with pytest.raises(InputError, match="more than one VCF"):
        merge_shards([a, a])


@pytest.mark.parametrize("name,build,samples", [
    ("hapmap_exome_chr22.vcf.gz", "GRCh37", 22),
    ("giab_ashk_trio.b37.first10k.vcf.gz", "GRCh37", 3),
    ("scout_643594_trio.vep.b37.vcf.gz", "GRCh37", 3),
])
def test_real_vcfs_match_cyvcf2(shared_data, name, build, samples):
    import cyvcf2

    path = shared_data / "vcf" / name
    shard = read_region(path, None, build=build)
    assert shard.n_samples == samples
    expected_alts = 0
    het_hom = []
    for record in cyvcf2.VCF(str(path)):
        alts = [a for a in record.ALT if a != "*"]
        expected_alts += len(alts)
        fully_called = (record.genotype.array()[:, :2] >= 0).all()
        if len(record.ALT) == 1 and len(record.REF) == 1 and len(record.ALT[0]) == 1 \
                and fully_called:
            # cyvcf2 gt_types: 0 hom-ref, 1 het, 2 unknown, 3 hom-alt
            coded = np.array([0, 1, -1, 2])[record.gt_types]
            het_hom.append((record.POS, record.REF, record.ALT[0], coded))
    assert shard.n_variants == expected_alts
    for pos, ref, alt, coded in het_hom[:500]:
        got = shard.calls["gt"][row(shard, pos, ref, alt)]
        assert np.array_equal(got, coded), f"{name} {pos}"


def test_giab_trio_mendelian_error_rate(shared_data):
    """The README's checked 0.9 % Mendelian-error rate, recomputed from heron's arrays."""
    shard = read_region(shared_data / "vcf" / "giab_ashk_trio.b37.first10k.vcf.gz", None,
                        build="GRCh37")
    gt = shard.calls["gt"]
    child, father, mother = (shard.samples.index(s) for s in ("HG002", "HG003", "HG004"))
    called = (gt[:, [child, father, mother]] >= 0).all(axis=1)
    informative = called & (gt[:, [child, father, mother]] > 0).any(axis=1)
    c, f, m = gt[:, child], gt[:, father], gt[:, mother]
    impossible = ((c == 1) & (f == 0) & (m == 0)) | ((c == 2) & ((f == 0) | (m == 0))) | \
                 ((c == 0) & ((f == 2) | (m == 2)))
    rate = (impossible & informative).sum() / informative.sum()
    assert 0.003 < rate < 0.02


def test_left_alignment_with_a_reference(vcf_fixture, tmp_path):
    """A deletion written at the right end of a homopolymer moves to its left end."""
    from heron.config import HeronConfig
    from heron.pipeline import ingest

    fasta = tmp_path / "ref.fa"
    fasta.write_text((Path(__file__).parent / "data" / "fasta" / "left_align.fa").read_text())
    import pysam

    pysam.faidx(str(fasta))
    config = HeronConfig.model_validate({"cohort": {
        "vcfs": [str(vcf_fixture("left_align.vcf"))], "reference_fasta": str(fasta)}})
    shard = Shard.load(ingest(config, "chr1", tmp_path / "shard"))
    assert (int(shard.variants["pos"][0]), shard.variants["ref"][0], shard.variants["alt"][0]) \
        == (42, b"CA", b"C")
    plain = HeronConfig.model_validate({"cohort": {"vcfs": [str(vcf_fixture("left_align.vcf"))]}})
    shard = Shard.load(ingest(plain, "chr1", tmp_path / "plain"))
    assert int(shard.variants["pos"][0]) == 48


def test_requested_sample_order_is_kept(vcf_fixture):
    path = vcf_fixture("multiallelic.vcf")
    shard = read_region(path, None, build="GRCh38", samples=["S3", "S1"])
    assert shard.samples == ["S3", "S1"]
    c = row(shard, 1000, "A", "C")
    assert shard.calls["gt"][c].tolist() == [2, 1]
    assert shard.calls["ad_alt"][c].tolist() == [20, 12]
    with pytest.raises(InputError, match="samples not in the VCF: S9"):
        read_region(path, None, build="GRCh38", samples=["S9"])


# -- the compiled reader (engine="fast") against cyvcf2 (engine="cyvcf2") --------------------

DATA = Path(__file__).resolve().parent / "data"
SHARED_VCFS = ("chr22.vcf.gz", "exomiser_Pfeiffer.b37.vcf.gz",
               "giab_ashk_trio.b37.first10k.vcf.gz", "hapmap_exome_chr22.vcf.gz",
               "scout_643594_trio.vep.b37.vcf.gz", "scout_vep104_annotated.b37.vcf.gz",
               "scout_vep97_clnsig_revel.b37.vcf.gz")


def info_fields(path: Path) -> tuple[list[str], list[str]]:
    """Every INFO field of the header that read_region can keep: numbers with one value per
    record or per allele (and flags), and strings of any Number."""
    import re

    from heron.ingest.vcf import open_vcf

    vcf = open_vcf(path)
    header = vcf.raw_header
    vcf.close()
    numbers, strings = [], []
    for name, number, kind in re.findall(r"##INFO=<ID=([^,]+),Number=([^,]+),Type=(\w+)",
                                         header):
        if kind in ("String", "Character"):
            strings.append(name)
        elif number in ("0", "1", "A", "R"):
            numbers.append(name)
    return numbers, strings


def file_build(path: Path) -> str:
    from heron.genome import build_from_contigs
    from heron.ingest.vcf import header_contigs, open_vcf

    vcf = open_vcf(path)
    try:
        return build_from_contigs(header_contigs(vcf)) or "GRCh38"
    finally:
        vcf.close()


def assert_same_shard(fast: Shard, slow: Shard) -> None:
    """Every array equal in value (NaN = NaN), dtype and shape; samples and meta equal. Call
    matrices only need the same type as the store saves them (the compiled reader's start
    narrow, the cyvcf2 reader's wide)."""
    from heron.store import narrowest

    assert fast.samples == slow.samples
    assert fast.meta == slow.meta
    assert list(fast.variants) == list(slow.variants)
    for table, other in ((fast.variants, slow.variants), (fast.calls, slow.calls)):
        assert list(table) == list(other)
        for name in table:
            a, b = table[name], other[name]
            if table is fast.calls:
                a, b = narrowest(a), narrowest(b)
            assert a.dtype == b.dtype or a.size == b.size == 0, name
            np.testing.assert_array_equal(a, b, err_msg=name)


def read_both(monkeypatch, path: Path, region: Region | None = None,
              samples: list[str] | None = None) -> tuple[Shard, Shard]:
    """The region read by both engines with every INFO field; the fast read may not hand the
    whole file to cyvcf2 (only single FALLBACK records)."""
    from heron.ingest import vcf as reader

    numbers, strings = info_fields(path)
    kw = dict(build=file_build(path), info_float=numbers, info_string=strings, samples=samples)

    def refuse(*args, **kwargs):
        raise AssertionError("the fast engine read the whole file with cyvcf2")

    with monkeypatch.context() as patch:
        patch.setattr(reader, "_read_cyvcf2", refuse)
        fast = read_region(path, region, engine="fast", **kw)
    slow = read_region(path, region, engine="cyvcf2", **kw)
    assert_same_shard(fast, slow)
    return fast, slow


def some_region(shard: Shard, contig: str) -> Region:
    """A region over part of the shard's first chromosome: its first variant excluded."""
    pos = np.sort(shard.variants["pos"][shard.variants["chrom"] == shard.variants["chrom"][0]])
    return Region(contig, int(pos[0]) + 1, int(pos[-1]) + 1)


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "vcf").glob("*.vcf")
                                        if p.name != "corrupt_line.vcf"))
def test_fast_engine_equals_cyvcf2_on_test_vcfs(vcf_fixture, monkeypatch, name):
    path = vcf_fixture(name)
    whole, _ = read_both(monkeypatch, path)
    read_both(monkeypatch, DATA / "vcf" / name)  # plain text, not compressed
    if whole.n_variants:
        contig = next(iter(__import__("pysam").TabixFile(str(path)).contigs))
        read_both(monkeypatch, path, Region(contig))
        read_both(monkeypatch, path, some_region(whole, contig))
        read_both(monkeypatch, path, samples=whole.samples[::-1])


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "fastparse").glob("*.vcf")))
def test_fast_engine_equals_cyvcf2_on_fastparse_vcfs(monkeypatch, name):
    fast, _ = read_both(monkeypatch, DATA / "fastparse" / name)
    assert fast.n_variants > 0
    if fast.n_samples > 2:
        # a subset in another order than the file's, one sample asked twice
        read_both(monkeypatch, DATA / "fastparse" / name,
                  samples=[fast.samples[2], fast.samples[0], fast.samples[2]])


def test_fallback_records_keep_file_order_and_per_allele_info(vcf_fixture, monkeypatch):
    # records 2 (triploid) and 4 (negative AD) go to cyvcf2, between records the compiled
    # reader parses; each shares its key with the parsed record before it
    fast, _ = read_both(monkeypatch, vcf_fixture("fallback_and_info.vcf"))
    v = fast.variants
    twice = np.flatnonzero((v["pos"] == 100) & (v["alt"] == b"G"))
    np.testing.assert_allclose(v["info.gnomad_AF"][twice], [0.01, 0.02])  # file order
    assert fast.calls["gt"][twice].tolist() == [[1, 1, 0], [2, 0, 1]]  # 0/1/1 counts 2
    t = row(fast, 100, "A", "T")
    assert np.isnan(v["info.gnomad_AF"][t]) and v["info.RC"][t] == 2
    assert v["info.TAG"][t] == b"b" and v["info.CSQ"][t] == b"G|missense,T|stop_gained"
    assert v["info.DB"][t] == 1 and np.isnan(v["info.DB"][row(fast, 200, "G", "A")])
    same_key = np.flatnonzero((v["pos"] == 150) & (v["ref"] == b"CA") & (v["alt"] == b"C"))
    np.testing.assert_allclose(v["info.gnomad_AF"][same_key], [0.1, 0.05])
    assert fast.calls["ad_ref"][same_key[1]].tolist() == [-1, 0, -1]
    assert v["info.TAG"][row(fast, 150, "CAA", "C")] == b"y"
    assert np.isnan(v["info.SCORE"][same_key[1]]) and v["info.SCORE"][t] == 1.5
    assert np.isnan(v["info.RC"][row(fast, 300, "T", "TA")])
    assert row(fast, 400, "G", "A") >= 0
    assert 5 not in v["pos"].tolist()  # the unplaced contig is skipped


def test_corrupt_line_gives_the_same_error_with_both_engines(vcf_fixture):
    path = vcf_fixture("corrupt_line.vcf", index=False)
    messages = []
    for engine in ("fast", "cyvcf2"):
        with pytest.raises(InputError) as err:
            read_region(path, None, build="GRCh38", engine=engine)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "corrupt_line.vcf.gz" in messages[0] and "after chr1:1000" in messages[0]


def test_headers_and_formats_the_compiled_reader_does_not_take_go_to_cyvcf2(tmp_path):
    from pysam import bcftools

    from heron.ingest import vcf as reader

    text = (DATA / "vcf" / "multiallelic.vcf").read_text()
    odd = tmp_path / "ps_as_string.vcf"  # a FORMAT type the compiled reader refuses
    odd.write_text(text.replace("ID=PS,Number=1,Type=Integer", "ID=PS,Number=1,Type=String"))
    bcf = tmp_path / "multiallelic.bcf"
    bcftools.view("-Ob", "-o", str(bcf), str(DATA / "vcf" / "multiallelic.vcf"),
                  catch_stdout=False)
    for path in (odd, bcf):
        kw = dict(build="GRCh38", info_float=["AF"], info_string=["NOTE"])
        assert_same_shard(read_region(path, None, **kw),
                          read_region(path, None, engine="cyvcf2", **kw))
    assert not reader._fast_readable(bcf, None)
    with pytest.raises(ValueError, match="engine"):
        read_region(odd, None, build="GRCh38", engine="htslib")


@pytest.mark.parametrize("name", SHARED_VCFS)
def test_fast_engine_equals_cyvcf2_on_real_vcfs(shared_data, monkeypatch, name):
    path = shared_data / "vcf" / name
    whole, _ = read_both(monkeypatch, path)
    if Path(f"{path}.tbi").exists():
        contig = next(iter(__import__("pysam").TabixFile(str(path)).contigs))
        read_both(monkeypatch, path, some_region(whole, contig), samples=whole.samples[::-1])


@pytest.fixture(scope="module")
def generated_cohort(tmp_path_factory) -> Path:
    """A small cohort from the performance benchmark's generator (GT:AD:DP:GQ, VEP CSQ,
    gnomAD INFO, multi-allelic records, no-calls written two ways)."""
    from benchmarks.performance.generate import generate
    from benchmarks.performance.genes import synthetic_genes

    return generate(tmp_path_factory.mktemp("cohort"), 30, 1500, synthetic_genes(300)).vcf


def test_fast_engine_equals_cyvcf2_on_a_generated_cohort(generated_cohort, monkeypatch):
    whole, _ = read_both(monkeypatch, generated_cohort)
    assert (whole.variants["n_alts"] > 1).any() and (whole.calls["gt"] == -1).any()
    assert whole.variants["info.CSQ"][0].count(b"|") > 5
    read_both(monkeypatch, generated_cohort, Region("chr2"))
    read_both(monkeypatch, generated_cohort, some_region(whole, "chr1"),
              samples=whole.samples[20:2:-3])


def test_small_contigs_share_a_shard_and_big_ones_are_cut(generated_cohort):
    from heron.ingest.vcf import _index_stats

    path = str(generated_cohort)
    records = {name: n for name, _, n in _index_stats(path)}
    limit = 150  # chr1 and chr2 hold ~100 records each, chr21 and chr22 more
    plan = plan_shards([path], limit)
    regions = [r for shard in plan for r in shard]
    assert [r.contig for r in regions] == list(records)  # every contig once, in genome order
    for shard in plan:
        assert len(shard) == 1 or sum(records[r.contig] for r in shard) <= limit
    assert ["chr4", "chr5", "chr6"] in [[r.contig for r in s] for s in plan]
    assert shard_text(plan[2]) == "chr4..chr6"
    assert [shard_text(s) for s in plan_shards([path], 10_000)] == ["chr1..chrX"]
    cut = plan_shards([path], 60)
    assert [str(r) for r in cut[0]] == ["chr1:1-124478211"]
    assert [str(r) for r in cut[1]] == ["chr1:124478212-248956422"]
    # the shards together read every variant once
    whole = read_region(generated_cohort, None, build="GRCh38")
    parts = [read_regions(generated_cohort, shard, build="GRCh38") for shard in cut]
    assert sum(p.n_variants for p in parts) == whole.n_variants
    np.testing.assert_array_equal(np.sort(np.concatenate([p.variants["key"] for p in parts])),
                                  whole.variants["key"])
    assert parts[2].meta["region"] == shard_text(cut[2])


def test_shard_text_round_trips_and_refuses_bad_ranges():
    shard = [Region("chr1", 1, 500), Region("chr20"), Region("chr21"), Region("chr22"),
             Region("chrX"), Region("chrM")]
    text = shard_text(shard)
    assert text == "chr1:1-500,chr20..chrX,chrM"
    assert parse_shard(text) == shard
    assert parse_shard("chrX..chrM") == [Region("chrX"), Region("chrY"), Region("chrM")]
    assert parse_shard("20..22") == [Region("20"), Region("21"), Region("22")]
    assert parse_shard("X..M")[-1] == Region("MT")
    assert parse_shard("chr2,chr3") == [Region("chr2"), Region("chr3")]
    assert parse_shard("*") == [Region("*")] and parse_shard("chr5:1-9") == [Region("chr5", 1, 9)]
    for bad in ("chr22..chr20", "chr1..chrUn", "chr1,"):
        with pytest.raises(InputError):
            parse_shard(bad)


def test_several_regions_read_as_one_shard_equal_to_cyvcf2(generated_cohort, monkeypatch):
    from heron.ingest import vcf as reader

    whole = read_region(generated_cohort, None, build="GRCh38")
    regions = [some_region(whole, "chr1"), Region("chr2"), Region("chr21"), Region("chr9", 1, 50)]
    numbers, strings = info_fields(generated_cohort)
    kw = dict(build="GRCh38", info_float=numbers, info_string=strings,
              samples=whole.samples[::-2])

    def refuse(*args, **kwargs):
        raise AssertionError("the fast engine read the file with cyvcf2")

    with monkeypatch.context() as patch:
        patch.setattr(reader, "_read_cyvcf2", refuse)
        fast = read_regions(generated_cohort, regions, engine="fast", **kw)
    assert_same_shard(fast, read_regions(generated_cohort, regions, engine="cyvcf2", **kw))
    assert set(np.unique(fast.variants["chrom"]).tolist()) == {1, 2, 21}
    assert np.all(np.diff(fast.variants["key"]) >= 0)
    one = read_region(generated_cohort, Region("chr21"), build="GRCh38")
    assert one.n_variants == int((fast.variants["chrom"] == 21).sum())
