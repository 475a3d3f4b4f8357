"""The reference tool's known defects (rulebook §9), each shown not to happen in heron."""

from __future__ import annotations

import numpy as np
import pytest

from corebuilder import HEMI, HET, HOM, HOM_REF, MISSING, V, build_case, config, quad, \
    singleton, three_generations, trio

AD = {"ADG": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"}
AR = {"ARG": "BIALLELIC, autosomal or pseudoautosomal"}
XBI = {"XBI": "X-LINKED: hemizygous mutation in males, biallelic mutations in females"}
MT = {"MT-ND4": "MITOCHONDRIAL"}


# 1. the hemizygote population filter --------------------------------------------------------

@pytest.mark.parametrize("hemi, reported", [(40, False), (5, True)])
def test_1_hemizygote_filter_applies_to_x_recessive(hemi, reported):
    variant = V("chrX", 31_000_000, "XBI", "stop_gained", af=2e-4, ac=30, hom=0, hemi=hemi,
                gt={"kid": HOM})
    case = build_case([variant], singleton("F"), XBI)
    label = "XBI:31000000"
    assert case.passes() == ({("kid", label, "XLR_hom")} if reported else set())
    if not reported:
        audit = case.audit("kid", label)
        assert audit["rule"] == "XLR_hom.frequency"
        assert audit["threshold"] == "recessive.gnomad_hemizygotes <= 5"
        assert audit["observed"] == hemi


def test_1_hemizygote_filter_applies_to_x_comphet_partners():
    variants = [V("chrX", 31_000_000, "XBI", "stop_gained", gt={"kid": HET}),
                V("chrX", 31_000_500, "XBI", "frameshift_variant", af=2e-4, hemi=40,
                  gt={"kid": HET})]
    case = build_case(variants, singleton("F"), XBI)
    assert case.pairs() == set()
    assert case.failed("kid", "XBI:31000500", "XLR_comphet") == "XLR_comphet.frequency"


# 2. X-linked female comp-het ---------------------------------------------------------------

def test_2_x_linked_female_comphet_is_formed():
    variants = [V("chrX", 31_000_000, "XBI", "stop_gained", gt={"kid": HET}),
                V("chrX", 31_000_500, "XBI", "missense_variant", clinvar="P", stars=0,
                  gt={"kid": HET, "mum": HET})]
    case = build_case(variants, trio("F"), XBI)
    assert case.pairs() == {("kid", "XBI:31000000", "XBI:31000500", "XLR_comphet"),
                            ("kid", "XBI:31000500", "XBI:31000000", "XLR_comphet")}


# 3. hom + SV deletion -------------------------------------------------------------------------

def test_3_hom_snv_pairs_with_a_deletion_covering_it():
    # the kid looks homozygous for the maternal SNV because the paternal allele is deleted
    variants = [V("chr2", 1000, "ARG", "missense_variant", clinvar="P", stars=0,
                  gt={"kid": HOM, "mum": HET}),
                V("chr2", 900, "ARG", "transcript_ablation", ref="C", alt="<DEL>", end=1500,
                  gt={"kid": HET, "dad": HET})]
    case = build_case(variants, trio(), AR)
    assert ("kid", "ARG:1000", "ARG:900", "AR_comphet") in case.pairs()
    assert ("kid", "ARG:900", "ARG:1000", "AR_comphet") in case.pairs()
    assert case.row("ARG:900")["categories"] == {"sv_lof"}
    # the SNV sits on the copy the deletion spared: in trans without asking the parents
    assert case.candidate_flags("kid", "ARG:1000", "AR_comphet") == set()


# 4. affected siblings and other relatives ---------------------------------------------------

def test_4_affected_sibling_lacking_the_variant_vetoes():
    # parents alone would call this a clean de novo
    variant = V("chr2", 1000, "ADG", "stop_gained", gt={"kid": HET, "sib": HOM_REF})
    case = build_case([variant], quad(sib_affected=True), AD)
    assert case.passes() == set()
    assert case.why("kid", "ADG:1000") == "AD.affected_relatives"


def test_4_unaffected_sibling_hom_vetoes_recessive():
    variant = V("chr2", 1000, "ARG", "stop_gained",
                gt={"kid": HOM, "dad": HET, "mum": HET, "sib": HOM})
    case = build_case([variant], quad(), AR)
    assert case.passes() == set()
    assert case.why("kid", "ARG:1000") == "AR_hom.unaffected_relatives"


def test_4_grandparents_count():
    shared = {"gp": HET, "mum": HET, "kid": HET}
    segregating = V("chr2", 1000, "ADG", "stop_gained", gt=shared)
    in_grandmother = V("chr2", 2000, "ADG", "stop_gained", gt={**shared, "gm": HET})
    not_in_grandfather = V("chr2", 3000, "ADG", "stop_gained", gt={"mum": HET, "kid": HET})
    case = build_case([segregating, in_grandmother, not_in_grandfather], three_generations(), AD)
    assert case.reported() == {("gp", "ADG:1000"), ("mum", "ADG:1000"), ("kid", "ADG:1000")}
    assert case.why("kid", "ADG:2000") == "AD.unaffected_relatives"
    assert case.why("kid", "ADG:3000") == "AD.affected_relatives"


# 5. de novo with a ceiling on parental alt reads --------------------------------------------

@pytest.mark.parametrize("dad, de_novo", [("0/0:37,3:40:60", False), ("0/0:40,2:42:99", False),
                                          ("0/0:39,1:40:99", True), (HOM_REF, True)])
def test_5_parental_alt_reads_ceiling(dad, de_novo):
    variant = V("chr9", 5000, "ADG", "missense_variant", gt={"kid": HET, "dad": dad})
    case = build_case([variant], trio(), AD)
    assert ("de_novo" in case.call_categories("kid", "ADG:5000")) is de_novo
    assert case.reported() == ({("kid", "ADG:5000")} if de_novo else set())
    if not de_novo:
        assert "de_novo.father_alt_reads" in case.audit("kid", "ADG:5000")["threshold"]


# 6. common ClinVar P/LP -------------------------------------------------------------------------

def test_6_common_clinvar_plp_reaches_the_recessive_models():
    common = V("chr7", 117_559_590, "ARG", "inframe_deletion", ref="ATCT", alt="A",
               clinvar="P", stars=1, af=0.02, ac=3000, hom=40,
               gt={"kid": HOM, "dad": HET, "mum": HET})
    case = build_case([common], trio(), AR)
    row = case.row("ARG:117559590")
    assert row["prefilter_rule"] == ""
    assert row["recessive_rule"] == ""                       # ClinVar-recessive: AF 0.05
    assert row["dominant_rule"] == "clinvar_dominant.gnomad_af"
    assert case.passes() == {("kid", "ARG:117559590", "AR_hom")}


def test_6_same_frequency_without_clinvar_is_dropped_early():
    common = V("chr7", 117_559_590, "ARG", "inframe_deletion", ref="ATCT", alt="A", af=0.02,
               gt={"kid": HOM, "dad": HET, "mum": HET})
    case = build_case([common], trio(), AR)
    # with no category, a row that fails the pre-filters is not even kept for a de novo call
    assert "ARG:117559590" not in case.kept()
    assert case.passes() == set()
    high_impact = V("chr7", 117_559_590, "ARG", "stop_gained", af=0.02,
                    gt={"kid": HOM, "dad": HET, "mum": HET})
    case = build_case([high_impact], trio(), AR)
    assert case.row("ARG:117559590")["prefilter_rule"] == "prefilter.gnomad_af"
    assert case.passes() == set()


# 7. a reason for every dropped call ---------------------------------------------------------

def test_7_every_unreported_call_has_a_reason():
    variants = [
        V("chr2", 100, "ADG", "stop_gained", gt={"kid": HET}),                        # reported
        V("chr2", 200, "ADG", "stop_gained", clinvar="B", stars=2, gt={"kid": HET}),
        V("chr2", 300, "ADG", "stop_gained", af=0.2, gt={"kid": HET}),
        V("chr2", 400, "ADG", "stop_gained", filter="LowQual", gt={"kid": HET}),
        V("chr2", 500, "ADG", "stop_gained", others=(40, 400), gt={"kid": HET}),
        V("chr2", 600, "ADG", "stop_gained", af=3e-5, gt={"kid": HET}),
        V("chr2", 700, "ADG", "stop_gained", gt={"kid": "0/1:4,4:8:99"}),
        V("chr2", 800, "ADG", "stop_gained", gt={"kid": HET, "dad": HET}),
        V("chr2", 900, "ADG", "missense_variant", gt={"kid": HET, "dad": "0/0:30,4:34:99"}),
        V("chr2", 950, "ADG", "missense_variant", clinvar="P", stars=0,
          gt={"kid": HET, "dad": MISSING}),
        V("chr3", 100, "ARG", "stop_gained", gt={"kid": HET}),
        V("chr3", 200, "ARG", "stop_gained", hom=9, gt={"kid": HOM}),
        V("chrM", 3000, "MT-ND4", "missense_variant", clinvar="P", stars=1,
          gt={"kid": "0/1:95,5:100:99"}),
    ]
    case = build_case(variants, trio(), {**AD, **AR, **MT})
    calls, audit = case.result.calls, case.result.audit
    reported = set(case.result.candidates["call"])
    assert reported == {case.call_index("kid", "ADG:100")}
    # every affected carrier call is either reported or audited, never both
    assert set(audit["call"]) == set(range(len(calls.row))) - reported
    assert not audit["call"].duplicated().any()
    assert (audit["rule"] != "").all() and (audit["threshold"] != "").all()
    expected = {
        "ADG:200": ("prefilter", "prefilter.clinvar_benign"),
        "ADG:300": ("prefilter", "prefilter.gnomad_af"),
        "ADG:400": ("prefilter", "prefilter.filter_not_pass"),
        "ADG:500": ("prefilter", "prefilter.callset_frequency"),
        "ADG:600": ("AD.frequency", "dominant.gnomad_af"),
        "ADG:700": ("call.depth", "10"),
        "ADG:800": ("AD.unaffected_relatives", "no unaffected relative"),
        "ADG:900": ("AD.category", "de_novo.father_alt_reads"),
        "ADG:950": ("AD.category", "a primary category"),
        "ARG:100": ("AR_comphet.partner", "another qualifying het call"),
        "ARG:200": ("AR_hom.frequency", "recessive.gnomad_homozygotes"),
        "MT-ND4:3000": ("mito.genotype", "heteroplasmy"),
    }
    for label, (rule, threshold) in expected.items():
        row = case.audit("kid", label)
        assert row["rule"] == rule, label
        assert threshold in row["threshold"], (label, row["threshold"])
    numeric = {"ADG:300": 0.2, "ADG:600": 3e-5, "ADG:700": 8, "ADG:900": 4, "ARG:200": 9}
    for label, value in numeric.items():
        assert case.audit("kid", label)["observed"] == pytest.approx(value, rel=1e-5), label


# 8. config keys read from the documented section ----------------------------------------------

def _ad(variant_kw: dict, gt: dict, pedigree=None):
    variant = V("chr2", 1000, "ADG", variant_kw.pop("csq", "stop_gained"), gt=gt, **variant_kw)
    return lambda cfg: build_case([variant], pedigree or trio(), AD, cfg=cfg).reported()


KID = {("kid", "ADG:1000")}
SETTINGS = [
    ("prefilter.benign_min_stars", 3, _ad({"clinvar": "B", "stars": 2}, {"kid": HET}),
     set(), KID),
    ("frequency.dominant.af", 1e-4, _ad({"af": 5e-5}, {"kid": HET}), set(), KID),
    ("frequency.dominant.homozygotes", 2, _ad({"hom": 1}, {"kid": HET}), set(), KID),
    ("frequency.clinvar_dominant.af", 1e-3, _ad({"clinvar": "P", "stars": 1, "af": 3e-4},
                                                {"kid": HET}), set(), KID),
    ("frequency.callset_min_ac", 100, _ad({"clinvar": "P", "stars": 0, "others": (30, 1000)},
                                          {"kid": HET}), set(), KID),
    ("call_qc.min_depth", 5, _ad({}, {"kid": "0/1:3,5:8:99"}), set(), KID),
    ("call_qc.min_alt_reads", 3, _ad({}, {"kid": "0/1:20,4:24:99"}), set(), KID),
    ("de_novo.max_parent_alt_reads", 3, _ad({"csq": "missense_variant"},
                                            {"kid": HET, "dad": "0/0:40,2:42:99"}), set(), KID),
    ("de_novo.min_child_gq", 10, _ad({"csq": "missense_variant"}, {"kid": "0/1:20,18:38:20"}),
     set(), KID),
    ("categories.spliceai_min", 0.3, _ad({"csq": "intron_variant", "spliceai": 0.4},
                                         {"kid": HET}), set(), KID),
]


@pytest.mark.parametrize("key, value, run, before, after", SETTINGS,
                         ids=[s[0] for s in SETTINGS])
def test_8_each_key_acts_where_it_is_documented(key, value, run, before, after):
    assert run(config()) == before
    assert run(config(**{key: value})) == after


def test_8_prefilter_af_key():
    variant = V("chr2", 1000, "ARG", "stop_gained", af=0.02, gt={"kid": HOM})
    run = lambda cfg: build_case([variant], singleton(), AR, cfg=cfg).row("ARG:1000")  # noqa: E731
    assert run(config())["prefilter_rule"] == "prefilter.gnomad_af"
    relaxed = run(config(**{"prefilter.max_af_any": 0.05}))
    assert relaxed["prefilter_rule"] == ""
    assert relaxed["recessive_rule"] == "recessive.gnomad_af"  # the MOI limit still applies


def test_8_mito_heteroplasmy_key():
    variant = V("chrM", 3000, "MT-ND4", "missense_variant", clinvar="P", stars=1,
                gt={"kid": "0/1:94,6:100:99"})
    run = lambda cfg: build_case([variant], singleton(), MT, cfg=cfg).passes()  # noqa: E731
    assert run(config()) == set()
    assert run(config(**{"mito.min_heteroplasmy": 0.05})) == {("kid", "MT-ND4:3000", "mito")}


def test_8_unknown_key_in_a_section_is_refused():
    with pytest.raises(Exception, match="min_depth"):
        config(**{"prefilter.min_depth": 5})
    assert np.isfinite(config(**{"call_qc.min_depth": 5}).call_qc.min_depth)


def test_missing_relatives_in_every_model_never_veto():
    variants = [V("chr2", 1000, "ADG", "stop_gained", gt={"kid": HET, "dad": MISSING,
                                                          "sib": MISSING}),
                V("chr3", 1000, "ARG", "stop_gained", gt={"kid": HOM, "sib": MISSING}),
                V("chrX", 31_000_000, "XBI", "stop_gained", gt={"kid": HEMI, "sib": MISSING})]
    case = build_case(variants, quad(sib_sex="M", sib_affected=True), {**AD, **AR, **XBI})
    assert case.passes() == {("kid", "ADG:1000", "AD"), ("kid", "ARG:1000", "AR_hom"),
                             ("kid", "XBI:31000000", "X_male")}
