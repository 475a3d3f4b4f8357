"""Compound heterozygotes (rulebook §5): pairing, phase, parents, relatives, roles, chrX."""

from __future__ import annotations

import pytest

from corebuilder import HEMI, HET, HOM, MISSING, V, build_case, config, quad, singleton, trio

AR = {"ARG": "BIALLELIC, autosomal or pseudoautosomal"}
XBI = {"XBI": "X-LINKED: hemizygous mutation in males, biallelic mutations in females"}
A, B = "ARG:1000", "ARG:2000"


def pair(gt_a: dict, gt_b: dict, kind_a="stop_gained", kind_b="frameshift_variant",
         gene="ARG", chrom="chr2", pos=(1000, 2000), **kw) -> list[V]:
    """Two variants of one gene; ``kind`` is a VEP consequence or a ClinVar/AM shorthand."""
    out = []
    for p, kind, gt in ((pos[0], kind_a, gt_a), (pos[1], kind_b, gt_b)):
        extra = dict(kw)
        if kind == "clinvar_0star":
            extra.update(csq="missense_variant", clinvar="P", stars=0)
        elif kind == "alphamissense":
            extra.update(csq="missense_variant", am=0.9)
        else:
            extra.update(csq=kind)
        out.append(V(chrom, p, gene, gt=gt, **extra))
    return out


def comphet(sample: str, a: str, b: str, model: str = "AR_comphet") -> set:
    return {(sample, a, b, model), (sample, b, a, model)}


def test_singleton_pair_unphased():
    case = build_case(pair({"kid": HET}, {"kid": HET}), singleton(), AR)
    assert case.pairs() == comphet("kid", A, B)
    assert case.passes() == {("kid", A, "AR_comphet"), ("kid", B, "AR_comphet")}
    assert case.candidate_flags("kid", A, "AR_comphet") == {"phase_unknown"}


def test_trans_by_parents():
    case = build_case(pair({"kid": HET, "dad": HET}, {"kid": HET, "mum": HET}), trio(), AR)
    assert case.pairs() == comphet("kid", A, B)
    assert case.candidate_flags("kid", A, "AR_comphet") == set()


@pytest.mark.parametrize("parent", ["dad", "mum"])
def test_cis_by_parents(parent):
    case = build_case(pair({"kid": HET, parent: HET}, {"kid": HET, parent: HET}), trio(), AR)
    assert case.passes() == set()
    assert case.audit("kid", A)["rule"] == "AR_comphet.partner"
    assert case.audit("kid", A)["threshold"] == "comphet.cis_by_parents"


def test_parents_with_a_missing_call_do_not_decide_phase():
    case = build_case(pair({"kid": HET, "dad": HET}, {"kid": HET, "mum": MISSING}), trio(), AR)
    assert case.pairs() == comphet("kid", A, B)
    assert case.candidate_flags("kid", A, "AR_comphet") == {"phase_unknown"}


@pytest.mark.parametrize("gt_a, gt_b, outcome", [
    ("0|1:20,18:38:99:500", "0|1:20,18:38:99:500", "cis"),
    ("1|0:20,18:38:99:500", "1|0:20,18:38:99:500", "cis"),
    ("0|1:20,18:38:99:500", "1|0:20,18:38:99:500", "trans"),
    ("0|1:20,18:38:99:500", "0|1:20,18:38:99:900", "unknown"),   # different phase sets
    ("0|1:20,18:38:99:500", HET, "unknown"),
])
def test_phase_sets(gt_a, gt_b, outcome):
    case = build_case(pair({"kid": gt_a}, {"kid": gt_b}), singleton(), AR)
    if outcome == "cis":
        assert case.passes() == set()
        assert case.audit("kid", A)["threshold"] == "comphet.cis_by_phase"
    else:
        assert case.pairs() == comphet("kid", A, B)
        flags = case.candidate_flags("kid", A, "AR_comphet")
        assert flags == (set() if outcome == "trans" else {"phase_unknown"})


