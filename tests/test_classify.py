"""Pre-filters (rulebook §2), categories (§3), frequency filters (§4) and call flags (§5)."""

from __future__ import annotations

import pandas as pd
import pytest

from corebuilder import HET, HOM, Tx, V, build_case, config, singleton
from heron.resources.clinvar import Pm5Index

AD = {"ADG": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"}
AR = {"ARG": "BIALLELIC, autosomal or pseudoautosomal"}
XBI = {"XBI": "X-LINKED: hemizygous mutation in males, biallelic mutations in females"}
LABEL = "ADG:1000"


def one(csq="stop_gained", gene="ADG", kid=HET, genes=AD, cfg=None, pm5_index=None,
        sex="M", **kw):
    """A singleton case of one variant at chr2:1000 (chrX when the gene is XBI)."""
    chrom, pos = ("chrX", 31_000_000) if gene == "XBI" else ("chr2", 1000)
    variant = V(chrom, pos, gene, csq, gt={"kid": kid}, **kw)
    return build_case([variant], singleton(sex), genes, cfg=cfg, pm5_index=pm5_index), \
        variant.label


# -- pre-filters -------------------------------------------------------------------------------

@pytest.mark.parametrize("clinvar, stars, rule", [
    ("B", 1, "prefilter.clinvar_benign"),
    ("B", 2, "prefilter.clinvar_benign"),
    ("B", 0, ""),             # an unreviewed benign assertion does not drop the variant
    ("VUS", 2, ""),
    ("C", 1, ""),
])
def test_benign_with_stars_dropped(clinvar, stars, rule):
    case, label = one(clinvar=clinvar, stars=stars)
    assert case.row(label)["prefilter_rule"] == rule
    assert case.reported() == (set() if rule else {("kid", label)})
    if rule:
        audit = case.audit("kid", label)
        assert audit["rule"] == "prefilter"
        assert audit["threshold"].startswith("prefilter.clinvar_benign")


@pytest.mark.parametrize("filter_, clinvar, stars, rule", [
    ("LowQual", None, 0, "prefilter.filter_not_pass"),
    ("VQSRTrancheSNP99.90to100.00", "VUS", 1, "prefilter.filter_not_pass"),
    ("LowQual", "P", 0, ""),     # ClinVar P/LP of any stars keeps a failed FILTER
    ("LowQual", "P", 2, ""),
    (".", None, 0, ""),
])
def test_filter_fail_kept_only_for_clinvar_plp(filter_, clinvar, stars, rule):
    case, label = one(filter=filter_, clinvar=clinvar, stars=stars)
    assert case.row(label)["prefilter_rule"] == rule


@pytest.mark.parametrize("af, clinvar, rule", [
    (0.0099, None, ""),
    (0.01, None, "prefilter.gnomad_af"),
    (0.3, None, "prefilter.gnomad_af"),
    (None, None, ""),             # absent from gnomAD counts as 0
    (0.3, "P", ""),
])
def test_gnomad_af_prefilter(af, clinvar, rule):
    case, label = one(af=af, clinvar=clinvar, stars=1)
    row = case.row(label)
    assert row["prefilter_rule"] == rule
    if rule:
        assert row["prefilter_observed"] == pytest.approx(af)


@pytest.mark.parametrize("others, clinvar, rule", [
    # the kid adds AC 1 / AN 2 to the rest of the cohort
    ((5, 400), None, "prefilter.callset_frequency"),   # AC 6, AF 0.0149
    ((5, 600), None, ""),                              # AC 6, AF 0.00997
    ((4, 100), None, ""),                              # AC 5 is not above 5 (AF 0.049)
    ((50, 400), "P", ""),                              # ClinVar P/LP is exempt
])
def test_callset_prefilter(others, clinvar, rule):
    case, label = one(others=others, clinvar=clinvar, stars=0)
    assert case.row(label)["prefilter_rule"] == rule


def test_callset_prefilter_boundary_af_is_inclusive():
    # AC 6 / AN 600 = 0.01 exactly: dropped (AF >= 0.01)
    case, label = one(others=(5, 598))
    assert case.row(label)["prefilter_rule"] == "prefilter.callset_frequency"


def test_biotypes_and_mane():
    coding = V("chr2", 1000, "ADG", "stop_gained", gt={"kid": HET})
    nmd = V("chr2", 2000, "ADG", "stop_gained", biotype="nonsense_mediated_decay", mane=False,
            gt={"kid": HET})
    nmd_mane = V("chr2", 3000, "ADG", "stop_gained", biotype="nonsense_mediated_decay",
                 gt={"kid": HET})
    case = build_case([coding, nmd, nmd_mane], singleton(), AD)
    assert case.kept() == {"ADG:1000", "ADG:3000"}


def test_high_impact_only_from_kept_transcripts():
    variant = V("chr2", 1000, "ADG", "missense_variant", gt={"kid": HET},
                extra_tx=[Tx("ADG", "stop_gained", biotype="processed_transcript")])
    case = build_case([variant], singleton(), AD)
    assert case.row(LABEL)["categories"] == set()


def test_high_impact_from_any_kept_transcript():
    variant = V("chr2", 1000, "ADG", "missense_variant", gt={"kid": HET},
                extra_tx=[Tx("ADG", "splice_donor_variant", mane=False)])
    case = build_case([variant], singleton(), AD)
    assert case.row(LABEL)["categories"] == {"high_impact"}


def test_genes_outside_the_gene_set_make_no_rows():
    case, label = one(gene="OTHER", genes=AD)
    assert case.kept() == set()


def test_variant_in_two_genes_gets_a_row_per_gene():
    variant = V("chr2", 1000, "ADG", "stop_gained", gt={"kid": HET},
                extra_tx=[Tx("ARG", "missense_variant", mane=True)])
    case = build_case([variant], singleton(), {**AD, **AR})
    assert len(case.shard.rows["variant"]) == 2
    assert case.passes() == {("kid", LABEL, "AD")}


# -- categories --------------------------------------------------------------------------------

@pytest.mark.parametrize("csq, expected", [
    ("frameshift_variant", True), ("stop_gained", True), ("stop_lost", True),
    ("start_lost", True), ("splice_acceptor_variant", True), ("splice_donor_variant", True),
    ("transcript_ablation", True), ("frameshift_variant&splice_region_variant", True),
    ("missense_variant", False), ("splice_region_variant&intron_variant", None),
    ("inframe_deletion", False), ("synonymous_variant", None), ("intron_variant", None),
])
def test_high_impact(csq, expected):
    case, label = one(csq=csq)
    if expected is None:  # no category and not de novo eligible: classify drops the row
        assert case.kept() == set()
    else:
        assert ("high_impact" in case.row(label)["categories"]) is expected


@pytest.mark.parametrize("stars, green, expected", [
    (1, "2015-01-01", "clinvar_plp"),
    (3, "2015-01-01", "clinvar_plp"),
    (0, "2025-06-01", "clinvar_recent_gene"),   # gene green 7 months before the run
    (0, "2023-06-01", "clinvar_0star"),         # green 31 months before: not new
])
def test_clinvar_categories(stars, green, expected):
    case, label = one(csq="missense_variant", clinvar="P", stars=stars,
                      genes={"ADG": (AD["ADG"], green)})
    assert case.row(label)["categories"] == {expected}
    # only the primary ones make a candidate alone
    assert case.reported() == ({("kid", label)} if expected != "clinvar_0star" else set())


def test_clinvar_min_stars_is_configurable():
    case, label = one(csq="missense_variant", clinvar="P", stars=1,
                      cfg=config(**{"categories.clinvar_min_stars": 2}))
    assert case.row(label)["categories"] == {"clinvar_0star"}


@pytest.mark.parametrize("score, expected", [(0.5, True), (0.92, True), (0.49, False)])
def test_spliceai(score, expected):
    case, label = one(csq="intron_variant", spliceai=score)
    if expected:
        assert case.row(label)["categories"] == {"spliceai"}
        assert case.reported() == {("kid", label)}
    else:
        assert case.kept() == set()


def pm5_index(rows: list[tuple[str, int, int]], transcript: str = "ENST_ADG_0") -> Pm5Index:
    """A PM5 index of known ClinVar P/LP missense: (gene, protein position, allele id)."""
    return Pm5Index.from_frame(pd.DataFrame({
        "gene": [r[0] for r in rows], "transcript": transcript,
        "protein_pos": [r[1] for r in rows], "aa_ref": "R", "aa_alt": "W",
        "allele_id": [r[2] for r in rows], "stars": 2}))


OWN_ID, OTHER_ID = 5001, 5002  # ClinVar allele ids: this variant, another at the codon


@pytest.mark.parametrize("csq, known, expected", [
    ("missense_variant", [("ADG", 408, OTHER_ID)], True),    # a different P/LP at the codon
    ("missense_variant", [("ADG", 408, OWN_ID)], False),     # only this very variant known
    ("missense_variant", [("ADG", 408, OWN_ID), ("ADG", 408, OTHER_ID)], True),
    ("missense_variant", [("ADG", 409, OTHER_ID)], False),   # another codon
    ("missense_variant", [("OTHER", 408, OTHER_ID)], False),  # another gene
    ("stop_gained", [("ADG", 408, OTHER_ID)], False),        # not a missense
])
def test_pm5(csq, known, expected):
    case, label = one(csq=csq, protein_pos=408, clinvar="VUS", clinvar_id=OWN_ID,
                      pm5_index=pm5_index(known))
    assert ("pm5" in case.row(label)["categories"]) is expected
    if expected:  # primary on its own
        assert case.passes() == {("kid", label, "AD")}


def test_pm5_needs_a_protein_position():
    case, label = one(csq="missense_variant", pm5_index=pm5_index([("ADG", 408, OTHER_ID)]))
    assert "pm5" not in case.row(label)["categories"]


def test_pm5_same_transcript_only():
    index = pm5_index([("ADG", 408, OTHER_ID)], transcript="ENST_OTHER_ISOFORM")
    case, label = one(csq="missense_variant", protein_pos=408, pm5_index=index)
    assert "pm5" not in case.row(label)["categories"]


@pytest.mark.parametrize("transcript, expected", [
    ("ENST_ADG_0.4", True),   # versions are ignored on both sides
    ("NM_0.2", True),         # a RefSeq entry matches the transcript's MANE Select id
    ("", True),               # an entry without a transcript matches on the gene
    ("NM_1", False),          # another RefSeq transcript
])
def test_pm5_transcript_names(transcript, expected):
    index = pm5_index([("ADG", 408, OTHER_ID)], transcript=transcript)
    case, label = one(csq="missense_variant", protein_pos=408, pm5_index=index)
    assert ("pm5" in case.row(label)["categories"]) is expected


@pytest.mark.parametrize("score, expected", [(0.9, True), (0.565, True), (0.564, False)])
def test_alphamissense_category(score, expected):
    case, label = one(csq="missense_variant", am=score)
    assert ("alphamissense" in case.row(label)["categories"]) is expected


def test_alphamissense_only_on_missense():
    case, label = one(csq="stop_gained", am=0.9)
    assert case.row(label)["categories"] == {"high_impact"}


def test_alphamissense_alone_needs_phenotype():
    case, label = one(csq="missense_variant", am=0.9)
    c = case.result.candidates
    assert case.passes() == {("kid", label, "AD")}
    assert c["needs_phenotype"].tolist() == [True]
    with_primary, label = one(csq="missense_variant", am=0.9, clinvar="P", stars=1)
    assert not with_primary.result.candidates["needs_phenotype"].any()


def test_alphamissense_alone_can_be_switched_off():
    case, label = one(csq="missense_variant", am=0.9,
                      cfg=config(**{"phenotype.alphamissense_alone": False}))
    assert case.passes() == set()
    assert case.why("kid", label) == "AD.category"


def test_clinvar_0star_never_stands_alone():
    case, label = one(csq="missense_variant", clinvar="P", stars=0)
    assert case.passes() == set()
    assert case.why("kid", label) == "AD.category"


def test_roles_are_configurable():
    cfg = config(**{"categories.roles": {**config().categories.roles, "clinvar_0star": "primary"}})
    case, label = one(csq="missense_variant", clinvar="P", stars=0, cfg=cfg)
    assert case.passes() == {("kid", label, "AD")}


# -- frequency filters per limit set ----------------------------------------------------------

@pytest.mark.parametrize("kw, rule", [
    # ClinVar-dominant: P/LP >= 1 star, AF 5e-5 and callset AF 0.05; no AC/hom limits
    (dict(clinvar="P", stars=1, af=4e-5, ac=50, hom=3), ""),
    (dict(clinvar="P", stars=1, af=6e-5), "clinvar_dominant.gnomad_af"),
    (dict(clinvar="P", stars=1, others=(10, 400)), ""),                     # callset AF 0.027
    (dict(clinvar="P", stars=1, others=(30, 400)), "clinvar_dominant.callset_af"),
    # dominant: AF 1e-5, AC 10, homozygotes 0, callset AF 0.01
    (dict(af=1e-5, ac=10, hom=0), ""),
    (dict(af=2e-5), "dominant.gnomad_af"),
    (dict(af=1e-6, ac=11), "dominant.gnomad_ac"),
    (dict(af=1e-6, hom=1), "dominant.gnomad_homozygotes"),
    (dict(clinvar="P", stars=0, others=(12, 998)), "dominant.callset_af"),  # AC 13, AF 0.013
    (dict(clinvar="P", stars=0, others=(9, 98)), ""),    # AF 0.1 but AC 10: callset not used
])
def test_dominant_limits(kw, rule):
    case, label = one(**kw)
    assert case.row(label)["dominant_rule"] == rule
    assert case.reported() == (set() if rule else {("kid", label)})
    if rule:
        assert case.why("kid", label) == "AD.frequency"


@pytest.mark.parametrize("kw, rule", [
    # ClinVar-recessive: AF 0.05, callset AF 0.05
    (dict(clinvar="P", stars=1, af=0.04, hom=300), ""),
    (dict(clinvar="P", stars=1, af=0.06), "clinvar_recessive.gnomad_af"),
    (dict(clinvar="P", stars=2, others=(28, 400)), "clinvar_recessive.callset_af"),
    # recessive: AF 0.01, homozygotes 5, callset AF 0.01
    (dict(af=0.009, hom=5), ""),
    (dict(af=0.001, hom=6), "recessive.gnomad_homozygotes"),
    (dict(af=0.001, hemi=50), ""),                        # hemizygotes only count on X
    (dict(clinvar="P", stars=0, af=0.02), "recessive.gnomad_af"),
    (dict(clinvar="P", stars=0, others=(11, 498)), "recessive.callset_af"),  # AC 13, AF 0.026
])
def test_recessive_limits(kw, rule):
    case, label = one(gene="ARG", genes=AR, kid=HOM, **kw)
    assert case.row(label)["recessive_rule"] == rule
    assert case.reported() == (set() if rule else {("kid", label)})
    if rule:
        assert case.why("kid", label) == "AR_hom.frequency"


@pytest.mark.parametrize("hemi, rule", [(5, ""), (6, "recessive.gnomad_hemizygotes"),
                                        (None, "")])
def test_recessive_hemizygote_limit_on_x(hemi, rule):
    case, label = one(gene="XBI", genes=XBI, kid=HOM, sex="F", af=1e-4, ac=20, hom=0, hemi=hemi)
    assert case.row(label)["recessive_rule"] == rule
    assert case.reported() == (set() if rule else {("kid", label)})


def test_x_par_is_not_held_to_the_hemizygote_limit():
    variant = V("chrX", 100_000, "XBI", "stop_gained", gt={"kid": HOM}, af=1e-4, hemi=50)
    case = build_case([variant], singleton("F"), XBI)
    assert case.row("XBI:100000")["recessive_rule"] == ""
    assert case.passes() == {("kid", "XBI:100000", "AR_hom")}


def test_frequency_audit_names_the_limit_and_the_value():
    case, label = one(af=2e-5)
    audit = case.audit("kid", label)
    assert audit["rule"] == "AD.frequency"
    assert audit["threshold"] == "dominant.gnomad_af <= 1e-05"
    assert audit["observed"] == pytest.approx(2e-5)


# -- call QC and flags -------------------------------------------------------------------------

@pytest.mark.parametrize("kid, flags", [
    ("0/1:20,18:38:99", set()),
    ("0/1:40,10:50:99", {"allele_balance"}),      # het AB 0.20
    ("0/1:10,40:50:99", {"allele_balance"}),      # het AB 0.80
    ("0/1:30,10:40:99", set()),                   # het AB 0.25: inside
    ("1/1:3,17:20:99", {"allele_balance"}),       # hom AB 0.85
    ("1/1:2,18:20:99", set()),                    # hom AB 0.90
])
def test_allele_balance_flag(kid, flags):
    case, label = one(kid=kid, gene="ARG" if kid.startswith("1/1") else "ADG",
                      genes=AR if kid.startswith("1/1") else AD)
    assert case.reported() == {("kid", label)}
    assert case.flags("kid", label) == flags


def test_low_depth_fails_unless_starred_clinvar():
    shallow = "0/1:3,5:8:99"
    case, label = one(kid=shallow)
    assert case.passes() == set()
    assert case.why("kid", label) == "call.depth"
    assert case.audit("kid", label)["observed"] == 8
    starred, label = one(kid=shallow, clinvar="P", stars=1)
    assert starred.passes() == {("kid", label, "AD")}
    assert starred.flags("kid", label) == {"low_depth"}


def test_depth_from_dp_when_ad_is_missing():
    case, label = one(kid="0/1:.:8:99")
    assert case.why("kid", label) == "call.depth"
    case, label = one(kid="0/1:.:30:99")
    assert case.passes() == {("kid", label, "AD")}


def test_alt_reads_always_required():
    case, label = one(kid="0/1:30,4:34:99", clinvar="P", stars=2)
    assert case.why("kid", label) == "call.alt_reads"


def test_gene_set_round_trips_through_json(tmp_path):
    import numpy as np

    from heron.classify.genes import GeneSet

    rng = np.random.default_rng(7)
    member = rng.random((5, 13)) < 0.4  # 13 genes: rows not a whole number of bytes
    genes = GeneSet(np.array([f"G{i}" for i in range(13)]), np.array([""] * 13),
                    np.zeros(13, np.int8), np.ones(13, np.int8), np.zeros(13, bool),
                    np.array([""] * 13), [["p"]] * 13, [f"s{i}" for i in range(5)], member)
    genes.to_json(tmp_path / "genes.json")
    back = GeneSet.from_json(tmp_path / "genes.json")
    assert (back.member == member).all() and back.patients == genes.patients
    assert back.symbol.tolist() == genes.symbol.tolist()
    empty = GeneSet(genes.symbol, genes.gene_id, genes.moi_auto, genes.moi_x, genes.new,
                    genes.new_since, genes.panels, [], np.zeros((0, 13), bool))
    empty.to_json(tmp_path / "empty.json")
    assert GeneSet.from_json(tmp_path / "empty.json").member.shape == (0, 13)


def test_gene_set_index_of_prefers_the_ensembl_id_then_the_symbol():
    import numpy as np

    from heron.classify.genes import GeneSet

    n = 4
    genes = GeneSet(np.array(["A", "B", "B", "C"]), np.array(["ENSG1", "", "ENSG3", "ENSG1"]),
                    np.zeros(n, np.int8), np.zeros(n, np.int8), np.zeros(n, bool),
                    np.array([""] * n), [[]] * n, [], np.zeros((0, n), bool))
    found = genes.index_of(np.array(["ENSG3", "", "ENSG1", "ENSG9", "", ""]),
                           np.array(["A", "B", "Z", "C", "", "Q"]))
    # the id decides (a repeated id or symbol names its first gene); else the symbol; an
    # empty symbol or an unknown one is not in the set
    assert found.tolist() == [2, 1, 0, 3, -1, -1]
    assert found.dtype == np.int32
    assert genes.index_of(np.array([], dtype=str), np.array([], dtype=str)).tolist() == []


def test_gene_set_merges_a_gene_listed_on_several_panels():
    import datetime as dt

    from heron.classify.genes import MOI, build_gene_set
    from heron.resources.moi import simplify_moi

    genes = pd.DataFrame({
        "panel_id": [2, 1, 1, 3], "symbol": ["ADG", "ADG", "ARG", "ARG"],
        "gene_id": ["ENSG_ADG", "ENSG_ADG", "", ""],
        "moi_raw": [AR["ARG"], AD["ADG"], AR["ARG"], AR["ARG"]],
        "green_date": ["2025-05-01", "2019-01-01", "2019-01-01", "not a date"]})
    gene_set = build_gene_set(
        genes, {1: "Panel B", 2: "Panel A", 3: "Panel C"}, {"kid": {2, 3}}, base_panel=1,
        forced_panels=[], custom_panels=[], forbidden=[], require_match=[],
        new_gene_months=6, run_date=dt.date(2025, 6, 1), simplify=simplify_moi)
    by_symbol = {s: i for i, s in enumerate(gene_set.symbol.tolist())}
    adg, arg = by_symbol["ADG"], by_symbol["ARG"]
    assert gene_set.gene_id[adg] == "ENSG_ADG" and gene_set.gene_id[arg] == ""
    assert gene_set.panels[adg] == ["Panel A", "Panel B"]
    assert gene_set.panels[arg] == ["Panel B", "Panel C"]
    # the most lenient MOI of any panel; new when green recently on any panel, since then
    assert gene_set.moi_auto[adg] == MOI["Monoallelic"]
    assert gene_set.new[adg] and gene_set.new_since[adg] == "2025-05-01"
    assert not gene_set.new[arg] and gene_set.new_since[arg] == ""
    assert gene_set.member.tolist() == [[True, True]]
