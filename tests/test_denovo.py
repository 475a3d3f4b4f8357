"""De novo calls (rulebook §6): genotypes, the parental ceiling, quality gates, chrX/Y/M.

The variant is a missense in a monoallelic gene, so the call is a candidate exactly when
de novo makes it primary; when it is not, the audit names the de novo check that failed.
"""

from __future__ import annotations

import pytest

from corebuilder import HEMI, HET, HOM_REF, MISSING, P, V, build_case, config, duo, trio

AD = {"ADG": "MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted"}
XMONO = {"XMONO": "X-LINKED: hemizygous mutation in males, monoallelic mutations in females "
                  "may cause disease"}
LABEL = "ADG:1000"


def missense(**gt) -> V:
    return V("chr2", 1000, "ADG", "missense_variant", gt=gt)


def de_novo_case(kid=HET, dad=HOM_REF, mum=HOM_REF, pedigree=None, cfg=None, variant=None,
                 genes=AD):
    pedigree = pedigree or trio()
    gt = {"kid": kid, "dad": dad, "mum": mum}
    gt = {s: g for s, g in gt.items() if s in {p.id for p in pedigree if p.sequenced}}
    variant = variant or missense()
    variant.gt = gt
    return build_case([variant], pedigree, genes, cfg=cfg)


def failed_de_novo_rule(case, label=LABEL) -> str:
    """The de novo check that stopped the call; the call must then be unreported for want of
    a primary category."""
    assert case.why("kid", label).endswith(".category")
    return case.de_novo_rule("kid", label)


def test_clean_trio_de_novo():
    case = de_novo_case()
    assert case.passes() == {("kid", LABEL, "AD")}
    assert case.call_categories("kid", LABEL) == {"de_novo"}


def test_inherited_is_not_de_novo():
    case = de_novo_case(dad="0/1:20,18:38:99")
    assert case.passes() == set()
    assert "de_novo" not in case.call_categories("kid", LABEL)


@pytest.mark.parametrize("parent", ["dad", "mum"])
@pytest.mark.parametrize("parent_gt, rule", [
    ("0/0:30,1:31:99", None),                 # one alt read, AB 0.03: at the ceiling
    ("0/0:40,2:42:99", "alt_reads"),          # two alt reads: a mosaic or mis-called parent
    ("0/0:15,1:16:99", "allele_balance"),     # one read but AB 0.0625 > 0.05
    ("0/1:20,18:38:99", "hom_ref"),
    (MISSING, "hom_ref"),                     # both parents' calls are required
])
def test_parental_genotype_and_ceiling(parent, parent_gt, rule):
    case = de_novo_case(**{parent: parent_gt})
    if rule is None:
        assert case.passes() == {("kid", LABEL, "AD")}
    else:
        assert case.passes() == set()
        label = {"dad": "father", "mum": "mother"}[parent]
        assert failed_de_novo_rule(case) == f"de_novo.{label}_{rule}"


def test_audit_names_a_failed_quality_gate_with_its_value():
    audit = de_novo_case(dad="0/0:40,3:43:99").audit("kid", LABEL)
    assert audit["threshold"] == "a primary category (not de novo: de_novo.father_alt_reads <=1)"
    assert audit["observed"] == 3


@pytest.mark.parametrize("parent", ["mum", "dad"])
def test_duo_is_never_de_novo(parent):
    case = de_novo_case(pedigree=duo(parent=parent))
    assert case.passes() == set()
    assert case.de_novo_rule("kid", LABEL) == "de_novo.parents_sequenced"
    assert "not de novo" not in case.audit("kid", LABEL)["threshold"]


def test_parent_in_the_ped_but_not_sequenced_is_not_de_novo():
    pedigree = trio()[:2] + [P("F", "mum", sex="F", affected=False, sequenced=False)]
    case = de_novo_case(pedigree=pedigree)
    assert case.passes() == set()
    assert case.de_novo_rule("kid", LABEL) == "de_novo.parents_sequenced"


