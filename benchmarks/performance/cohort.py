"""A simulated joint-called cohort as arrays: sites, their annotations, and calls per chunk.

Sites are drawn in real genes (see genes.py), allele frequencies from a rare-heavy spectrum,
genotypes under Hardy-Weinberg, read depths over-dispersed per sample and per site, allelic
depths drawn from the genotype, and GQ from depth and allele balance, so GT, AD, DP and GQ
agree with each other as in a real joint call. Calls are made per chunk of sites with a seed
derived from the chunk number, so a chunk is the same whatever the chunk order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Consequences written into CSQ: (SO term, VEP IMPACT). SNVs and indels draw from their own
# weights; the weights are the rough mix of a joint-called exome.
SNV_CONSEQUENCES = {
    "missense_variant": ("MODERATE", 0.43), "synonymous_variant": ("LOW", 0.27),
    "stop_gained": ("HIGH", 0.015), "splice_donor_variant": ("HIGH", 0.004),
    "splice_acceptor_variant": ("HIGH", 0.004), "start_lost": ("HIGH", 0.002),
    "stop_lost": ("HIGH", 0.002), "splice_region_variant&intron_variant": ("LOW", 0.04),
    "intron_variant": ("MODIFIER", 0.123), "3_prime_UTR_variant": ("MODIFIER", 0.06),
    "5_prime_UTR_variant": ("MODIFIER", 0.04),
}
INDEL_CONSEQUENCES = {
    "frameshift_variant": ("HIGH", 0.35), "inframe": ("MODERATE", 0.2),
    "intron_variant": ("MODIFIER", 0.3), "3_prime_UTR_variant": ("MODIFIER", 0.1),
    "splice_region_variant&intron_variant": ("LOW", 0.05),
}
AMINO = np.array(["Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly", "His", "Ile", "Leu",
                  "Lys", "Met", "Phe", "Pro", "Ser", "Thr", "Trp", "Tyr", "Val"])
AMINO1 = np.array(list("ARNDCQEGHILKMFPSTWYV"))
BASES = np.array(list("ACGT"))
GNOMAD_AN = 1_614_000  # alleles behind the simulated gnomAD counts (gnomAD v4.1 joint order)
FILTERS = np.array(["PASS", "LowQual", "VQSRTrancheSNP99.90to100.00"])


@dataclass
class Spectrum:
    """The allele-frequency spectrum of the simulated sites (fractions of ALT alleles).

    singleton: alleles with a callset AF of 1/(2N) (mostly seen once); rare: log-uniform from
    1/(2N) to ``rare_max``; the rest common, log-uniform from rare_max to ``common_max``.
    gnomad_absent: share of rare alleles absent from gnomAD; the others get a gnomAD AF
    log-uniform in ``gnomad_rare``. multiallelic: share of records with two ALT alleles;
    indel: share of biallelic records that are indels; missing: share of no-calls.
    """

    singleton: float = 0.45
    rare: float = 0.35
    rare_max: float = 0.01
    common_max: float = 0.5
    gnomad_absent: float = 0.35
    gnomad_rare: tuple[float, float] = (1e-6, 1e-3)
    multiallelic: float = 0.03
    indel: float = 0.1
    missing: float = 0.01
    mean_depth: float = 35.0


@dataclass
class Sites:
    """M records; per-record arrays have shape (M,), per-ALT arrays (M, 2) (column 1 unused
    when n_alts is 1).

    chrom object (``chr1``...), pos int64, ref object, alt object (M, 2), n_alts int8,
    gene int32 (row of the gene table), consequence object (M, 2), af float64 (M, 2) target
    callset AF, gnomad_af float64 (M, 2) NaN = absent, qual float64, filter object.
    """

    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    n_alts: np.ndarray
    gene: np.ndarray
    consequence: np.ndarray
    af: np.ndarray
    gnomad_af: np.ndarray
    qual: np.ndarray
    filter: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


def _log_uniform(rng, lo, hi, size):
    lo, hi = np.broadcast_to(lo, size), np.broadcast_to(hi, size)
    return np.exp(rng.uniform(np.log(lo), np.log(np.maximum(hi, lo)), size))


def _draw_positions(genes: pd.DataFrame, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(gene row, position) of n distinct sites, genes weighted by their span (capped, since
    long genes are mostly intron) and positions uniform in the gene."""
    span = (genes["end"] - genes["start"] + 1).to_numpy()
    weight = np.clip(span, 5_000, 200_000).astype(float)
    weight /= weight.sum()
    gene = np.empty(0, np.int64)
    pos = np.empty(0, np.int64)
    while len(pos) < n:
        g = rng.choice(len(genes), n - len(pos) + 16, p=weight)
        p = genes["start"].to_numpy()[g] + (rng.random(len(g)) * span[g]).astype(np.int64)
        gene, pos = np.concatenate([gene, g]), np.concatenate([pos, p])
        chrom = genes["chrom"].to_numpy()[gene]
        _, first = np.unique(np.char.add(chrom.astype(str), pos.astype(str)), return_index=True)
        keep = np.sort(first)[:n]
        gene, pos = gene[keep], pos[keep]
    return gene, pos


