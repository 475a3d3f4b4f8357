"""Structural variants: SV VCF ingest, keys, joining with small variants, ``sv_lof`` and
comp-het with SV partners (rulebook §3, §5, §9 defect 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam
import pytest

from corebuilder import HET, HOM, Tx, V, build_case, quad, singleton, trio
from heron.annotate.csq import BIT
from heron.annotate.stage import annotate_shard
from heron.config import HeronConfig
from heron.errors import InputError
from heron.genome import CHROM_X
from heron.ingest.sv import SVTYPE, is_sv_key, join_sv_shard, read_sv_vcf, \
    recode_annotations, sv_keys
from heron.ingest.vcf import Region
from heron.keys import variant_keys
from heron.store import Shard

DATA = Path(__file__).resolve().parent / "data" / "sv"
MANTA = DATA / "manta_trio_chr.vcf"
GATKSV = DATA / "gatksv_nochr_grch37.vcf"
AR = {"ARG": "BIALLELIC, autosomal or pseudoautosomal"}
AD = {"ADG": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"}
DEL_LABEL = "ARG:900"


def deletion(gt: dict, gene="ARG", csq="transcript_ablation", alt="<DEL>", end=1500, **kw) -> V:
    """A deletion of chr2:901-``end`` (POS 900 is the padding base)."""
    return V("chr2", 900, gene, csq, ref="C", alt=alt, end=end, gt=gt, **kw)


def snv(pos: int, gt: dict, csq="stop_gained", gene="ARG", **kw) -> V:
    return V("chr2", pos, gene, csq, gt=gt, **kw)


def comphet(sample: str, a: str, b: str, model: str = "AR_comphet") -> set:
    return {(sample, a, b, model), (sample, b, a, model)}


def by_pos(shard, pos: int, alt: str) -> int:
    v = shard.variants
    hit = np.flatnonzero((v["pos"] == pos) & (v["alt"] == alt.encode()))
    assert len(hit) == 1, (pos, alt, len(hit))
    return int(hit[0])


@pytest.fixture
def indexed(tmp_path):
    def make(source: Path) -> Path:
        out = tmp_path / f"{source.stem}.vcf.gz"
        pysam.tabix_compress(str(source), str(out), force=True)
        pysam.tabix_index(str(out), preset="vcf", force=True)
        return out
    return make


# -- ingest ------------------------------------------------------------------------------------

def test_manta_like_vcf_columns_and_calls():
    shard = read_sv_vcf(MANTA, build="GRCh38")
    v, c = shard.variants, shard.calls
    assert shard.samples == ["kid", "dad", "mum"]
    assert np.all(np.diff(v["key"]) > 0)
    assert v["alt"].tolist() == [b"<DEL>", b"<INS:ME:ALU>", b"<DUP>", b"<DEL>", b"<CN0>",
                                 b"<CN3>", b"<INV>", b"<DEL:ME:ALU>"]
    names = {code: name for name, code in SVTYPE.items()}
    assert [names[t] for t in v["svtype"]] == ["DEL", "INS", "DUP", "DEL", "DEL", "DUP", "INV",
                                               "DEL"]
    assert v["end"].tolist() == [1500, 6000, 9000, 8560, 20000, 20000, 9000, 31000300]
    # a sequence-resolved 60-base deletion is kept as <DEL> with its first base
    seq = by_pos(shard, 8500, "<DEL>")
    assert v["ref"][seq] == b"G" and v["end"][seq] == 8560
    # SV callers write no AD or DP: missing, so the read-count gates do not apply
    assert (c["ad_alt"] == -1).all() and (c["dp"] == -1).all()
    assert c["gq"][by_pos(shard, 900, "<DEL>")].tolist() == [60, 55, 70]
    # a call failing its sample filter (FT) is missing, and leaves AN
    dup = by_pos(shard, 7000, "<DUP>")
    assert c["gt"][dup].tolist() == [-1, 1, 0]
    assert (v["ac"][dup], v["an"][dup], v["filter_pass"][dup]) == (1, 4, False)
    # a multi-allelic CNV is split; Number=A gnomAD-SV AF goes to its ALT
    cn0, cn3 = by_pos(shard, 10000, "<CN0>"), by_pos(shard, 10000, "<CN3>")
    assert c["gt"][cn0].tolist() == [1, 0, 1] and c["gt"][cn3].tolist() == [0, 1, 1]
    assert v["info.gnomad_v2.1_sv_AF"][[cn0, cn3]] == pytest.approx([0.001, 0.02])
    assert np.isnan(v["info.gnomad_v2.1_sv_AF"][dup])
    # a haploid male call on chrX counts 2, as for small variants
    x = by_pos(shard, 31000000, "<DEL:ME:ALU>")
    assert v["chrom"][x] == CHROM_X and c["gt"][x].tolist() == [2, 0, 1]
    assert shard.meta["info_descriptions"]["CSQ"].endswith("CANONICAL|MANE_SELECT")


def test_skipped_records_are_counted():
    shard = read_sv_vcf(MANTA, build="GRCh38")
    assert shard.meta["sv_skipped"] == {"breakend": 1, "shorter than 50": 1,
                                        "contig not kept": 1, "duplicate SV": 1}
    # min_length 10 keeps the 20-base deletion
    assert read_sv_vcf(MANTA, build="GRCh38", min_length=10).n_variants == 9


def test_sample_filter_can_be_off():
    shard = read_sv_vcf(MANTA, build="GRCh38", sample_filter=False)
    assert shard.calls["gt"][by_pos(shard, 7000, "<DUP>")].tolist() == [1, 1, 0]


def test_no_chr_grch37_file_and_breakend_allele():
    shard = read_sv_vcf(GATKSV, build="GRCh37")
    assert shard.variants["chrom"].tolist() == [1, 2]
    assert shard.variants["end"].tolist() == [52000, 90000]
    assert shard.calls["gt"].tolist() == [[1, 0], [2, 1]]
    assert shard.calls["gq"].tolist() == [[99, 99], [80, 60]]
    assert shard.meta["sv_skipped"] == {"breakend": 1}
    assert "info.CSQ" not in shard.variants  # not VEP-annotated: its SVs get no gene rows


def test_build_is_checked():
    with pytest.raises(InputError, match="GRCh38"):
        read_sv_vcf(MANTA, build="GRCh37")


def test_region_in_either_contig_spelling(indexed):
    path = indexed(MANTA)
    for contig in ("chr2", "2"):
        shard = read_sv_vcf(path, Region(contig, 1, 7500), build="GRCh38")
        assert shard.variants["pos"].tolist() == [900, 6000, 7000]
        assert shard.meta["region"] == f"{contig}:1-7500"


def test_sample_subset_and_unknown_sample():
    shard = read_sv_vcf(MANTA, build="GRCh38", samples=["mum", "kid"])
    assert shard.samples == ["mum", "kid"]
    assert shard.calls["gt"][by_pos(shard, 31000000, "<DEL:ME:ALU>")].tolist() == [1, 2]
    with pytest.raises(InputError, match="nobody"):
        read_sv_vcf(MANTA, build="GRCh38", samples=["nobody"])


def test_sv_keys_never_take_a_small_variant_key():
    rng = np.random.default_rng(7)
    n = 5000
    chrom = rng.integers(1, 26, n)
    pos = rng.integers(1, 250_000_000, n)
    bases = np.array(list("ACGT"))
    ref = ["".join(rng.choice(bases, rng.integers(1, 6))) for _ in range(n)]
    alt = ["".join(rng.choice(bases, rng.integers(1, 6))) for _ in range(n)]
    small = variant_keys(chrom, pos, ref, alt)
    sv = sv_keys(chrom, pos, rng.choice([b"<DEL>", b"<DUP>", b"<INS:ME:ALU>"], n),
                 pos + rng.integers(50, 10_000, n), rng.integers(0, 5000, n))
    assert not is_sv_key(small).any() and is_sv_key(sv).all()
    assert not np.isin(sv, small).any()
    # keys still sort SVs among small variants by position
    same = sv_keys([2], [1000], [b"<DEL>"], [1500], [0])
    assert variant_keys([2], [999], ["C"], ["T"])[0] < same[0] \
        < variant_keys([2], [1001], ["C"], ["T"])[0]
    # END and SVLEN tell SVs at one position apart
    assert len(set(sv_keys([2] * 3, [1000] * 3, [b"<DEL>"] * 3, [1500, 1600, 1500],
                           [0, 0, 300]).tolist())) == 3


# -- joining with the small variants -------------------------------------------------------

def test_join_aligns_samples_recodes_csq_and_annotates():
    small = build_case([snv(1000, {"kid": HOM, "mum": HET})], trio(), AR).shard
    sv = read_sv_vcf(MANTA, build="GRCh38", samples=["mum", "kid"])
    joined = join_sv_shard(_store_of(small), sv)
    v = joined.variants
    assert np.all(np.diff(v["key"]) > 0)
    assert joined.samples == ["kid", "dad", "mum"]
    d, s = by_pos(joined, 900, "<DEL>"), by_pos(joined, 1000, "T")
    assert joined.calls["gt"][d].tolist() == [1, -1, 0]  # dad is not in the SV VCF: missing
    assert (v["svtype"][s], v["end"][s]) == (0, 1000)
    assert (v["svtype"][d], v["end"][d]) == (SVTYPE["DEL"], 1500)
    assert np.isnan(v["info.gnomad_AF"][d]) and v["info.SpliceAI"][d] == b""
    # the SV VCF's CSQ fields are rewritten in the small-variant VCF's order
    annotated = annotate_shard(joined, HeronConfig())
    tx = annotated.transcripts
    mine = tx["variant"] == d
    assert tx["gene_symbol"][mine].tolist() == [b"ARG"]
    assert tx["consequence"][mine][0] == BIT["transcript_ablation"]
    assert tx["mane"][mine].all()
    # VEP names a multi-allelic CNV's entries once for the site: both ALTs keep them
    for alt in ("<CN0>", "<CN3>"):
        cnv = tx["variant"] == by_pos(joined, 10000, alt)
        assert tx["gene_symbol"][cnv].tolist() == [b"CNG"]


def _store_of(classified):
    """The ingest arrays of a classified case shard (drops classify's tables)."""
    variants = {k: a for k, a in classified.variants.items()
                if not k.startswith("ann.") and k != "store_row"}
    calls = {k: np.asarray(a) for k, a in classified.calls.items()}
    return Shard(classified.samples, classified.build, variants, calls, {},
                 dict(classified.meta))


def test_recode_annotations_by_field_name():
    source = "Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL"
    target = "Consequence annotations from Ensembl VEP. Format: SYMBOL|Feature|Consequence"
    out = recode_annotations(np.array([b"deletion|transcript_ablation|ARG,deletion|"
                                       b"intron_variant|OTHER", b""]), source, target)
    assert out.tolist() == [b"ARG||transcript_ablation,OTHER||intron_variant", b""]
    with pytest.raises(InputError, match="same tool"):
        recode_annotations(np.array([b"x"]), source, "Functional annotations: 'Allele | "
                                                     "Annotation | Gene_Name'")


def test_sv_vcf_joined_in_a_trio_pairs_with_the_snv_it_covers():
    # the SNV looks hom in the kid: the paternal copy is deleted (defect 3, from a VCF)
    case = build_case([snv(1000, {"kid": HOM, "mum": HET}, csq="missense_variant",
                           clinvar="P", stars=0)], trio(), AR,
                      sv_shard=read_sv_vcf(MANTA, build="GRCh38"))
    pairs = case.pairs()
    assert comphet("kid", "ARG:1000", "chr2:900:<DEL>") <= pairs
    # the kid's two deletions pair too; the 60-base one does not cover the SNV
    assert comphet("kid", "chr2:900:<DEL>", "chr2:8500:<DEL>") <= pairs
    assert len(pairs) == 4
    assert case.row("chr2:900:<DEL>")["categories"] == {"sv_lof"}
    # the common ALU insertion in ARG is too common for sv_lof and gets no row
    assert "chr2:6000:<INS:ME:ALU>" not in case.kept()


# -- sv_lof ------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant, categories", [
    (deletion({"kid": HET}), {"sv_lof"}),
    # a deletion never takes the small-variant categories, whatever its annotations say
    (deletion({"kid": HET}, spliceai=0.9, am=0.99), {"sv_lof"}),
    (deletion({"kid": HET}, csq="coding_sequence_variant&feature_truncation"), {"sv_lof"}),
    (deletion({"kid": HET}, csq="intron_variant&feature_truncation"), None),
    (deletion({"kid": HET}, csq="5_prime_UTR_variant"), None),
    (deletion({"kid": HET}, alt="<INS:ME:ALU>", csq="coding_sequence_variant"), {"sv_lof"}),
    (deletion({"kid": HET}, alt="<DUP>", csq="transcript_amplification"), None),
    (deletion({"kid": HET}, alt="<DUP>", csq="coding_sequence_variant&feature_elongation"),
     None),
    (deletion({"kid": HET}, alt="<INV>", csq="coding_sequence_variant"), None),
    (deletion({"kid": HET}, alt="<CN0>"), {"sv_lof"}),
])
def test_sv_lof_by_type_and_consequence(variant, categories):
    case = build_case([variant], singleton(), AR)
    if categories is None:
        assert DEL_LABEL not in case.kept()
    else:
        assert case.row(DEL_LABEL)["categories"] == categories