@pytest.mark.parametrize("kind_a, kind_b, formed", [
    ("stop_gained", "clinvar_0star", True),        # primary + support
    ("stop_gained", "alphamissense", True),        # AlphaMissense always counts as a partner
    ("clinvar_0star", "alphamissense", False),     # support + support
    ("alphamissense", "alphamissense", "gated"),   # stands on the phenotype match, as one would
    ("clinvar_0star", "clinvar_0star", False),
])
def test_roles(kind_a, kind_b, formed):
    case = build_case(pair({"kid": HET}, {"kid": HET}, kind_a, kind_b), singleton(), AR)
    if formed:
        assert case.pairs() == comphet("kid", A, B)
        c = case.result.candidates
        assert c["needs_phenotype"].tolist() == [formed == "gated"] * len(c)
    else:
        assert case.passes() == set()
        assert case.audit("kid", A)["threshold"] == "comphet.primary"
        assert case.audit("kid", B)["threshold"] == "comphet.primary"


def test_alphamissense_pair_follows_the_alphamissense_alone_switch():
    cfg = config(**{"phenotype.alphamissense_alone": False})
    case = build_case(pair({"kid": HET}, {"kid": HET}, "alphamissense", "alphamissense"),
                      singleton(), AR, cfg=cfg)
    assert case.passes() == set()
    assert case.audit("kid", A)["threshold"] == "comphet.primary"


def test_alphamissense_pair_in_cis_is_rejected():
    case = build_case(pair({"kid": HET, "mum": HET}, {"kid": HET, "mum": HET},
                           "alphamissense", "alphamissense"), trio(), AR)
    assert case.passes() == set()
    assert case.audit("kid", A)["threshold"] == "comphet.cis_by_parents"


def test_alphamissense_pair_on_female_x():
    case = build_case(pair({"kid": HET, "dad": MISSING}, {"kid": HET, "mum": HET},
                           "alphamissense", "alphamissense", gene="XBI", chrom="chrX",
                           pos=(30_000_000, 30_001_000)), trio("F"), XBI)
    a, b = "XBI:30000000", "XBI:30001000"
    assert case.pairs() == comphet("kid", a, b, "XLR_comphet")
    c = case.result.candidates
    assert c.loc[c["model"] == "XLR_comphet", "needs_phenotype"].tolist() == [True, True]


def test_call_without_any_category_is_no_partner():
    case = build_case(pair({"kid": HET}, {"kid": HET}, "stop_gained", "missense_variant"),
                      singleton(), AR)
    assert case.passes() == set()
    assert case.why("kid", A) == "AR_comphet.partner"
    assert case.why("kid", B) == "AR_comphet.category"


@pytest.mark.parametrize("sib_affected, sib_a, sib_b, formed", [
    (False, HET, HET, False),       # unaffected sib with both: not the cause
    (False, HET, "0/0:30,0:30:99", True),
    (False, HET, MISSING, True),
    (True, HET, HET, True),
    (True, HET, "0/0:30,0:30:99", False),   # affected sib must carry both
    (True, HET, MISSING, True),             # missing never vetoes
])
def test_siblings(sib_affected, sib_a, sib_b, formed):
    variants = pair({"kid": HET, "dad": HET, "sib": sib_a}, {"kid": HET, "mum": HET, "sib": sib_b})
    case = build_case(variants, quad(sib_affected=sib_affected), AR)
    expected = comphet("kid", A, B)
    if formed and sib_affected and sib_b == HET:
        expected |= comphet("sib", A, B)
    assert case.pairs() == (expected if formed else set())


def test_affected_sibling_lacking_one_variant_vetoes_even_if_other_missing():
    variants = pair({"kid": HET, "dad": HET, "sib": "0/0:30,0:30:99"},
                    {"kid": HET, "mum": HET, "sib": MISSING})
    case = build_case(variants, quad(sib_affected=True), AR)
    assert case.pairs() == set()


def test_starred_clinvar_pair_accepts_unaffected_carrier_of_both():
    variants = pair({"kid": HET, "dad": HET, "sib": HET}, {"kid": HET, "mum": HET, "sib": HET},
                    clinvar="P", stars=2)
    case = build_case(variants, quad(sib_affected=False), AR)
    assert case.pairs() == comphet("kid", A, B)