def _contig_order(chrom: np.ndarray) -> np.ndarray:
    bare = np.char.replace(chrom.astype(str), "chr", "")
    order = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "M": 25}
    return np.array([order[c] for c in np.unique(bare)])[np.unique(bare, return_inverse=True)[1]]


def simulate_sites(genes: pd.DataFrame, n_variants: int, n_samples: int, seed: int,
                   spectrum: Spectrum = Spectrum()) -> Sites:
    """``n_variants`` sorted records in ``genes`` for a cohort of ``n_samples``."""
    rng = np.random.default_rng([seed, 0])
    gene, pos = _draw_positions(genes, n_variants, rng)
    chrom = genes["chrom"].to_numpy()[gene].astype(object)
    order = np.lexsort((pos, _contig_order(chrom)))
    gene, pos, chrom = gene[order], pos[order], chrom[order]
    m = len(pos)
    n_alts = np.where(rng.random(m) < spectrum.multiallelic, 2, 1).astype(np.int8)
    indel = (n_alts == 1) & (rng.random(m) < spectrum.indel)
    ref_base = rng.integers(0, 4, m)
    alt_base = (ref_base + rng.integers(1, 4, (2, m))) % 4
    alt_base[1] = np.where(alt_base[1] == alt_base[0], (alt_base[0] + 1) % 4, alt_base[1])
    alt_base[1] = np.where(alt_base[1] == ref_base, (alt_base[1] + 1) % 4, alt_base[1])
    ref = BASES[ref_base].astype(object)
    alt = np.stack([BASES[alt_base[0]], np.where(n_alts == 2, BASES[alt_base[1]], "")], 1)
    alt = alt.astype(object)
    # indels: half deletions of 1-3 bases after the anchor base, half insertions of 1-3 bases
    length = rng.integers(1, 4, m)
    extra = BASES[rng.integers(0, 4, (3, m))].astype(object)
    tail = np.select([length == 1, length == 2], [extra[0], extra[0] + extra[1]],
                     extra[0] + extra[1] + extra[2])
    deletion = indel & (rng.random(m) < 0.5)
    insertion = indel & ~deletion
    anchor = ref.copy()
    ref = np.where(deletion, anchor + tail, ref)
    alt[:, 0] = np.where(deletion, anchor, np.where(insertion, anchor + tail, alt[:, 0]))

    snv_terms, snv_w = _weights(SNV_CONSEQUENCES)
    indel_terms, indel_w = _weights(INDEL_CONSEQUENCES)
    consequence = np.stack([rng.choice(snv_terms, m, p=snv_w) for _ in range(2)], 1).astype(object)
    indel_csq = rng.choice(indel_terms, m, p=indel_w).astype(object)
    # a coding indel is in frame exactly when its length is a multiple of three
    coding = (indel_csq == "frameshift_variant") | (indel_csq == "inframe")
    inframe = np.where(deletion, "inframe_deletion", "inframe_insertion")
    indel_csq = np.where(coding, np.where(length % 3 == 0, inframe, "frameshift_variant"),
                         indel_csq)
    consequence[:, 0] = np.where(indel, indel_csq, consequence[:, 0])
    consequence[:, 1] = np.where(n_alts == 2, consequence[:, 1], "")

    af, gnomad_af = _frequencies(rng, (m, 2), n_samples, spectrum)
    qual = np.round(rng.gamma(2.0, 400.0, m), 2)
    filt = FILTERS[np.searchsorted([0.95, 0.98], rng.random(m), side="right")].astype(object)
    return Sites(chrom, pos, ref, alt, n_alts, gene.astype(np.int32), consequence, af, gnomad_af,
                 qual, filt)


def _weights(table: dict) -> tuple[np.ndarray, np.ndarray]:
    terms = np.array(list(table))
    w = np.array([v[1] for v in table.values()])
    return terms, w / w.sum()


