"""De novo calls (rulebook §6), with a ceiling on parental alt reads and allele balance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heron.audit import Checks
from heron.config import DeNovoConfig
from heron.genome import CHROM_M, CHROM_Y
from heron.ingest.pedigree import MALE


# rows of TrioReads
CHILD, FATHER, MOTHER = 0, 1, 2


@dataclass
class TrioReads:
    """Read counts and quality of n calls (row CHILD) and of the same variants in each
    call's father and mother (rows FATHER, MOTHER): ad_ref, ad_alt, dp, gq each (3, n) in the
    store's integer types, -1 missing. A parent's row means nothing where that parent is not
    sequenced. Each field is gathered from the store in one read: the checks below cite the
    same fields many times, and every read maps the store's file and touches its rows."""

    ad_ref: np.ndarray
    ad_alt: np.ndarray
    dp: np.ndarray
    gq: np.ndarray

    @classmethod
    def read(cls, calls: dict, variant: np.ndarray, child: np.ndarray, father: np.ndarray,
             mother: np.ndarray) -> TrioReads:
        """``calls``: the store's (n_variants, n_samples) fields; variant, child, father,
        mother (n,) int (parents -1 when not sequenced)."""
        n = len(variant)
        rows = np.tile(np.asarray(variant, np.int64), 3)
        who = np.concatenate([child, np.maximum(father, 0), np.maximum(mother, 0)])
        return cls(*(calls[name][rows, who].reshape(3, n)
                     for name in ("ad_ref", "ad_alt", "dp", "gq")))


def depth(reads: TrioReads, who: int = CHILD) -> np.ndarray:
    """(n,) int32 total depth of calls: sum of AD where present, else DP, else -1."""
    ref, alt = reads.ad_ref[who], reads.ad_alt[who]
    return np.where((ref >= 0) & (alt >= 0), ref + alt, reads.dp[who]).astype(np.int32)


def de_novo_depth(reads: TrioReads, who: int) -> np.ndarray:
    """(n,) int32 depth for the de novo gates: DP, else sum of AD when DP is missing, else -1
    (rulebook §6; the per-call QC of §5 prefers the sum of AD)."""
    dp, ref, alt = reads.dp[who], reads.ad_ref[who], reads.ad_alt[who]
    return np.where(dp >= 0, dp, np.where((ref >= 0) & (alt >= 0), ref + alt, -1)).astype(np.int32)


def allele_balance(reads: TrioReads, who: int = CHILD) -> np.ndarray:
    """(n,) float32 alt / (ref + alt) reads; NaN when AD is missing or zero."""
    ref = reads.ad_ref[who].astype(np.float32)
    alt = reads.ad_alt[who].astype(np.float32)
    total = ref + alt
    ok = (ref >= 0) & (alt >= 0) & (total > 0)
    return np.where(ok, alt / np.where(ok, total, 1), np.nan).astype(np.float32)


def de_novo_checks(gt: np.ndarray, reads: TrioReads, variant: np.ndarray, child: np.ndarray,
                   father: np.ndarray, mother: np.ndarray, chrom: np.ndarray, on_x: np.ndarray,
                   child_sex: np.ndarray, eligible: np.ndarray, cfg: DeNovoConfig) -> Checks:
    """Named de novo checks over n calls.

    gt: the store's genotypes (n_variants, n_samples) int8; reads: the calls' and their
    parents' read counts and qualities; variant, child, father, mother: (n,) int (parents -1
    when not sequenced); chrom (n,) int8 codes; on_x (n,) bool (X outside the PARs);
    child_sex (n,) int8; eligible (n,) bool (the row's consequence or ClinVar status allows
    de novo).
    """
    n = len(variant)
    checks = Checks(n)
    have_father, have_mother = father >= 0, mother >= 0
    f, m = np.maximum(father, 0), np.maximum(mother, 0)
    g_child = gt[variant, child]
    g_father = np.where(have_father, gt[variant, f], -1)
    g_mother = np.where(have_mother, gt[variant, m], -1)
    on_y, on_m = chrom == CHROM_Y, chrom == CHROM_M
    needs_father = ~on_m
    needs_mother = ~on_y
    checks.add("de_novo.parents_sequenced", ~(have_father & have_mother), "both parents")
    checks.add("de_novo.eligible_consequence", ~eligible,
               "high impact, missense, inframe, snRNA or ClinVar P/LP")
    male = child_sex == MALE
    child_ok = np.where(on_m, g_child == 2,
                        np.where(on_x & male, g_child >= 1,
                                 np.where(on_y, g_child >= 1, g_child == 1)))
    checks.add("de_novo.child_genotype", ~child_ok, "het (hemi/hom on X in males, hom on chrM)",
               g_child)
    checks.add("de_novo.father_hom_ref", needs_father & (g_father != 0), "0", g_father)
    checks.add("de_novo.mother_hom_ref", needs_mother & (g_mother != 0), "0", g_mother)
    used = [(CHILD, np.ones(n, bool), "child"), (FATHER, needs_father, "father"),
            (MOTHER, needs_mother, "mother")]
    for who, needed, label in used:
        d = de_novo_depth(reads, who)
        bad = needed & ((d < cfg.min_depth) | (d > cfg.max_depth))
        checks.add(f"de_novo.{label}_depth", bad, f"{cfg.min_depth}-{cfg.max_depth}", d)
    g = reads.gq[CHILD]
    checks.add("de_novo.child_gq", g < cfg.min_child_gq, f">={cfg.min_child_gq}", g)
    for who, needed, label in used[1:]:
        g = reads.gq[who]
        missing_ok = (g < 0) & (not cfg.require_parent_gq)
        checks.add(f"de_novo.{label}_gq", needed & (g < cfg.min_parent_gq) & ~missing_ok,
                   f">={cfg.min_parent_gq}", g)
    alt = reads.ad_alt[CHILD]
    checks.add("de_novo.child_alt_reads", (alt >= 0) & (alt < cfg.min_child_alt_reads),
               f">={cfg.min_child_alt_reads}", alt)
    ab = allele_balance(reads, CHILD)
    with np.errstate(invalid="ignore"):
        checks.add("de_novo.child_allele_balance", ab < cfg.min_child_ab,
                   f">={cfg.min_child_ab}", ab)
        for who, needed, label in used[1:]:
            alt = reads.ad_alt[who]
            checks.add(f"de_novo.{label}_alt_reads", needed & (alt > cfg.max_parent_alt_reads),
                       f"<={cfg.max_parent_alt_reads}", alt)
            pab = allele_balance(reads, who)
            checks.add(f"de_novo.{label}_allele_balance", needed & (pab > cfg.max_parent_ab),
                       f"<={cfg.max_parent_ab}", pab)
    return checks