@pytest.mark.parametrize("sv_af, others, sv_lof", [
    (None, (0, 2000), True),
    (0.03, (0, 2000), True),
    (0.031, (0, 2000), False),
    (None, (11, 398), True),     # callset AF 12 / 400 = 0.03
    (None, (13, 398), False),    # callset AF 0.035
    (None, (3, 20), True),       # AF 0.2, but AC 4 is too few to judge the callset by
])
def test_sv_lof_frequency(sv_af, others, sv_lof):
    case = build_case([deletion({"kid": HET}, sv_af=sv_af, others=others)], singleton(), AR)
    if sv_lof:
        assert case.row(DEL_LABEL)["categories"] == {"sv_lof"}
    else:
        assert DEL_LABEL not in case.kept()


def test_sv_lof_threshold_and_consequences_are_arguments():
    common = deletion({"kid": HET}, sv_af=0.04)
    assert DEL_LABEL not in build_case([common], singleton(), AR).kept()
    case = build_case([common], singleton(), AR, classify_kw={"sv_max_af": 0.05})
    assert case.row(DEL_LABEL)["categories"] == {"sv_lof"}
    dup = deletion({"kid": HET}, alt="<DUP>", csq="coding_sequence_variant")
    case = build_case([dup], singleton(), AR,
                      classify_kw={"sv_lof_consequences": {"DUP": ["coding_sequence"]}})
    assert case.row(DEL_LABEL)["categories"] == {"sv_lof"}