@pytest.mark.parametrize("who, gt, rule", [
    ("kid", "0/1:20,18:38:25", "de_novo.child_gq"),            # proband GQ must be > 25
    ("kid", "0/1:20,18:38:26", None),
    ("dad", "0/0:30,0:30:14", "de_novo.father_gq"),
    ("dad", "0/0:30,0:30:15", None),
    ("mum", "0/0:30,0:30:.", "de_novo.mother_gq"),             # missing GQ fails by default
    ("dad", "0/0:4,0:4:99", "de_novo.father_depth"),
    ("dad", "0/0:5,0:5:99", None),
    ("dad", "0/0:.:4:99", "de_novo.father_depth"),             # no AD: DP decides
    ("dad", "0/0:.:30:99", None),
    ("mum", "0/0:1001,0:1001:99", "de_novo.mother_depth"),
    ("kid", "0/1:34,8:42:99", "de_novo.child_allele_balance"),  # AB 0.19
    ("kid", "0/1:32,8:40:99", None),                            # AB 0.20
])
def test_quality_gates(who, gt, rule):
    case = de_novo_case(**{who: gt})
    if rule is None:
        assert case.passes() == {("kid", LABEL, "AD")}
    else:
        assert case.passes() == set()
        assert failed_de_novo_rule(case) == rule


def test_child_alt_reads():
    # the call QC gate is relaxed so the de novo gate is the one that decides
    cfg = config(**{"call_qc.min_alt_reads": 3, "call_qc.min_depth": 5})
    case = de_novo_case(kid="0/1:10,4:14:99", cfg=cfg)
    assert failed_de_novo_rule(case) == "de_novo.child_alt_reads"
    assert de_novo_case(kid="0/1:10,5:15:99", cfg=cfg).passes() == {("kid", LABEL, "AD")}


def test_parent_gq_not_required_for_merged_gvcf_data():
    cfg = config(**{"de_novo.require_parent_gq": False})
    case = de_novo_case(dad="0/0:30,0:30:.", mum="0/0:30,0:30:.", cfg=cfg)
    assert case.passes() == {("kid", LABEL, "AD")}
    # a present but low GQ still fails
    low = de_novo_case(dad="0/0:30,0:30:10", cfg=cfg)
    assert failed_de_novo_rule(low) == "de_novo.father_gq"


def test_ceiling_is_configurable():
    cfg = config(**{"de_novo.max_parent_alt_reads": 3, "de_novo.max_parent_ab": 0.1})
    assert de_novo_case(dad="0/0:40,3:43:99", cfg=cfg).passes() == {("kid", LABEL, "AD")}


@pytest.mark.parametrize("csq, biotype, clinvar, expected", [
    ("missense_variant", "protein_coding", None, True),
    ("inframe_deletion", "protein_coding", None, True),
    ("stop_gained", "protein_coding", None, True),
    ("non_coding_transcript_exon_variant", "snRNA", None, True),
    ("5_prime_UTR_variant", "protein_coding", "P", True),     # ClinVar P/LP (0 stars)
    ("intron_variant", "protein_coding", None, False),        # kept for SpliceAI only
])
def test_eligible_consequences(csq, biotype, clinvar, expected):
    variant = V("chr2", 1000, "ADG", csq, biotype=biotype, clinvar=clinvar, stars=0,
                spliceai=0.9 if csq == "intron_variant" else None)
    case = de_novo_case(variant=variant)
    assert ("de_novo" in case.call_categories("kid", LABEL)) is expected
    assert case.passes() == {("kid", LABEL, "AD")}


def test_chrx_male_hemizygous_de_novo():
    variant = V("chrX", 31_000_000, "XMONO", "missense_variant")
    case = de_novo_case(kid=HEMI, variant=variant, genes=XMONO)
    assert case.passes() == {("kid", "XMONO:31000000", "X_male")}
    assert case.call_categories("kid", "XMONO:31000000") == {"de_novo"}