def test_three_variants_make_every_valid_pair():
    variants = pair({"kid": HET}, {"kid": HET}) + [
        V("chr2", 3000, "ARG", "missense_variant", clinvar="P", stars=0, gt={"kid": HET})]
    case = build_case(variants, singleton(), AR)
    assert case.pairs() == comphet("kid", A, B) | comphet("kid", A, "ARG:3000") \
        | comphet("kid", B, "ARG:3000")


def test_different_genes_never_pair():
    variants = [V("chr2", 1000, "ARG", "stop_gained", gt={"kid": HET}),
                V("chr3", 1000, "ARG2", "stop_gained", gt={"kid": HET})]
    case = build_case(variants, singleton(), {**AR, "ARG2": AR["ARG"]})
    assert case.passes() == set()


def test_pairs_are_per_sample():
    pedigree = [*singleton(), *[p for p in singleton(id="other")]]
    pedigree[1].family = "G"
    variants = pair({"kid": HET}, {"other": HET})
    assert build_case(variants, pedigree, AR).passes() == set()


def test_hom_call_is_not_a_comphet_partner():
    case = build_case(pair({"kid": HOM}, {"kid": HET}), singleton(), AR)
    assert case.passes() == {("kid", A, "AR_hom")}
    assert case.why("kid", B) == "AR_comphet.partner"


@pytest.mark.parametrize("partner, rule", [
    (dict(gt={"kid": "0/1:4,4:8:99"}), "call.depth"),
    (dict(gt={"kid": HET}, filter="LowQual"), "prefilter"),
    (dict(gt={"kid": HET}, clinvar="B", stars=1), "prefilter"),
])
def test_partner_failing_a_call_gate_is_no_partner(partner, rule):
    variants = [V("chr2", 1000, "ARG", "stop_gained", gt={"kid": HET}),
                V("chr2", 2000, "ARG", "frameshift_variant", **partner)]
    case = build_case(variants, singleton(), AR)
    assert case.passes() == set()
    assert case.why("kid", B) == rule
    assert case.audit("kid", A)["threshold"] == "another qualifying het call in the gene"


def test_frequency_failure_removes_the_partner():
    variants = pair({"kid": HET}, {"kid": HET})
    variants[1].hom = 6  # more gnomAD homozygotes than the recessive limit
    case = build_case(variants, singleton(), AR)
    assert case.passes() == set()
    assert case.why("kid", B) == "AR_comphet.frequency"


# -- chrX ------------------------------------------------------------------------------------

XA, XB = "XBI:31000000", "XBI:31000500"


def xpair(gt_a, gt_b, **kw):
    return pair(gt_a, gt_b, gene="XBI", chrom="chrX", pos=(31_000_000, 31_000_500), **kw)


def test_female_x_comphet_with_affected_hemizygous_father():
    case = build_case(xpair({"kid": HET, "dad": HEMI}, {"kid": HET, "mum": HET}),
                      trio("F", dad_affected=True), XBI)
    assert comphet("kid", XA, XB, "XLR_comphet") <= case.pairs()


def test_female_x_comphet_vetoed_by_unaffected_hemizygous_father():
    case = build_case(xpair({"kid": HET, "dad": HEMI}, {"kid": HET, "mum": HET}), trio("F"), XBI)
    assert case.pairs() == set()


def test_female_x_comphet_with_unaffected_carrier_mother():
    case = build_case(xpair({"kid": HET}, {"kid": HET, "mum": HET}), trio("F"), XBI)
    assert case.pairs() == comphet("kid", XA, XB, "XLR_comphet")


def test_male_x_never_comphet():
    case = build_case(xpair({"kid": HEMI}, {"kid": HEMI}), singleton("M"), XBI)
    assert case.passes() == {("kid", XA, "X_male"), ("kid", XB, "X_male")}
    assert case.pairs() == set()


def test_de_novo_makes_the_primary_side_of_a_pair():
    variants = [V("chr2", 1000, "ARG", "missense_variant", gt={"kid": HET}),
                V("chr2", 2000, "ARG", "missense_variant", clinvar="P", stars=0,
                  gt={"kid": HET, "mum": HET})]
    case = build_case(variants, trio(), AR)
    assert case.call_categories("kid", A) == {"de_novo"}
    assert case.pairs() == comphet("kid", A, B)