def test_gnomad_sv_af_feeds_the_moi_frequency_filters():
    rare = V("chr2", 900, "ADG", "transcript_ablation", ref="C", alt="<DEL>", end=1500,
             gt={"kid": HET})
    assert build_case([rare], singleton(), AD).passes() == {("kid", "ADG:900", "AD")}
    seen = V("chr2", 900, "ADG", "transcript_ablation", ref="C", alt="<DEL>", end=1500,
             sv_af=0.001, gt={"kid": HET})
    case = build_case([seen], singleton(), AD)
    assert case.row("ADG:900")["categories"] == {"sv_lof"}
    assert case.passes() == set()
    audit = case.audit("kid", "ADG:900")
    assert (audit["rule"], audit["threshold"]) == ("AD.frequency", "dominant.gnomad_af <= 1e-05")
    assert audit["observed"] == pytest.approx(0.001)


def test_sv_outside_the_panel_genes_gets_no_row():
    other = deletion({"kid": HET}, gene="OTHER")
    assert build_case([other], singleton(), AR).kept() == set()
    # a deletion across two genes has a row only for the panel gene
    wide = deletion({"kid": HET}, extra_tx=[Tx("OTHER", "transcript_ablation")])
    rows = build_case([wide], singleton(), AR).shard.rows
    assert len(rows["variant"]) == 1