def test_chrx_male_with_carrier_mother_is_not_de_novo():
    variant = V("chrX", 31_000_000, "XMONO", "missense_variant")
    case = de_novo_case(kid=HEMI, mum="0/1:20,18:38:99", variant=variant, genes=XMONO)
    assert failed_de_novo_rule(case, "XMONO:31000000") == "de_novo.mother_hom_ref"


@pytest.mark.parametrize("dad", [HOM_REF, "0:30,0:30:99"])   # diploid or haploid call
def test_chrx_female_het_de_novo(dad):
    variant = V("chrX", 31_000_000, "XMONO", "missense_variant")
    case = de_novo_case(dad=dad, variant=variant, genes=XMONO, pedigree=trio("F"))
    assert case.passes() == {("kid", "XMONO:31000000", "XLD")}
    assert case.call_categories("kid", "XMONO:31000000") == {"de_novo"}


def test_chrm_needs_only_the_mother():
    variant = V("chrM", 11778, "MT-ND4", "missense_variant", ref="G", alt="A")
    case = de_novo_case(kid="1:0,30:30:99", dad=MISSING, variant=variant,
                        genes={"MT-ND4": "MITOCHONDRIAL"})
    assert case.passes() == {("kid", "MT-ND4:11778", "mito")}
    assert case.call_categories("kid", "MT-ND4:11778") == {"de_novo"}


def test_chrm_heteroplasmic_child_is_not_de_novo():
    variant = V("chrM", 11778, "MT-ND4", "missense_variant", ref="G", alt="A")
    case = de_novo_case(kid="0/1:60,40:100:99", variant=variant,
                        genes={"MT-ND4": "MITOCHONDRIAL"})
    assert failed_de_novo_rule(case, "MT-ND4:11778") == "de_novo.child_genotype"


def test_chry_needs_only_the_father():
    variant = V("chrY", 2_800_000, "YG", "missense_variant")
    case = de_novo_case(kid=HEMI, mum=MISSING, variant=variant,
                        genes={"YG": "MONOALLELIC, autosomal or pseudoautosomal"})
    assert case.passes() == {("kid", "YG:2800000", "AD")}
    assert case.call_categories("kid", "YG:2800000") == {"de_novo"}


def test_de_novo_depth_is_dp_first():
    # DP 30 makes the father usable; his AD (3 informative reads) must not replace it
    case = de_novo_case(dad="0/0:3,0:30:99")
    assert case.passes() == {("kid", LABEL, "AD")}


def test_trio_reads_gather_each_call_and_its_parents_from_the_store():
    import numpy as np

    from heron.inherit.denovo import CHILD, FATHER, MOTHER, TrioReads, allele_balance, depth
    from heron.store import StackedCalls

    # 3 variants x 4 samples; each value encodes (variant, sample) so a misplaced read shows
    code = np.arange(12, dtype=np.int16).reshape(3, 4)
    calls = {"ad_ref": StackedCalls([code * 10]), "ad_alt": StackedCalls([code * 10 + 1]),
             "dp": StackedCalls([np.full((3, 4), -1, np.int16)]),
             "gq": StackedCalls([code + 100])}
    variant, child = np.array([0, 2]), np.array([3, 1])
    father, mother = np.array([1, -1]), np.array([2, 0])
    reads = TrioReads.read(calls, variant, child, father, mother)
    assert reads.ad_ref.shape == (3, 2)
    assert reads.ad_ref[CHILD].tolist() == [30, 90]
    assert reads.ad_ref[FATHER, 0] == 10 and reads.ad_ref[MOTHER].tolist() == [20, 80]
    assert reads.gq[CHILD].tolist() == [103, 109]
    # the call QC depth is the sum of AD; the balance alt / (ref + alt)
    assert depth(reads).tolist() == [61, 181]
    assert allele_balance(reads, MOTHER)[0] == np.float32(21 / 41)
