"""Mode-of-inheritance models over whole pedigrees (rulebook §5), vectorised over calls.

The unit is a *call*: an affected sample carrying a row (variant × gene). Every call is tested
against each model its gene's MOI allows, as an ordered list of named checks; a call becomes a
candidate when every check of one model passes. Calls that pass no model keep the failure of
the model they got furthest in — the audit trail.

Two AlphaMissense-only calls in trans are held to the rule of one AlphaMissense-only call
(rulebook §3, heron's extension): the pair is a candidate only when its gene matches the
patient's phenotype (``needs_phenotype``), because two predicted-damaging alleles of a
recessive gene are at least the evidence of one in a dominant gene. Any other pair without a
primary call stays rejected.

Structural variants (heron.ingest.sv) take part like any call. A small variant that looks
homozygous inside a heterozygous deletion of the same sample and gene is hemizygous: it pairs
with that deletion as a compound heterozygote (in trans by construction), and with nothing
else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from heron.annotate.csq import BIT
from heron.audit import Checks
from heron.classify.categories import CAT, role_masks
from heron.classify.genes import MOI, GeneSet
from heron.config import HeronConfig
from heron.genome import CHROM_M
from heron.ingest.pedigree import AFFECTED, FEMALE, MALE, UNAFFECTED, PedigreeArrays
from heron.ingest.sv import SVTYPE
from heron.inherit.denovo import CHILD, TrioReads, allele_balance, de_novo_checks, depth
from heron.inherit.family import family_genotypes, relatives
from heron.store import Shard

MODELS = ("AD", "AR_hom", "AR_comphet", "X_male", "XLD", "XLR_hom", "XLR_comphet",
          "X_pseudodominant", "mito")
MODEL_DESCRIPTION = {
    "AD": "autosomal dominant", "AR_hom": "autosomal recessive, homozygous",
    "AR_comphet": "autosomal recessive, compound heterozygous",
    "X_male": "X-linked, hemizygous male", "XLD": "X-linked dominant, female",
    "XLR_hom": "X-linked recessive, homozygous female",
    "XLR_comphet": "X-linked recessive, compound heterozygous female",
    "X_pseudodominant": "X-linked recessive gene, heterozygous female (skewed inactivation)",
    "mito": "mitochondrial",
}
DOMINANT_FREQUENCY = {"AD", "X_male", "XLD", "X_pseudodominant", "mito"}
COMPHET = {"AR_comphet", "XLR_comphet"}
SINGLE_COPY = ("AD", "XLD")  # models where one het allele is the whole explanation
CLINVAR_CATEGORIES = np.uint16(int(CAT["clinvar_plp"]) | int(CAT["clinvar_recent_gene"])
                               | int(CAT["clinvar_0star"]))

# Models each simplified MOI allows on autosomes (and the PARs) and on X.
_AUTOSOMAL = {"Monoallelic": {"AD"}, "MonoAndBiallelic": {"AD", "AR_hom", "AR_comphet"},
              "Biallelic": {"AR_hom", "AR_comphet"}, "HemiMonoInFemale": {"AD"},
              "HemiBiInFemale": {"AR_hom", "AR_comphet"}, "Mitochondrial": set()}
_ON_X = {"Monoallelic": {"X_male", "XLD"},
         "MonoAndBiallelic": {"X_male", "XLD", "XLR_hom", "XLR_comphet"},
         "Biallelic": {"X_male", "XLR_hom", "XLR_comphet", "X_pseudodominant"},
         "HemiMonoInFemale": {"X_male", "XLD"},
         "HemiBiInFemale": {"X_male", "XLR_hom", "XLR_comphet", "X_pseudodominant"},
         "Mitochondrial": set()}


def _allowed_table(table: dict) -> np.ndarray:
    out = np.zeros((len(MOI), len(MODELS)), bool)
    for moi, models in table.items():
        for m in models:
            out[MOI[moi], MODELS.index(m)] = True
    return out


ALLOWED_AUTOSOMAL, ALLOWED_X = _allowed_table(_AUTOSOMAL), _allowed_table(_ON_X)

# ambiguous_clinvar_moi: see _ambiguous_clinvar_moi
FLAGS = ("allele_balance", "low_depth", "xlr_female_het", "phase_unknown",
         "ambiguous_clinvar_moi")
FLAG = {name: np.uint8(1 << i) for i, name in enumerate(FLAGS)}


@dataclass
class Calls:
    """The calls under test, all (n,): row (into shard.rows), variant, sample, gene int;
    categories uint16 (row categories plus de_novo for this call); plus the checks of each
    model (for explain) and the per-call results."""

    row: np.ndarray
    variant: np.ndarray
    sample: np.ndarray
    gene: np.ndarray
    categories: np.ndarray
    flags: np.ndarray
    checks: dict[str, Checks]
    de_novo: Checks


@dataclass
class Result:
    """Candidates (one row per call × model satisfied; partner for comp-het) and the audit
    table (one row per call that satisfied no model)."""

    candidates: pd.DataFrame
    audit: pd.DataFrame
    calls: Calls


def evaluate(shard: Shard, ped: PedigreeArrays, genes: GeneSet, config: HeronConfig) -> Result:
    """Run every MOI model over every affected carrier call of a classified shard."""
    rows, v, calls = shard.rows, shard.variants, shard.calls
    if rows:
        rows = {**rows, **_frequency_texts(rows)}
    gt = calls["gt"]
    primary, _support = role_masks(config.categories.roles)
    affected = ped.affected == AFFECTED
    n_rows = len(rows["variant"]) if rows else 0
    carrier = gt[rows["variant"]] >= 1 if n_rows else np.zeros((0, len(ped.samples)), bool)
    r, s = np.nonzero(carrier & affected[None, :])
    var, gene = rows["variant"][r], rows["gene"][r]
    n = len(r)
    chrom = v["chrom"][var]
    on_x = rows["on_x"][r]
    on_m = chrom == CHROM_M
    sex = ped.sex[s]
    g = gt[var, s]
    plp_starred = rows["plp_starred"][r]
    rel = relatives(ped)
    G, M = family_genotypes(gt, var, s, rel)
    valid = M >= 0
    m_idx = np.maximum(M, 0)
    rel_aff = valid & (ped.affected[m_idx] == AFFECTED)
    rel_unaff = valid & (ped.affected[m_idx] == UNAFFECTED)
    rel_male = valid & (ped.sex[m_idx] == MALE)

    # checks every model starts with
    common = Checks(n)
    pre_rows = rows["prefilter_rule"].astype(str)
    pre_text = np.char.add(np.char.add(pre_rows, ": "), rows["prefilter_limit"].astype(str))
    common.add("prefilter", pre_rows[r] != "", (pre_text, r), rows["prefilter_observed"][r])
    patient_col = {p: i for i, p in enumerate(genes.patients)}
    pidx = np.array([patient_col.get(name, -1) for name in ped.samples], np.int64)[s] \
        if n else np.zeros(0, np.int64)
    in_set = (pidx >= 0) & genes.member[np.maximum(pidx, 0), gene] if genes.member.size \
        else np.zeros(n, bool)
    common.add("patient_gene_set", ~in_set, "gene on the patient's panels")
    qc = config.call_qc
    reads = TrioReads.read(calls, var, s, ped.father[s], ped.mother[s])
    d = depth(reads)
    common.add("call.depth", (d >= 0) & (d < qc.min_depth) & ~plp_starred, qc.min_depth, d)
    alt_reads = reads.ad_alt[CHILD]
    common.add("call.alt_reads", (alt_reads >= 0) & (alt_reads < qc.min_alt_reads),
               qc.min_alt_reads, alt_reads)

    # de novo makes a call-level category
    eligible = ((rows["consequence"][r] & np.uint32(_de_novo_bits(config))) != 0) \
        | rows["snrna"][r] | (rows["categories"][r] & (CAT["clinvar_plp"] | CAT["clinvar_0star"]
                                                       | CAT["clinvar_recent_gene"]) != 0)
    dn = de_novo_checks(gt, reads, var, s, ped.father[s], ped.mother[s], chrom, on_x, sex,
                        eligible, config.de_novo)
    cats = rows["categories"][r] | np.where(dn.passed(), CAT["de_novo"], 0).astype(np.uint16)

    moi_auto, moi_x = genes.moi_auto[gene], genes.moi_x[gene]
    allowed = np.where(on_x[:, None], ALLOWED_X[moi_x], ALLOWED_AUTOSOMAL[moi_auto])
    allowed[on_m] = False
    allowed[on_m, MODELS.index("mito")] = True

    has_primary = (cats & primary) != 0
    # when de novo was the call's only hope, say which de novo check failed: one that failed
    # on a quality gate is worth naming, one whose genotypes never looked de novo is not
    dn_first = dn.first_failure()
    untried = {"de_novo.parents_sequenced", "de_novo.eligible_consequence",
               "de_novo.child_genotype", "de_novo.father_hom_ref", "de_novo.mother_hom_ref"}
    named = np.array([c.name not in untried for c in dn.items] + [False])
    tried = named[dn_first]
    category_labels = ["a primary category"] + [
        f"a primary category (not de novo: {c.name} {c.labels[0]})" for c in dn.items]
    category_text = (np.array(category_labels), np.where(tried, dn_first + 1, 0))
    dn_obs = np.zeros(n, np.float32)
    for i, check in enumerate(dn.items):
        mine = dn_first == i
        dn_obs[mine] = check.observed[mine]
    cats_observed = np.where(tried, dn_obs, cats.astype(np.float32))
    am_only = ~has_primary & ((cats & CAT["alphamissense"]) != 0) \
        & config.phenotype.alphamissense_alone
    female = sex == FEMALE
    male_or_unknown = ~female
    ab = allele_balance(reads)

    checks: dict[str, Checks] = {}
    for model in MODELS:
        if model in COMPHET:
            continue
        c = Checks(n)
        c.extend(common)
        c.add(f"{model}.moi", ~allowed[:, MODELS.index(model)], _moi_text(model))
        genotype_ok = {
            "AD": g >= 1, "AR_hom": g == 2, "X_male": (g >= 1) & male_or_unknown,
            "XLD": (g >= 1) & female, "XLR_hom": (g == 2) & female,
            "X_pseudodominant": (g == 1) & female,
            "mito": (g >= 1) & ~(ab < config.mito.min_heteroplasmy),
        }[model]
        if model == "mito":
            c.add("mito.genotype", ~genotype_ok,
                  f"carrier with heteroplasmy (alt fraction) >= {config.mito.min_heteroplasmy}",
                  np.where(np.isnan(ab), g, ab))
        else:
            c.add(f"{model}.genotype", ~genotype_ok, _GENOTYPE_TEXT[model], g)
        _frequency(c, rows, r, model)
        c.add(f"{model}.category", ~(has_primary | am_only), category_text, cats_observed)
        aff_bad, unaff_bad = _segregation(model, G, rel_aff, rel_unaff, rel_male, moi_x)
        if model == "X_pseudodominant":
            # skewed X-inactivation explains unaffected carrier women, not unaffected
            # hemizygous men
            unaff_bad = unaff_bad & rel_male
        unaff_veto = unaff_bad.any(axis=1) & ~plp_starred
        c.add(f"{model}.affected_relatives", aff_bad.any(axis=1),
              "every affected relative carries it", aff_bad.sum(axis=1))
        c.add(f"{model}.unaffected_relatives", unaff_veto,
              "no unaffected relative has the disease genotype", unaff_bad.sum(axis=1))
        checks[model] = c

    hemi = _hom_inside_deletion(v, var, s, gene, g)
    comphet_checks, pairs = _comphet(rows, r, s, var, gene, g, female, allowed, common, cats,
                                     primary, am_only, G, rel_aff, rel_unaff, rel_male, on_x,
                                     calls, plp_starred, ped, v, hemi)
    checks.update(comphet_checks)

    flags = _flags(g, ab, d, config)
    paired = np.zeros(n, bool)
    paired[pairs["a"].to_numpy()] = True
    paired[pairs["b"].to_numpy()] = True
    ambiguous = _ambiguous_clinvar_moi(cats, primary, g, np.where(on_x, moi_x, moi_auto), paired)
    candidates = _candidates(checks, pairs, r, var, s, gene, cats, flags, am_only, female,
                             ambiguous)
    audit = _audit(checks, r, var, s, gene, candidates)
    return Result(candidates, audit, Calls(r, var, s, gene, cats, flags, checks, dn))


_GENOTYPE_TEXT = {"AD": "het or hom", "AR_hom": "hom", "X_male": "hemizygous male",
                  "XLD": "female carrier", "XLR_hom": "hom female", "X_pseudodominant": "het female",
                  "mito": "carrier above the heteroplasmy threshold",
                  "AR_comphet": "het, or hom inside a het deletion",
                  "XLR_comphet": "het female, or hom inside a het deletion"}


def _moi_text(model: str) -> str:
    parts = []
    for where, table in (("autosomal", _AUTOSOMAL), ("on X", _ON_X)):
        allowed = sorted(m for m, models in table.items() if model in models)
        if allowed:
            parts.append(f"{where}: {'/'.join(allowed)}")
    return "gene MOI " + ("; ".join(parts) if parts else "Mitochondrial on chrM")


def _de_novo_bits(config: HeronConfig) -> int:
    names = config.categories.high_impact + ["missense", "inframe_insertion", "inframe_deletion",
                                             "protein_altering"]
    return int(np.bitwise_or.reduce([int(BIT[n]) for n in names]))


def _frequency_texts(rows: dict) -> dict[str, np.ndarray]:
    """Per frequency kind, str (n_rows,) '<rule> <= <limit>' of the rows that fail it, ''
    of the others, and bool (n_rows,) which fail: made once, every model of a kind cites
    them."""
    out = {}
    for kind in ("dominant", "recessive"):
        rule = rows[f"{kind}_rule"].astype(str)
        limit = rows[f"{kind}_limit"].astype(str)
        out[f"{kind}_text"] = np.where(rule != "", np.char.add(np.char.add(rule, " <= "),
                                                               limit), "")
        out[f"{kind}_fails"] = rule != ""
    return out


def _frequency(c: Checks, rows: dict, r: np.ndarray, model: str) -> None:
    kind = "dominant" if model in DOMINANT_FREQUENCY else "recessive"
    c.add(f"{model}.frequency", rows[f"{kind}_fails"][r], (rows[f"{kind}_text"], r),
          rows[f"{kind}_observed"][r])


def _segregation(model: str, G: np.ndarray, aff: np.ndarray, unaff: np.ndarray,
                 male: np.ndarray, moi_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(affected relatives that lack the genotype, unaffected relatives that have it), each
    (n, k) bool; missing genotypes (-1) never count."""
    known = G >= 0
    carries, hom = G >= 1, G == 2
    if model in ("AD", "mito"):
        aff_bad = aff & known & ~carries
        unaff_bad = unaff & carries if model == "AD" else np.zeros_like(aff)
    elif model == "AR_hom":
        aff_bad = aff & known & ~hom
        unaff_bad = unaff & hom
    else:  # X models: males by hemizygosity, females by the model
        mono = (moi_x == MOI["HemiMonoInFemale"]) | (moi_x == MOI["Monoallelic"])
        female_needs_hom = model == "XLR_hom"
        aff_bad = aff & known & np.where(male | ~female_needs_hom, ~carries, ~hom)
        female_veto = carries if model == "XLD" else np.where(mono[:, None], carries, hom)
        unaff_bad = unaff & np.where(male, carries, female_veto)
    return aff_bad, unaff_bad