# -- comp-het with SV partners -----------------------------------------------------------------

@pytest.mark.parametrize("snv_carriers, outcome", [
    ({"kid": HET, "mum": HET}, "trans"),
    ({"kid": HET, "dad": HET}, "cis"),
    ({"kid": HET}, "unknown"),          # de novo SNV or missed call: phase not known
])
def test_deletion_and_snv_comphet_in_a_trio(snv_carriers, outcome):
    variants = [deletion({"kid": HET, "dad": HET}), snv(3000, snv_carriers)]
    case = build_case(variants, trio(), AR)
    if outcome == "cis":
        assert case.pairs() == set()
        assert case.audit("kid", DEL_LABEL)["threshold"] == "comphet.cis_by_parents"
        return
    assert case.pairs() == comphet("kid", DEL_LABEL, "ARG:3000")
    flags = case.candidate_flags("kid", DEL_LABEL, "AR_comphet")
    assert flags == (set() if outcome == "trans" else {"phase_unknown"})


def test_unaffected_sibling_with_both_vetoes_the_sv_pair():
    variants = [deletion({"kid": HET, "dad": HET, "sib": HET}),
                snv(3000, {"kid": HET, "mum": HET, "sib": HET})]
    case = build_case(variants, quad(), AR)
    assert case.pairs() == set()
    assert case.audit("kid", DEL_LABEL)["threshold"] == "comphet.unaffected_relatives"