def _frequencies(rng, shape, n_samples: int, s: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    """Target callset AF and gnomAD AF (NaN = absent) of each ALT allele."""
    floor = 0.5 / n_samples
    u = rng.random(shape)
    rare_hi = max(s.rare_max, floor)
    af = np.where(u < s.singleton, floor,
                  np.where(u < s.singleton + s.rare, _log_uniform(rng, floor, rare_hi, shape),
                           _log_uniform(rng, rare_hi, s.common_max, shape)))
    common = af >= s.rare_max
    gnomad = np.where(common, np.clip(af * rng.lognormal(0, 0.3, shape), 0, 0.99),
                      _log_uniform(rng, *s.gnomad_rare, shape))
    absent = ~common & (rng.random(shape) < s.gnomad_absent)
    return af, np.where(absent, np.nan, gnomad)


def gnomad_counts(gnomad_af: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """gnomAD AC and homozygote count consistent with the AF (int64, -1 where absent)."""
    absent = np.isnan(gnomad_af)
    af = np.where(absent, 0, gnomad_af)
    ac = np.maximum(1, np.round(af * GNOMAD_AN)).astype(np.int64)
    hom = np.round(af * af * GNOMAD_AN / 2).astype(np.int64)
    return np.where(absent, -1, ac), np.where(absent, -1, hom)


@dataclass
class Calls:
    """Calls of a chunk of r records for n samples.

    lo, hi: (r, n) int8 the two allele indices, lo <= hi (-1 both when missing);
    ad: (r, n, 3) int32 allelic depths (column 2 used only by two-ALT records);
    dp, gq: (r, n) int32; dropped: (r, n) bool no-calls written as a bare ``./.``.
    """

    lo: np.ndarray
    hi: np.ndarray
    ad: np.ndarray
    dp: np.ndarray
    gq: np.ndarray
    dropped: np.ndarray


def simulate_calls(sites: Sites, rows: slice, n_samples: int, seed: int, chunk: int,
                   spectrum: Spectrum = Spectrum(), max_depth: int = 999) -> Calls:
    """Genotypes and read counts of the records ``rows`` of ``sites``."""
    rng = np.random.default_rng([seed, 1, chunk])
    af = sites.af[rows]
    n_alts = sites.n_alts[rows]
    r, n = len(af), n_samples
    p1 = af[:, 0:1]
    p2 = np.where(n_alts[:, None] == 2, af[:, 1:2], 0.0)
    haps = rng.random((2, r, n))
    alleles = (haps >= 1 - p1 - p2).astype(np.int8) + (haps >= 1 - p2).astype(np.int8)
    lo, hi = alleles.min(axis=0), alleles.max(axis=0)
    # every site of a joint call has a carrier of each of its ALT alleles
    for k in (1, 2):
        need = ~(hi == k).any(axis=1) & (n_alts >= k)
        who = rng.integers(0, n, need.sum())
        hi[np.flatnonzero(need), who] = k
    site_depth = rng.lognormal(0, 0.35, (r, 1))
    sample_depth = rng.lognormal(0, 0.25, (1, n))
    dp = np.minimum(rng.poisson(spectrum.mean_depth * site_depth * sample_depth), max_depth)
    # reads: a hom-ref call (most calls) shows at most one error read; carriers draw their
    # reads from the genotype's allele fractions, with 1.5% sequencing error
    ad = np.zeros((r, n, 3), np.int32)
    error = rng.random((r, n)) < dp * 0.005
    ad[..., 0] = dp - error
    ad[..., 1] = error
    carrier = np.nonzero(hi > 0)
    c_lo, c_hi, c_dp = lo[carrier], hi[carrier], dp[carrier]
    frac = np.full((3, len(c_dp)), 0.005)
    for allele in (c_lo, c_hi):
        for k in range(3):
            frac[k] += 0.4925 * (allele == k)
    ad0 = rng.binomial(c_dp, frac[0])
    ad1 = rng.binomial(c_dp - ad0, np.clip(frac[1] / (frac[1] + frac[2]), 0, 1))
    two = n_alts[carrier[0]] == 2
    ad[carrier] = np.stack([ad0, np.where(two, ad1, c_dp - ad0),
                            np.where(two, c_dp - ad0 - ad1, 0)], 1)
    expected = np.where(c_lo != c_hi, 0.5, 1.0)
    balance = np.take_along_axis(ad[carrier], c_hi[:, None].astype(np.int64), 1)[:, 0] \
        / np.maximum(c_dp, 1)
    gq = np.minimum(3 * dp, 99)
    gq[carrier] = np.clip(np.round(3.0 * c_dp * (1 - 1.5 * np.abs(balance - expected))), 0, 99)
    missing = rng.random((r, n)) < spectrum.missing
    lo = np.where(missing, -1, lo).astype(np.int8)
    hi = np.where(missing, -1, hi).astype(np.int8)
    dropped = missing & (rng.random((r, n)) < 0.5)
    ad[missing] = -1
    dp = np.where(missing, -1, dp).astype(np.int32)
    gq = np.where(missing, -1, gq).astype(np.int32)
    return Calls(lo, hi, ad, dp, gq, dropped)