def _pairs_within_groups(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j, of positions that share a value in ``group`` (sorted ascending)."""
    n = len(group)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    ends = np.r_[starts[1:], n]
    end_of = np.repeat(ends, ends - starts)
    after = end_of - np.arange(n) - 1  # partners after each position in its group
    left = np.repeat(np.arange(n), after)
    offset = np.arange(len(left)) - np.repeat(np.cumsum(after) - after, after)
    return left, left + offset + 1


def _last_base(v: dict, variant: np.ndarray) -> np.ndarray:
    """(n,) int: the last reference base each variant touches (``end``, else from REF)."""
    if "end" in v:
        return v["end"][variant].astype(np.int64)
    return v["pos"][variant].astype(np.int64) + np.char.str_len(v["ref"][variant]) - 1


def _deletion_covers(v: dict, del_var: np.ndarray, del_g: np.ndarray,
                     small_var: np.ndarray) -> np.ndarray:
    """(n,) bool: a het SV deletion call (``del_var``, genotype ``del_g``) whose deleted bases
    (POS+1..END, POS being the padding base) hold all of a small variant ``small_var``."""
    if "svtype" not in v:
        return np.zeros(len(del_var), bool)
    svtype = v["svtype"]
    pos = v["pos"].astype(np.int64)
    return ((svtype[del_var] == SVTYPE["DEL"]) & (del_g == 1) & (svtype[small_var] == 0)
            & (pos[small_var] > pos[del_var])
            & (_last_base(v, small_var) <= _last_base(v, del_var)))


def _hom_inside_deletion(v: dict, var: np.ndarray, s: np.ndarray, gene: np.ndarray,
                         g: np.ndarray) -> np.ndarray:
    """(n,) bool over the calls: a small variant that looks homozygous inside a het deletion
    call of the same sample and gene — really hemizygous, so a comp-het partner of it.

    Pairs hom small calls with het deletion calls by a join on (sample, gene)."""
    n = len(var)
    if "svtype" not in v or n == 0:
        return np.zeros(n, bool)
    svtype = v["svtype"][var]
    hom = np.flatnonzero((g == 2) & (svtype == 0))
    dels = np.flatnonzero((g == 1) & (svtype == SVTYPE["DEL"]))
    if len(hom) == 0 or len(dels) == 0:
        return np.zeros(n, bool)
    joined = pd.DataFrame({"h": hom, "s": s[hom], "gene": gene[hom]}).merge(
        pd.DataFrame({"d": dels, "s": s[dels], "gene": gene[dels]}), on=["s", "gene"])
    h, d = joined["h"].to_numpy(), joined["d"].to_numpy()
    out = np.zeros(n, bool)
    out[h[_deletion_covers(v, var[d], g[d], var[h])]] = True
    return out


def _comphet(rows, r, s, var, gene, g, female, allowed, common, cats, primary, am_only, G,
             rel_aff, rel_unaff, rel_male, on_x, calls, plp_starred, ped, v, hemi):
    """Comp-het checks per call (one list per comp-het model) and the valid pairs; ``hemi``
    (n,) bool marks hom calls inside a het deletion (:func:`_hom_inside_deletion`); ``am_only``
    (n,) bool marks AlphaMissense-only calls, a pair of which stands on the phenotype gate
    (column ``needs_phenotype`` of the pairs)."""
    n = len(r)
    per_model = {}
    for model in ("AR_comphet", "XLR_comphet"):
        c = Checks(n)
        c.extend(common)
        applies = allowed[:, MODELS.index(model)] & (female if model == "XLR_comphet" else True)
        c.add(f"{model}.moi", ~applies, _moi_text(model))
        c.add(f"{model}.genotype", (g != 1) & ~hemi, _GENOTYPE_TEXT[model], g)
        _frequency(c, rows, r, model)
        c.add(f"{model}.category", cats == 0, "any category", cats.astype(np.float32))
        per_model[model] = c
    eligible = np.flatnonzero(per_model["AR_comphet"].passed()
                              | per_model["XLR_comphet"].passed())
    order = eligible[np.lexsort((gene[eligible], s[eligible]))]
    group = s[order].astype(np.int64) * (int(gene.max()) + 1 if n else 1) + gene[order]
    li, ri = _pairs_within_groups(group)
    a, b = order[li], order[ri]
    pair = Checks(len(a))
    am_pair = am_only[a] & am_only[b]
    pair.add("comphet.primary", (((cats[a] | cats[b]) & primary) == 0) & ~am_pair,
             "at least one of the pair primary, or both AlphaMissense-only")
    # a hom call is in the pair only as the hemizygous partner of the deletion covering it
    hom_a, hom_b = g[a] == 2, g[b] == 2
    pair.add("comphet.hom_outside_deletion",
             (hom_a & ~_deletion_covers(v, var[b], g[b], var[a]))
             | (hom_b & ~_deletion_covers(v, var[a], g[a], var[b])),
             "a hom call pairs only with a het deletion covering it")
    ps_a, ps_b = calls["ps"][var[a], s[a]], calls["ps"][var[b], s[b]]
    ph_a, ph_b = calls["phase"][var[a], s[a]], calls["phase"][var[b], s[b]]
    same_set = (ps_a > 0) & (ps_a == ps_b)
    pair.add("comphet.cis_by_phase", same_set & (ph_a == ph_b), "in trans")
    father, mother = ped.father[s[a]], ped.mother[s[a]]
    pair.add("comphet.cis_by_parents", _by_parents(calls["gt"], var[a], var[b], father, mother,
                                                   "cis"), "one variant from each parent")
    carries_both = (G[a] >= 1) & (G[b] >= 1)
    # a relative known not to carry either variant vetoes on that alone (missing calls never
    # veto); on X an affected male needs only one of the pair, being hemizygous
    lacks_one = (G[a] == 0) | (G[b] == 0)
    lacks_both = (G[a] == 0) & (G[b] == 0)
    hemizygous = rel_male[a] & on_x[a][:, None]
    aff_bad = rel_aff[a] & np.where(hemizygous, lacks_both, lacks_one)
    pair.add("comphet.affected_relatives", aff_bad.any(axis=1),
             "every affected relative carries both", aff_bad.sum(axis=1))
    # on X an unaffected male with either variant would be affected himself
    unaff_bad = (rel_unaff[a] & carries_both) | (
        rel_unaff[a] & rel_male[a] & ((G[a] >= 1) | (G[b] >= 1)) & on_x[a][:, None])
    exempt = plp_starred[a] & plp_starred[b]
    pair.add("comphet.unaffected_relatives", unaff_bad.any(axis=1) & ~exempt,
             "no unaffected relative carries both", unaff_bad.sum(axis=1))
    good = pair.passed()
    # the variant inside a deletion sits on the other copy: in trans by construction
    trans = (same_set & (ph_a != ph_b)) | hom_a | hom_b \
        | _by_parents(calls["gt"], var[a], var[b], father, mother, "trans")
    pairs = pd.DataFrame({"a": a[good], "b": b[good], "phased": trans[good],
                          "needs_phenotype": am_pair[good]})
    has_partner = np.zeros(n, bool)
    has_partner[a[good]] = True
    has_partner[b[good]] = True
    # a call whose pairs all failed names the failure of one of them
    pair_first = pair.first_failure()
    why = np.zeros(n, np.int32)
    failed = ~good
    why[a[failed]] = pair_first[failed] + 1
    why[b[failed]] = pair_first[failed] + 1
    labels = np.array(["another qualifying het call in the gene"]
                      + [c.name for c in pair.items])
    for model, c in per_model.items():
        c.add(f"{model}.partner", ~has_partner, (labels, why))
    return per_model, pairs


def _parent_carries(gt, variant, parent):
    value = np.where(parent >= 0, gt[variant, np.maximum(parent, 0)], -1)
    return value >= 1, value >= 0


def _by_parents(gt, va, vb, father, mother, relation: str) -> np.ndarray:
    """Pairs the parents' genotypes show in ``relation`` ('cis': one parent carries both and
    the other neither; 'trans': each parent carries a different one); needs all four calls."""
    fa, fa_known = _parent_carries(gt, va, father)
    fb, fb_known = _parent_carries(gt, vb, father)
    ma, ma_known = _parent_carries(gt, va, mother)
    mb, mb_known = _parent_carries(gt, vb, mother)
    known = fa_known & fb_known & ma_known & mb_known
    if relation == "cis":
        return known & (((fa & fb) & ~(ma | mb)) | ((ma & mb) & ~(fa | fb)))
    return known & ((fa & ~fb & mb & ~ma) | (fb & ~fa & ma & ~mb))


def _flags(g, ab, d, config) -> np.ndarray:
    qc = config.call_qc
    flags = np.zeros(len(g), np.uint8)
    with np.errstate(invalid="ignore"):
        het_off = (g == 1) & ((ab < qc.het_ab_low) | (ab > qc.het_ab_high))
        hom_off = (g == 2) & (ab <= qc.hom_ab_min)
    flags[het_off | hom_off] |= FLAG["allele_balance"]
    flags[(d >= 0) & (d < qc.flag_depth)] |= FLAG["low_depth"]
    return flags


def _ambiguous_clinvar_moi(cats: np.ndarray, primary: np.uint16, g: np.ndarray,
                           moi: np.ndarray, paired: np.ndarray) -> np.ndarray:
    """(n,) bool: calls whose single-copy (AD, XLD) report rests on ClinVar alone in a gene
    that is both mono- and biallelic — ClinVar's P/LP may be for the recessive condition,
    making the patient a carrier; the expert must check which condition it asserts.

    cats uint16, g int8, moi int8 (heron.classify.genes MOI code where the call lies),
    paired bool (the call also has a valid comp-het partner, which settles the recessive
    reading); all (n,). A hom call is not flagged (it fits either reading), nor one with any
    primary category besides ClinVar (a de novo call, say, speaks for dominance).
    """
    clinvar = (cats & CLINVAR_CATEGORIES) != 0
    other_primary = (cats & primary & ~CLINVAR_CATEGORIES) != 0
    return (g == 1) & clinvar & ~other_primary & (moi == MOI["MonoAndBiallelic"]) & ~paired


def _candidates(checks, pairs, r, var, s, gene, cats, flags, am_only, female,
                ambiguous) -> pd.DataFrame:
    parts = []
    for model, c in checks.items():
        if model in COMPHET:
            continue
        ok = np.flatnonzero(c.passed())
        f = flags[ok].copy()
        if model == "X_pseudodominant":
            f |= FLAG["xlr_female_het"]
        if model in SINGLE_COPY:
            f |= np.where(ambiguous[ok], FLAG["ambiguous_clinvar_moi"], 0).astype(np.uint8)
        parts.append(pd.DataFrame({"call": ok, "model": model, "partner": -1, "flags": f,
                                   "needs_phenotype": am_only[ok]}))
    if len(pairs):
        for this, other in (("a", "b"), ("b", "a")):
            call = pairs[this].to_numpy()
            model = np.where(checks["XLR_comphet"].passed()[call], "XLR_comphet", "AR_comphet")
            f = flags[call] | np.where(pairs["phased"].to_numpy(), 0,
                                       FLAG["phase_unknown"]).astype(np.uint8)
            partner = pairs[other].to_numpy()
            # a pair with a primary call stands alone; two AlphaMissense-only calls need the
            # phenotype match one of them would need
            parts.append(pd.DataFrame({"call": call, "model": model, "partner": partner,
                                       "flags": f,
                                       "needs_phenotype": pairs["needs_phenotype"].to_numpy()}))
    if not parts:
        return _empty_candidates()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = r[out["call"]]
    out["variant"] = var[out["call"]]
    out["sample"] = s[out["call"]]
    out["gene"] = gene[out["call"]]
    out["categories"] = cats[out["call"]]
    out["partner_variant"] = np.where(out["partner"] >= 0,
                                      var[np.maximum(out["partner"].to_numpy(), 0)], -1)
    return out


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64") for c in (
        "call", "partner", "flags", "row", "variant", "sample", "gene", "categories",
        "partner_variant")}).assign(model=pd.Series(dtype=str),
                                    needs_phenotype=pd.Series(dtype=bool))


def _audit(checks, r, var, s, gene, candidates) -> pd.DataFrame:
    """For each call that satisfied no model: the failure of the model it got furthest in."""
    n = len(r)
    names = list(checks)
    progress = np.stack([checks[m].progress() for m in names]) if n else np.zeros((0, 0))
    reported = np.zeros(n, bool)
    reported[candidates["call"].to_numpy()] = True
    todo = np.flatnonzero(~reported)
    if len(todo) == 0:
        return pd.DataFrame({"call": [], "row": [], "variant": [], "sample": [], "gene": [],
                             "model": [], "rule": [], "threshold": [], "observed": []})
    best = np.argmax(progress[:, todo], axis=0)
    rule = np.empty(len(todo), dtype=object)
    threshold = np.empty(len(todo), dtype=object)
    observed = np.full(len(todo), np.nan, np.float32)
    for k, model in enumerate(names):
        pick = best == k
        if pick.any():
            rule[pick], threshold[pick], observed[pick] = checks[model].reasons(todo[pick])
    model = np.array(names, dtype=object)[best]
    # a failure in the checks every model shares belongs to no model in particular: a rule
    # is the model's own when named "<model>.<check>"
    codes, distinct = pd.factorize(rule)
    owner = np.array([name.split(".")[0] for name in distinct], dtype=object)
    shared = owner[codes] != model
    model = np.where(shared, "all", model)
    return pd.DataFrame({"call": todo, "row": r[todo], "variant": var[todo], "sample": s[todo],
                         "gene": gene[todo], "model": model, "rule": rule,
                         "threshold": threshold, "observed": observed})