@pytest.mark.parametrize("snv_pos, end, paired", [
    (1000, 1500, True),
    (1500, 1500, True),      # the last deleted base
    (901, 1500, True),       # the first deleted base
    (900, 1500, False),      # the padding base is not deleted
    (1501, 1500, False),
    (3000, 1500, False),
])
def test_hom_snv_pairs_only_with_a_deletion_covering_it(snv_pos, end, paired):
    variants = [deletion({"kid": HET}, end=end), snv(snv_pos, {"kid": HOM})]
    case = build_case(variants, singleton(), AR)
    label = f"ARG:{snv_pos}"
    if paired:
        assert case.pairs() == comphet("kid", DEL_LABEL, label)
        # the SNV sits on the copy the deletion spared: in trans with no parents to ask
        assert case.candidate_flags("kid", label, "AR_comphet") == set()
    else:
        assert case.pairs() == set()
        assert case.failed("kid", label, "AR_comphet") == "AR_comphet.genotype"
    assert ("kid", label, "AR_hom") in case.passes()  # the apparent hom call still stands


def test_hom_snv_inside_a_deletion_does_not_pair_with_other_hets():
    variants = [deletion({"kid": HET}), snv(1000, {"kid": HOM}), snv(3000, {"kid": HET})]
    case = build_case(variants, singleton(), AR)
    assert case.pairs() == comphet("kid", DEL_LABEL, "ARG:1000") \
        | comphet("kid", DEL_LABEL, "ARG:3000")


@pytest.mark.parametrize("variants", [
    # the deletion is the father's, not the kid's
    [deletion({"dad": HET}), snv(1000, {"kid": HOM, "dad": HET, "mum": HET})],
    # a duplication covering the SNV explains nothing (even one made sv_lof)
    [deletion({"kid": HET}, alt="<DUP>", csq="coding_sequence_variant"),
     snv(1000, {"kid": HOM})],
    # the deletion is in another gene
    [deletion({"kid": HET}, gene="OTHER"), snv(1000, {"kid": HOM})],
], ids=["parent's deletion", "duplication", "other gene"])
def test_hom_snv_without_its_own_covering_deletion_stays_unpaired(variants):
    case = build_case(variants, trio(), {**AR, "OTHER": AR["ARG"]},
                      classify_kw={"sv_lof_consequences": {"DEL": ["transcript_ablation"],
                                                           "DUP": ["coding_sequence"]}})
    assert variants[0].label in case.kept()
    assert case.pairs() == set()


def test_hom_snv_inside_a_deletion_on_x_in_a_female():
    xbi = {"XBI": "X-LINKED: hemizygous mutation in males, biallelic mutations in females"}
    variants = [V("chrX", 31_000_000, "XBI", "transcript_ablation", ref="C", alt="<DEL>",
                  end=31_005_000, gt={"kid": HET}),
                V("chrX", 31_002_000, "XBI", "stop_gained", gt={"kid": HOM})]
    case = build_case(variants, singleton("F"), xbi)
    assert case.pairs() == comphet("kid", "XBI:31000000", "XBI:31002000", "XLR_comphet")


def test_pipeline_ingest_joins_the_sv_vcf_and_parses_consequences_once(tmp_path):
    import pysam

    from heron.config import HeronConfig
    from heron.pipeline import ingest

    small = tmp_path / "small.vcf"
    small.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr2,length=242193529>\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        'Ensembl VEP. Format: Allele|Consequence|SYMBOL|Gene|Feature|BIOTYPE">\n'
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tkid\tdad\tmum\n"
        "chr2\t1000\t.\tC\tT\t50\tPASS\tCSQ=T|missense_variant|ARG|ENSG_ARG|ENST_ARG_0|"
        "protein_coding\tGT:AD:DP:GQ\t1/1:0,30:30:99\t0/0:30,0:30:99\t0/1:15,15:30:99\n")
    small_gz = pysam.tabix_index(str(small), preset="vcf", force=True)
    sv_gz = pysam.tabix_index(str(_copy(MANTA, tmp_path)), preset="vcf", force=True)
    config = HeronConfig.model_validate({"cohort": {"vcfs": [small_gz], "sv_vcfs": [sv_gz]}})
    shard = Shard.load(ingest(config, "chr2", tmp_path / "store"))
    v = shard.variants
    assert "info.CSQ" not in v  # parsed into the transcripts table at ingest
    alts = [a.decode() for a in v["alt"]]
    assert alts[:2] == ["<DEL>", "T"]  # genome order: the deletion starts at 900
    assert v["svtype"].tolist()[:2] == [1, 0]
    assert shard.calls["gt"][1].tolist() == [2, 0, 1]
    assert shard.calls["gt"][0].tolist() == [1, 1, 0]
    genes = {(int(i), s.decode()) for i, s in zip(shard.transcripts["variant"],
                                                   shard.transcripts["gene_symbol"])}
    assert {(0, "ARG"), (1, "ARG")} <= genes


def _copy(path, folder):
    target = folder / Path(path).name
    target.write_bytes(Path(path).read_bytes())
    return target
