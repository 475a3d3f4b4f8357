"""Variant sites of the cohort with their annotations (consequence, gnomAD, AlphaMissense, SpliceAI).

A site table is a DataFrame, one row per site, columns:
chrom (int8 code), pos (int64), ref, alt (str), consequence, impact, variant_class, symbol,
feature, hgvsc, hgvsp, mane (str, empty when unknown), exon, intron (str ``k/n`` or empty),
protein_position (int64, 0 none), amino_acids (str), intron_offset (int64), source (str:
common / rare / de_novo / carrier / zero_star / causal), real (int64: row of the real-variant
table, -1 for simulated sites), af (float64, NaN = absent from gnomAD), am_class (str),
am_score (float64), splice_high (bool).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heron.genome import CHROM_X, chrom_code, in_par

from .genes import GeneTable, other_base, random_bases, reference_bases, sample_exonic, sample_intronic_near_exon
from .hgvs import IMPACT, VARIANT_CLASS, annotate_hgvs
from .protocol import Protocol

AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"), dtype=object)
FRAMESHIFT_LENGTHS = (np.array([1, 2, 4, 5, 7, 8]), np.array([0.55, 0.2, 0.1, 0.07, 0.05, 0.03]))
SITE_COLUMNS = ["chrom", "pos", "ref", "alt", "consequence", "impact", "variant_class", "symbol", "feature",
                "hgvsc", "hgvsp", "mane", "exon", "intron", "protein_position", "amino_acids",
                "intron_offset", "source", "real", "af", "am_class", "am_score", "splice_high"]


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    lo, hi = np.log10(bounds[0]), np.log10(bounds[1])
    return 10.0 ** rng.uniform(lo, hi, size=n)


def simulate_sites(genes: GeneTable, rng: np.random.Generator, kind: np.ndarray, source: str) -> pd.DataFrame:
    """New sites in real genes for the requested kinds.

    kind: (n,) str, one of missense_variant, synonymous_variant, stop_gained,
    frameshift_variant, splice (canonical ±1/2; donor or acceptor by where it lands),
    splice_region_variant. Returns a site table (annotation columns af/am left empty).
    """
    kind = np.asarray(kind, dtype=object)
    n = len(kind)
    exonic = ~np.isin(kind, ["splice", "splice_region_variant"])
    chrom = np.zeros(n, dtype=np.int8)
    pos = np.zeros(n, dtype=np.int64)
    gene = np.zeros(n, dtype=np.int64)
    exon = np.zeros(n, dtype=np.int64)
    offset = np.zeros(n, dtype=np.int64)
    ioff = np.zeros(n, dtype=np.int64)
    donor = np.zeros(n, dtype=bool)
    consequence = kind.copy()
    for mask, lo, hi in ((exonic, 0, 0), (kind == "splice", 1, 2), (kind == "splice_region_variant", 3, 8)):
        k = int(mask.sum())
        if not k:
            continue
        p = sample_exonic(genes, rng, k) if hi == 0 else sample_intronic_near_exon(genes, rng, k, lo, hi)
        chrom[mask], pos[mask], gene[mask], exon[mask] = p.chrom, p.pos, p.gene, p.exon
        offset[mask], ioff[mask], donor[mask] = p.offset, p.intron_offset, p.donor
    splice = kind == "splice"
    consequence[splice] = np.where(donor[splice], "splice_donor_variant", "splice_acceptor_variant")

    # Alleles: SNVs everywhere except frameshifts (half deletions, half insertions).
    fs = kind == "frameshift_variant"
    fs_len = np.where(fs, rng.choice(FRAMESHIFT_LENGTHS[0], size=n, p=FRAMESHIFT_LENGTHS[1]), 0)
    is_del = fs & (rng.random(n) < 0.5)
    ref = reference_bases(chrom, pos, np.where(is_del, fs_len + 1, 1))
    alt = other_base(ref, rng)
    alt[is_del] = pd.Series(ref[is_del]).str[0].to_numpy(dtype=object)
    ins = fs & ~is_del
    alt[ins] = ref[ins] + random_bases(rng, fs_len[ins])

    rank = genes.exon_rank[exon]
    n_ex = genes.gene_exons[gene]
    intron_no = np.where(donor, rank, rank - 1)
    exon_s = pd.Series(rank.astype(str), dtype=object) + "/" + n_ex.astype(str)
    intron_s = pd.Series(intron_no.astype(str), dtype=object) + "/" + (n_ex - 1).astype(str)
    coding = exonic
    aa_ref, aa_alt = AMINO[rng.integers(0, 20, n)], AMINO[rng.integers(0, 19, n)]
    aa_alt = np.where(aa_alt == aa_ref, "W", aa_alt)
    amino = np.select([consequence == "missense_variant", consequence == "stop_gained",
                       consequence == "synonymous_variant"],
                      [aa_ref + "/" + aa_alt, aa_ref + "/*", aa_ref], default="")
    empty = np.full(n, "", dtype=object)
    return pd.DataFrame({
        "chrom": chrom, "pos": pos, "ref": ref, "alt": alt, "consequence": consequence,
        "impact": pd.Series(consequence).map(IMPACT).to_numpy(dtype=object),
        "variant_class": pd.Series(consequence).map(VARIANT_CLASS).to_numpy(dtype=object),
        "symbol": genes.symbol[gene], "feature": empty, "hgvsc": empty, "hgvsp": empty, "mane": empty,
        "exon": np.where(coding, exon_s, ""), "intron": np.where(coding, "", intron_s),
        "protein_position": np.where(coding, offset // 3 + 1, 0).astype(np.int64),
        "amino_acids": amino.astype(object), "intron_offset": ioff, "source": source,
        "real": np.full(n, -1, dtype=np.int64), "af": np.full(n, np.nan),
        "am_class": empty, "am_score": np.full(n, np.nan), "splice_high": np.zeros(n, dtype=bool),
    })


def real_variant_table(case_set, protocol: Protocol) -> pd.DataFrame:
    """Distinct published variants of the case file, annotated from their HGVS.

    Returns one row per distinct (chrom, pos, ref, alt) of usable cases (GRCh38 SNV/indel),
    columns: the site-table annotation columns, plus publications (tuple of str), n_pubs (int),
    pub_years (tuple of int), recessive (bool: the gene is homozygous or compound
    heterozygous in some case of the file), cases (tuple of case rows).
    """
    cases = case_set.cases
    v = case_set.variants.merge(cases[["publication", "pub_year", "has_vcf"]], left_on="case",
                                right_index=True)
    v = v[v["has_vcf"]].copy()
    per_case = v.groupby("case")["zygosity"].agg(["size", lambda z: (z == "hom").any()])
    recessive_cases = per_case.index[(per_case["size"] >= 2) | per_case.iloc[:, 1]]
    recessive_genes = set(v.loc[v["case"].isin(recessive_cases), "symbol"])
    v["key"] = v["chrom"] + ":" + v["pos"].astype(str) + ":" + v["ref"] + ":" + v["alt"]
    grouped = v.groupby("key", sort=False)
    first = grouped.head(1).set_index("key")
    by_pub = v.drop_duplicates(["key", "publication"]).sort_values(["key", "publication"]).groupby("key")
    pubs = by_pub["publication"].agg(tuple).reindex(first.index)
    years = by_pub["pub_year"].agg(tuple).reindex(first.index)
    ann = annotate_hgvs(first["hgvsc"], first["hgvsp"], first["hgvsn"], first["ref"], first["alt"])
    table = pd.DataFrame({
        "chrom": first["chrom"].map(chrom_code).astype(np.int8), "pos": first["pos"].astype(np.int64),
        "ref": first["ref"], "alt": first["alt"], "consequence": ann["consequence"], "impact": ann["impact"],
        "variant_class": ann["variant_class"], "symbol": first["symbol"], "feature": first["transcript"],
        "hgvsc": first["hgvsc"], "hgvsp": first["hgvsp"],
        "mane": first["transcript"].where(first["transcript"].str.startswith("NM_"), ""),
        "exon": "", "intron": "", "protein_position": ann["protein_position"],
        "amino_acids": ann["amino_acids"], "intron_offset": ann["intron_offset"], "source": "",
        "real": -1, "af": np.nan, "am_class": "", "am_score": np.nan, "splice_high": False,
        "publications": pubs, "n_pubs": pubs.map(len), "pub_years": years,
        "recessive": first["symbol"].isin(recessive_genes),
        "cases": grouped["case"].agg(tuple),
    })
    table.index.name = "key"
    return table.reset_index()


def is_splice_like(sites: pd.DataFrame, protocol: Protocol) -> np.ndarray:
    """Canonical splice, splice-region or intronic within ``near_splice`` bases: (n,) bool."""
    return (sites["consequence"].isin(["splice_donor_variant", "splice_acceptor_variant", "splice_region_variant"])
            | ((sites["consequence"] == "intron_variant") & (sites["intron_offset"] <= protocol.near_splice))
            ).to_numpy()


def draw_rare_af(rng: np.random.Generator, n: int, protocol: Protocol) -> np.ndarray:
    """gnomAD AF of rare variants: (n,) float64, NaN = absent."""
    ultra = rng.random(n) < protocol.ultra_rare_fraction
    absent = ultra & (rng.random(n) < protocol.ultra_rare_absent_fraction)
    af = np.where(ultra, _log_uniform(rng, protocol.ultra_rare_af, n), _log_uniform(rng, protocol.rare_af, n))
    return np.where(absent, np.nan, af)


def assign_annotations(sites: pd.DataFrame, rng: np.random.Generator, protocol: Protocol,
                       recessive_causal: np.ndarray) -> pd.DataFrame:
    """Fill af / am_class / am_score / splice_high of a site table in place and return it.

    recessive_causal: (n,) bool, causal sites of a recessive genotype model (their recurrent AF
    range differs). Background rates apply to every non-causal site; causal sites use the
    causal rates; pool variants (carrier / zero-star) are real pathogenic variants and take the
    causal AlphaMissense/SpliceAI rates with their own AF rules.
    """
    n = len(sites)
    source = sites["source"].to_numpy()
    real_like = np.isin(source, ["causal", "carrier", "zero_star"])
    af = np.full(n, np.nan)
    rare = np.isin(source, ["rare", "carrier"])
    af[rare] = draw_rare_af(rng, int(rare.sum()), protocol)
    common = source == "common"
    af[common] = _log_uniform(rng, protocol.common_af, int(common.sum()))
    zero = source == "zero_star"
    af[zero] = _log_uniform(rng, protocol.zero_star_af, int(zero.sum()))
    causal = source == "causal"
    recurrent = causal & (sites["n_pubs"].fillna(0).to_numpy() >= protocol.recurrent_publications)
    dom = recurrent & ~recessive_causal
    rec = recurrent & recessive_causal
    af[dom] = _log_uniform(rng, protocol.recurrent_dominant_af, int(dom.sum()))
    af[rec] = _log_uniform(rng, protocol.recurrent_recessive_af, int(rec.sum()))

    missense = (sites["consequence"] == "missense_variant").to_numpy()
    p_lp = np.where(real_like, protocol.am_lp_causal, protocol.am_lp_background)
    u = rng.random(n)
    lp = missense & (u < p_lp)
    ambiguous = missense & ~lp & (rng.random(n) < protocol.am_ambiguous_of_rest)
    am_class = np.select([lp, ambiguous, missense], ["likely_pathogenic", "ambiguous", "likely_benign"], "")
    am_score = np.select([lp, ambiguous, missense],
                         [rng.uniform(0.564, 1.0, n), rng.uniform(0.34, 0.564, n), rng.uniform(0.0, 0.34, n)], np.nan)
    splice_like = is_splice_like(sites, protocol)
    splice_high = np.where(real_like, splice_like & (rng.random(n) < protocol.spliceai_causal),
                           (source != "common") & (rng.random(n) < protocol.spliceai_background))
    sites["af"] = af
    sites["am_class"] = am_class.astype(object)
    sites["am_score"] = am_score
    sites["splice_high"] = splice_high
    return sites


def gnomad_counts(sites: pd.DataFrame, rng: np.random.Generator, protocol: Protocol) -> pd.DataFrame:
    """gnomAD AC / nhomalt / nhemi consistent with AF (Hardy-Weinberg; X hemizygotes in males).

    Returns a DataFrame (n rows) of int64 columns ac, nhomalt, nhemi (-1 where absent).
    """
    af = sites["af"].to_numpy()
    present = ~np.isnan(af)
    individuals = protocol.gnomad_individuals
    chrom = sites["chrom"].to_numpy()
    x_only = (chrom == CHROM_X) & ~in_par(chrom, sites["pos"].to_numpy(), "GRCh38")
    a = np.where(present, af, 0.0)
    an = np.where(x_only, individuals * 1.5, individuals * 2.0)  # half the individuals male
    ac = np.maximum(np.rint(a * an), 1).astype(np.int64)
    nhomalt = rng.poisson(np.where(x_only, individuals * 0.5, individuals) * a * a)
    nhemi = np.where(x_only, rng.poisson(individuals * 0.5 * a), 0)
    return pd.DataFrame({"ac": np.where(present, ac, -1), "nhomalt": np.where(present, nhomalt, -1),
                         "nhemi": np.where(present & x_only, nhemi, np.where(present, 0, -1))})
