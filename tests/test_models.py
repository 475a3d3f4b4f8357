"""Mode-of-inheritance truth tables (rulebook §5) over every pedigree shape.

Each case asserts exactly which (sample, variant, model) pass, so a model that starts
accepting too much fails as surely as one that stops accepting.
"""

from __future__ import annotations

import pytest

from corebuilder import HEMI, HET, HOM, MISSING, P, V, build_case, duo, quad, singleton, \
    three_generations, trio

AD = {"ADG": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"}
AR = {"ARG": "BIALLELIC, autosomal or pseudoautosomal"}
BOTH = {"BOTHG": "BOTH monoallelic and biallelic, autosomal or pseudoautosomal"}
XBI = {"XBI": "X-LINKED: hemizygous mutation in males, biallelic mutations in females"}
XMONO = {"XMONO": "X-LINKED: hemizygous mutation in males, monoallelic mutations in females "
                  "may cause disease (may be less severe, later onset than males)"}
MT = {"MT-ND4": "MITOCHONDRIAL"}
X_POS = 31_000_000  # chrX outside the PARs (GRCh38)


def lof(gene: str, chrom: str = "chr2", pos: int = 1000, **kw) -> V:
    """A rare stop_gained (primary category high_impact) with genotypes ``gt``."""
    return V(chrom, pos, gene, "stop_gained", **kw)


def passes(variants, pedigree, genes, **kw):
    return build_case(variants, pedigree, genes, **kw).passes()


# -- AD ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kid", [HET, HOM])
def test_ad_singleton_het_or_hom(kid):
    assert passes([lof("ADG", gt={"kid": kid})], singleton(), AD) == {("kid", "ADG:1000", "AD")}


def test_ad_unaffected_carrier_parent_vetoes():
    case = build_case([lof("ADG", gt={"kid": HET, "dad": HET})], trio(), AD)
    assert case.passes() == set()
    assert case.why("kid", "ADG:1000") == "AD.unaffected_relatives"
    assert case.audit("kid", "ADG:1000")["observed"] == 1


def test_ad_inherited_from_affected_parent_reports_both():
    assert passes([lof("ADG", gt={"kid": HET, "dad": HET})], trio(dad_affected=True), AD) == {
        ("kid", "ADG:1000", "AD"), ("dad", "ADG:1000", "AD")}


def test_ad_affected_parent_without_the_variant_vetoes():
    case = build_case([lof("ADG", gt={"kid": HET})], trio(dad_affected=True), AD)
    assert case.passes() == set()
    assert case.why("kid", "ADG:1000") == "AD.affected_relatives"


@pytest.mark.parametrize("dad", [MISSING, "./.:.:.:."])
def test_ad_missing_relative_genotype_never_vetoes(dad):
    pedigree = trio(dad_affected=True)  # affected and missing: no veto either
    assert passes([lof("ADG", gt={"kid": HET, "dad": dad})], pedigree, AD) == {
        ("kid", "ADG:1000", "AD")}
    assert passes([lof("ADG", gt={"kid": HET, "dad": dad})], trio(), AD) == {
        ("kid", "ADG:1000", "AD")}


def test_ad_partial_penetrance_for_starred_clinvar():
    starred = lof("ADG", clinvar="P", stars=1, gt={"kid": HET, "dad": HET})
    assert passes([starred], trio(), AD) == {("kid", "ADG:1000", "AD")}


def test_ad_no_partial_penetrance_without_stars():
    unstarred = lof("ADG", clinvar="P", stars=0, gt={"kid": HET, "dad": HET})
    case = build_case([unstarred], trio(), AD)
    assert case.passes() == set()
    assert case.why("kid", "ADG:1000") == "AD.unaffected_relatives"


def test_ad_unknown_status_relative_never_vetoes():
    pedigree = trio()[:2] + [P("F", "mum", sex="F", affected=None)]
    assert passes([lof("ADG", gt={"kid": HET, "mum": HET})], pedigree, AD) == {
        ("kid", "ADG:1000", "AD")}


@pytest.mark.parametrize("parent", ["mum", "dad"])
def test_ad_duo(parent):
    inherited = lof("ADG", gt={"kid": HET, parent: HET})
    assert passes([inherited], duo(parent=parent), AD) == set()
    assert passes([inherited], duo(parent=parent, parent_affected=True), AD) == {
        ("kid", "ADG:1000", "AD"), (parent, "ADG:1000", "AD")}


@pytest.mark.parametrize("sib_affected, sib_gt, expected", [
    (True, HET, {("kid", "ADG:1000", "AD"), ("sib", "ADG:1000", "AD")}),
    (True, "0/0:30,0:30:99", set()),           # affected sib lacking it vetoes
    (True, MISSING, {("kid", "ADG:1000", "AD")}),
    (False, HET, set()),                       # unaffected sib carrying it vetoes
    (False, "0/0:30,0:30:99", {("kid", "ADG:1000", "AD")}),
    (False, MISSING, {("kid", "ADG:1000", "AD")}),
])
def test_ad_quad_sibling(sib_affected, sib_gt, expected):
    variant = lof("ADG", gt={"kid": HET, "sib": sib_gt})
    assert passes([variant], quad(sib_affected=sib_affected), AD) == expected


def test_ad_three_generations_segregating():
    variant = lof("ADG", gt={"gp": HET, "mum": HET, "kid": HET})
    assert passes([variant], three_generations(), AD) == {
        ("gp", "ADG:1000", "AD"), ("mum", "ADG:1000", "AD"), ("kid", "ADG:1000", "AD")}


@pytest.mark.parametrize("extra", [{"sib": HET}, {"gm": HET}, {"dad": HET}])
def test_ad_three_generations_any_unaffected_carrier_vetoes(extra):
    variant = lof("ADG", gt={"gp": HET, "mum": HET, "kid": HET, **extra})
    assert passes([variant], three_generations(), AD) == set()


def test_ad_three_generations_affected_grandparent_lacking_vetoes():
    case = build_case([lof("ADG", gt={"mum": HET, "kid": HET})], three_generations(), AD)
    assert case.passes() == set()
    assert case.why("kid", "ADG:1000") == "AD.affected_relatives"
    assert case.why("mum", "ADG:1000") == "AD.affected_relatives"


def test_ad_model_needs_a_monoallelic_gene():
    case = build_case([lof("ARG", gt={"kid": HET, "dad": HET})], trio(), AR)
    assert case.failed("kid", "ARG:1000", "AD") == "AD.moi"


# -- AR hom ------------------------------------------------------------------------------------

def test_ar_hom_trio_with_carrier_parents():
    variant = lof("ARG", gt={"kid": HOM, "dad": HET, "mum": HET})
    assert passes([variant], trio(), AR) == {("kid", "ARG:1000", "AR_hom")}


def test_ar_single_het_is_not_enough():
    case = build_case([lof("ARG", gt={"kid": HET})], singleton(), AR)
    assert case.passes() == set()
    assert case.why("kid", "ARG:1000") == "AR_comphet.partner"


@pytest.mark.parametrize("sib_affected, sib_gt, expected", [
    (False, HOM, set()),                                   # unaffected hom sib vetoes
    (False, HET, {("kid", "ARG:1000", "AR_hom")}),         # an unaffected carrier is fine
    (True, HET, set()),                                    # affected sib must be hom too
    (True, HOM, {("kid", "ARG:1000", "AR_hom"), ("sib", "ARG:1000", "AR_hom")}),
    (True, MISSING, {("kid", "ARG:1000", "AR_hom")}),
])
def test_ar_hom_quad_sibling(sib_affected, sib_gt, expected):
    variant = lof("ARG", gt={"kid": HOM, "dad": HET, "mum": HET, "sib": sib_gt})
    assert passes([variant], quad(sib_affected=sib_affected), AR) == expected


def test_mono_and_biallelic_gene_tries_both():
    # carrier parents veto the dominant reading but not the recessive one
    variant = lof("BOTHG", gt={"kid": HOM, "dad": HET, "mum": HET})
    case = build_case([variant], trio(), BOTH)
    assert case.passes() == {("kid", "BOTHG:1000", "AR_hom")}
    assert case.failed("kid", "BOTHG:1000", "AD") == "AD.unaffected_relatives"
    de_novo_like = lof("BOTHG", gt={"kid": HET})
    assert passes([de_novo_like], trio(), BOTH) == {("kid", "BOTHG:1000", "AD")}


# -- X-linked ------------------------------------------------------------------------------------

def xlof(gene: str, **kw) -> V:
    return lof(gene, chrom="chrX", pos=X_POS, **kw)


XV = f"XBI:{X_POS}"
XM = f"XMONO:{X_POS}"


@pytest.mark.parametrize("genes, label", [(XBI, XV), (XMONO, XM)])
def test_x_male_singleton_hemizygous(genes, label):
    gene = next(iter(genes))
    assert passes([xlof(gene, gt={"kid": HEMI})], singleton("M"), genes) == {
        ("kid", label, "X_male")}


def test_x_male_carrier_mother_in_biallelic_gene():
    variant = xlof("XBI", gt={"kid": HEMI, "mum": HET})
    assert passes([variant], trio("M"), XBI) == {("kid", XV, "X_male")}


def test_x_male_unaffected_homozygous_female_vetoes_in_biallelic_gene():
    case = build_case([xlof("XBI", gt={"kid": HEMI, "mum": HOM})], trio("M"), XBI)
    assert case.passes() == set()
    assert case.why("kid", XV) == "X_male.unaffected_relatives"


def test_x_male_partial_penetrance_for_starred_clinvar():
    variant = xlof("XBI", clinvar="P", stars=1, gt={"kid": HEMI, "sib": HEMI})
    assert passes([variant], quad("M", sib_sex="M"), XBI) == {("kid", XV, "X_male")}


def test_x_male_carrier_mother_vetoes_in_monoallelic_gene():
    case = build_case([xlof("XMONO", gt={"kid": HEMI, "mum": HET})], trio("M"), XMONO)
    assert case.passes() == set()
    assert case.why("kid", XM) == "X_male.unaffected_relatives"


@pytest.mark.parametrize("sib_affected, sib_gt, expected", [
    (False, HEMI, set()),                                     # unaffected hemizygous brother
    (True, "0:30,0:30:99", set()),                            # affected brother without it
    (True, HEMI, {("kid", XV, "X_male"), ("sib", XV, "X_male")}),
    (False, "0:30,0:30:99", {("kid", XV, "X_male")}),
])
def test_x_male_brothers(sib_affected, sib_gt, expected):
    variant = xlof("XBI", gt={"kid": HEMI, "mum": HET, "sib": sib_gt})
    pedigree = quad("M", sib_sex="M", sib_affected=sib_affected)
    assert passes([variant], pedigree, XBI) == expected


def test_x_male_classic_three_generation_pedigree():
    # affected grandfather -> unaffected carrier daughter -> affected grandson
    pedigree = [P("F", "gp", sex="M", affected=True), P("F", "mum", "gp", None, "F", False),
                P("F", "dad", sex="M", affected=False), P("F", "kid", "dad", "mum", "M", True)]
    variant = xlof("XBI", gt={"gp": HEMI, "mum": HET, "kid": HEMI})
    assert passes([variant], pedigree, XBI) == {("gp", XV, "X_male"), ("kid", XV, "X_male")}
    # in a gene where heterozygous females are affected, the healthy carrier daughter vetoes
    variant = xlof("XMONO", gt={"gp": HEMI, "mum": HET, "kid": HEMI})
    assert passes([variant], pedigree, XMONO) == set()


def test_xld_female_het():
    assert passes([xlof("XMONO", gt={"kid": HET})], trio("F"), XMONO) == {("kid", XM, "XLD")}


@pytest.mark.parametrize("carrier, gt", [("dad", HEMI), ("mum", HET)])
def test_xld_unaffected_carrier_parent_vetoes(carrier, gt):
    case = build_case([xlof("XMONO", gt={"kid": HET, carrier: gt})], trio("F"), XMONO)
    assert case.passes() == set()
    assert case.why("kid", XM) == "XLD.unaffected_relatives"


def test_xld_from_affected_father():
    variant = xlof("XMONO", gt={"kid": HET, "dad": HEMI})
    assert passes([variant], trio("F", dad_affected=True), XMONO) == {
        ("kid", XM, "XLD"), ("dad", XM, "X_male")}


def test_xlr_hom_female_with_affected_father():
    variant = xlof("XBI", gt={"kid": HOM, "dad": HEMI, "mum": HET})
    assert passes([variant], trio("F", dad_affected=True), XBI) == {
        ("kid", XV, "XLR_hom"), ("dad", XV, "X_male")}


def test_xlr_hom_female_unaffected_hemizygous_father_vetoes():
    case = build_case([xlof("XBI", gt={"kid": HOM, "dad": HEMI, "mum": HET})], trio("F"), XBI)
    assert case.failed("kid", XV, "XLR_hom") == "XLR_hom.unaffected_relatives"
    # the het-female reading accepts unaffected carriers (partial penetrance by design)
    assert case.passes() == set()


def test_x_pseudodominant_female_het_with_carrier_mother():
    case = build_case([xlof("XBI", gt={"kid": HET, "mum": HET})], trio("F"), XBI)
    assert case.passes() == {("kid", XV, "X_pseudodominant")}
    assert case.candidate_flags("kid", XV, "X_pseudodominant") == {"xlr_female_het"}


def test_x_pseudodominant_affected_sister_must_carry():
    variant = xlof("XBI", gt={"kid": HET, "mum": HET, "sib": "0/0:30,0:30:99"})
    case = build_case([variant], quad("F", sib_sex="F", sib_affected=True), XBI)
    assert case.passes() == set()
    assert case.failed("kid", XV, "X_pseudodominant") == "X_pseudodominant.affected_relatives"


def test_x_models_follow_sex():
    # a female is never X_male; a male is never XLD / XLR / pseudodominant
    female = build_case([xlof("XMONO", gt={"kid": HET})], singleton("F"), XMONO)
    assert female.failed("kid", XM, "X_male") == "X_male.genotype"
    male = build_case([xlof("XBI", gt={"kid": HEMI})], singleton("M"), XBI)
    for model in ("XLR_hom", "X_pseudodominant"):
        assert male.failed("kid", XV, model) == f"{model}.genotype"


def test_par_variant_uses_autosomal_models():
    # inside PAR1 a male is diploid: an X-linked gene is tested as autosomal
    par = lof("XBI", chrom="chrX", pos=100_000, gt={"kid": HOM})
    case = build_case([par], singleton("M"), XBI)
    assert case.passes() == {("kid", "XBI:100000", "AR_hom")}
    assert case.failed("kid", "XBI:100000", "X_male") == "X_male.moi"


# -- mitochondrial -------------------------------------------------------------------------------

def mt(**kw) -> V:
    return V("chrM", 11778, "MT-ND4", "missense_variant", ref="G", alt="A", clinvar="P", stars=2,
             **kw)


@pytest.mark.parametrize("kid, expected", [
    ("1:0,30:30:99", {("kid", "MT-ND4:11778", "mito")}),
    ("0/1:80,20:100:99", {("kid", "MT-ND4:11778", "mito")}),    # heteroplasmy 0.20
    ("0/1:93,7:100:99", set()),                                 # 0.07, below 0.10
])
def test_mito_heteroplasmy(kid, expected):
    case = build_case([mt(gt={"kid": kid})], singleton(), MT)
    assert case.passes() == expected
    if not expected:
        assert case.why("kid", "MT-ND4:11778") == "mito.genotype"


def test_mito_unaffected_carrier_mother_never_vetoes():
    variant = mt(gt={"kid": "1:0,30:30:99", "mum": "0/1:70,30:100:99"})
    assert passes([variant], trio(), MT) == {("kid", "MT-ND4:11778", "mito")}


def test_mito_affected_mother_must_carry():
    case = build_case([mt(gt={"kid": "1:0,30:30:99"})], trio(mum_affected=True), MT)
    assert case.passes() == set()
    assert case.why("kid", "MT-ND4:11778") == "mito.affected_relatives"


def test_mito_only_the_mito_model_applies():
    case = build_case([mt(gt={"kid": "1:0,30:30:99"})], singleton(), {**MT, **AD})
    for model in ("AD", "AR_hom", "X_male"):
        assert case.failed("kid", "MT-ND4:11778", model) == f"{model}.moi"


# -- several families in one cohort ------------------------------------------------------------

def test_families_do_not_veto_each_other():
    pedigree = [P("A", "kid", sex="M", affected=True), P("B", "other", sex="F", affected=False)]
    variant = lof("ADG", gt={"kid": HET, "other": HET})
    assert passes([variant], pedigree, AD) == {("kid", "ADG:1000", "AD")}


# -- the ambiguous_clinvar_moi flag ----------------------------------------------------------

XBOTH = {"XBOTH": "BOTH monoallelic and biallelic, autosomal or pseudoautosomal"}


def clinvar(gene: str, chrom: str = "chr2", pos: int = 1000, csq: str = "missense_variant",
            stars: int = 1, **kw) -> V:
    """A rare ClinVar P/LP variant (clinvar_plp with stars, else clinvar_recent_gene or
    clinvar_0star)."""
    return V(chrom, pos, gene, csq, clinvar="P", stars=stars, **kw)


@pytest.mark.parametrize("variants, genes, flagged", [
    # ClinVar alone, one copy, a gene with both MOIs: the assertion may be the recessive one
    ([clinvar("BOTHG", gt={"kid": HET})], BOTH, True),
    ([clinvar("BOTHG", stars=0, gt={"kid": HET})],
     {"BOTHG": (BOTH["BOTHG"], "2025-06-01")}, True),                 # clinvar_recent_gene
    # an unknown MOI reads as MonoAndBiallelic: ambiguous as well
    ([clinvar("UNK", gt={"kid": HET})], {"UNK": "Unknown"}, True),
    # a purely dominant gene leaves no doubt
    ([clinvar("ADG", gt={"kid": HET})], AD, False),
    # other primary evidence besides ClinVar
    ([clinvar("BOTHG", csq="stop_gained", gt={"kid": HET})], BOTH, False),
    # hom: both readings fit
    ([clinvar("BOTHG", gt={"kid": HOM})], BOTH, False),
    # a comp-het partner settles the recessive reading
    ([clinvar("BOTHG", gt={"kid": HET}), lof("BOTHG", pos=2000, gt={"kid": HET})], BOTH,
     False),
])
def test_ambiguous_clinvar_moi_on_single_copy_autosomal(variants, genes, flagged):
    case = build_case(variants, singleton(), genes)
    label = variants[0].label
    assert ("kid", label, "AD") in case.passes()
    assert ("ambiguous_clinvar_moi" in case.candidate_flags("kid", label, "AD")) is flagged


def test_ambiguous_clinvar_moi_is_a_flag_not_a_filter():
    het = clinvar("BOTHG", gt={"kid": HET, "dad": MISSING})
    case = build_case([het], trio(), BOTH)
    assert case.passes() == {("kid", "BOTHG:1000", "AD")}
    assert case.candidate_flags("kid", "BOTHG:1000", "AD") == {"ambiguous_clinvar_moi"}
    # a de novo ClinVar variant speaks for the dominant condition
    case = build_case([clinvar("BOTHG", gt={"kid": HET})], trio(), BOTH)
    assert "de_novo" in case.call_categories("kid", "BOTHG:1000")
    assert case.candidate_flags("kid", "BOTHG:1000", "AD") == set()


@pytest.mark.parametrize("sex, model, flagged", [("F", "XLD", True), ("M", "X_male", False)])
def test_ambiguous_clinvar_moi_on_x(sex, model, flagged):
    variant = clinvar("XBOTH", chrom="chrX", pos=X_POS,
                      gt={"kid": HET if sex == "F" else HEMI})
    case = build_case([variant], singleton(sex), XBOTH)
    flags = case.candidate_flags("kid", variant.label, model)
    assert ("ambiguous_clinvar_moi" in flags) is flagged
