"""Consequence of a published variant from its HGVS expressions (no gene model needed).

Rules (benchmark protocol A): intronic ``c.N+k``/``c.N-k`` positions give splice donor
(+1/+2), splice acceptor (-1/-2), splice region (3..8) or intron; ``c.-N``/``c.*N`` give UTR;
otherwise the ``p.`` expression decides: ``fs`` frameshift, ``ext`` stop lost, ``=``
synonymous, ``Met1`` start lost, in-frame ``del``/``ins``/``dup``, ``Ter``/``*`` stop gained,
other single amino-acid changes missense. Without a usable ``p.`` (``p.?`` or none) the VCF
allele lengths decide (frameshift / in-frame); a coding SNV at c.1..3 is start lost and any other
coding SNV is taken as missense (the commonest class; the true effect needs the transcript
sequence). ``n.``/``m.`` expressions are non-coding exon variants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

IMPACT = {
    "stop_gained": "HIGH", "frameshift_variant": "HIGH", "splice_donor_variant": "HIGH",
    "splice_acceptor_variant": "HIGH", "start_lost": "HIGH", "stop_lost": "HIGH",
    "missense_variant": "MODERATE", "inframe_deletion": "MODERATE", "inframe_insertion": "MODERATE",
    "synonymous_variant": "LOW", "splice_region_variant": "LOW",
    "intron_variant": "MODIFIER", "5_prime_UTR_variant": "MODIFIER", "3_prime_UTR_variant": "MODIFIER",
    "non_coding_transcript_exon_variant": "MODIFIER",
}

# Benchmark variant classes used in the manifest and the per-class breakdown.
VARIANT_CLASS = {
    "stop_gained": "PTV", "frameshift_variant": "PTV", "splice_donor_variant": "PTV",
    "splice_acceptor_variant": "PTV", "start_lost": "PTV", "stop_lost": "stop_lost",
    "missense_variant": "missense", "inframe_deletion": "inframe", "inframe_insertion": "inframe",
    "synonymous_variant": "synonymous", "splice_region_variant": "splice_region",
    "intron_variant": "intronic", "5_prime_UTR_variant": "UTR", "3_prime_UTR_variant": "UTR",
    "non_coding_transcript_exon_variant": "non_coding",
}

SO_ACCESSION = {
    "stop_gained": "SO:0001587", "frameshift_variant": "SO:0001589", "splice_donor_variant": "SO:0001575",
    "splice_acceptor_variant": "SO:0001574", "start_lost": "SO:0002012", "stop_lost": "SO:0001578",
    "missense_variant": "SO:0001583", "inframe_deletion": "SO:0001822", "inframe_insertion": "SO:0001821",
    "synonymous_variant": "SO:0001819", "splice_region_variant": "SO:0001630",
    "intron_variant": "SO:0001627", "5_prime_UTR_variant": "SO:0001623", "3_prime_UTR_variant": "SO:0001624",
    "non_coding_transcript_exon_variant": "SO:0001792",
}

AA3 = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U", "Ter": "*",
}

# VEP's splice region reaches 3..8 bases into the intron.
SPLICE_REGION_MAX_OFFSET = 8


def _aa1(codes: pd.Series) -> pd.Series:
    return codes.map(AA3).fillna("")


def annotate_hgvs(hgvsc: pd.Series, hgvsp: pd.Series, hgvsn: pd.Series,
                  ref: pd.Series, alt: pd.Series) -> pd.DataFrame:
    """Consequence of each variant from its HGVS strings.

    All inputs: (n,) str Series on the same index (empty string = absent); ref/alt are the VCF
    alleles. Returns a DataFrame on that index with columns consequence (SO term, str), impact
    (str), variant_class (str), protein_position (int64, 0 = none), amino_acids (str, e.g.
    ``R/Q``), intron_offset (int64: bases into the intron, 0 = exonic or unknown).
    """
    idx = hgvsc.index
    cpart = hgvsc.fillna("").str.extract(r":c\.(.*)$", expand=False).fillna("").str.replace(" ", "")
    ppart = (hgvsp.fillna("").str.extract(r":p\.(.*)$", expand=False).fillna("")
             .str.strip("()").str.strip())
    noncoding = (cpart == "") & ((hgvsn.fillna("") != "") | hgvsc.fillna("").str.contains(r":[nm]\.", regex=True))

    # Intronic offsets of both ends of a range; the smaller one decides.
    ends = cpart.str.extractall(r"(?:^|_)[-*]?\d+([+-])(\d+)")
    offset = pd.Series(0, index=idx, dtype=np.int64)
    side = pd.Series("", index=idx, dtype=object)
    if len(ends):
        ends[1] = ends[1].astype(np.int64)
        first = ends.sort_values(1).groupby(level=0).head(1).droplevel(1)
        offset.loc[first.index] = first[1]
        side.loc[first.index] = first[0]
    intronic = offset > 0
    utr5 = ~intronic & cpart.str.match(r"^-\d")
    utr3 = ~intronic & cpart.str.match(r"^\*\d")

    p_known = (ppart != "") & (ppart != "?")
    p_aa = ppart.str.extract(r"^([A-Z][a-z]{2})(\d+)", expand=True)
    p_pos = pd.to_numeric(p_aa[1], errors="coerce").fillna(0).astype(np.int64)
    missense_p = ppart.str.fullmatch(r"[A-Z][a-z]{2}\d+[A-Z][a-z]{2}") & ~ppart.str.endswith("Ter")
    ins_count = ppart.str.extract(r"delins((?:[A-Z][a-z]{2})+)$", expand=False).fillna("").str.len() // 3
    range_p = ppart.str.extract(r"^[A-Z][a-z]{2}(\d+)_[A-Z][a-z]{2}(\d+)", expand=True)
    del_count = (pd.to_numeric(range_p[1], errors="coerce") - pd.to_numeric(range_p[0], errors="coerce") + 1).fillna(1)

    c_pos = pd.to_numeric(cpart.str.extract(r"^(\d+)", expand=False), errors="coerce").fillna(0).astype(np.int64)
    len_diff = ref.str.len() - alt.str.len()
    snv = (ref.str.len() == 1) & (alt.str.len() == 1)

    conditions = [
        noncoding,
        intronic & (offset <= 2) & (side == "+"),
        intronic & (offset <= 2) & (side == "-"),
        intronic & (offset <= SPLICE_REGION_MAX_OFFSET),
        intronic,
        utr5,
        utr3,
        p_known & ppart.str.contains("fs"),
        p_known & ppart.str.contains("ext"),
        p_known & ppart.str.contains("="),
        p_known & ppart.str.match(r"^Met1(?!\d)"),
        p_known & ppart.str.contains("delins") & ppart.str.contains(r"(?:Ter|\*)$"),
        p_known & ppart.str.contains("delins") & (ins_count > del_count),
        p_known & ppart.str.contains("delins") & (ins_count < del_count),
        p_known & ppart.str.contains("delins"),
        p_known & ppart.str.contains("del"),
        p_known & ppart.str.contains("dup|ins"),
        p_known & ppart.str.contains(r"(?:Ter|\*)$"),
        p_known & missense_p,
        ~snv & (len_diff % 3 != 0),
        ~snv & (len_diff > 0),
        ~snv & (len_diff < 0),
        snv & (c_pos >= 1) & (c_pos <= 3),
    ]
    choices = [
        "non_coding_transcript_exon_variant", "splice_donor_variant", "splice_acceptor_variant",
        "splice_region_variant", "intron_variant", "5_prime_UTR_variant", "3_prime_UTR_variant",
        "frameshift_variant", "stop_lost", "synonymous_variant", "start_lost", "stop_gained",
        "inframe_insertion", "inframe_deletion", "missense_variant", "inframe_deletion",
        "inframe_insertion", "stop_gained", "missense_variant",
        "frameshift_variant", "inframe_deletion", "inframe_insertion", "start_lost",
    ]
    consequence = np.select([c.to_numpy(dtype=bool) for c in conditions], choices, default="missense_variant")
    consequence = pd.Series(consequence, index=idx, dtype=object)

    coding = ~(noncoding | intronic | utr5 | utr3)
    c_protein = np.where(c_pos > 0, (c_pos - 1) // 3 + 1, 0)
    protein_position = np.where(coding & (p_pos > 0), p_pos, np.where(coding, c_protein, 0))
    p_alt = ppart.str.extract(r"^[A-Z][a-z]{2}\d+([A-Z][a-z]{2}|\*)$", expand=False).fillna("")
    ref_aa, alt_aa = _aa1(p_aa[0]), _aa1(p_alt.replace("*", "Ter"))
    amino_acids = np.where(
        consequence.isin(["missense_variant", "stop_gained"]) & (ref_aa != "") & (alt_aa != ""),
        ref_aa + "/" + alt_aa,
        np.where(consequence.eq("synonymous_variant") & (ref_aa != ""), ref_aa, ""))
    return pd.DataFrame({
        "consequence": consequence,
        "impact": consequence.map(IMPACT),
        "variant_class": consequence.map(VARIANT_CLASS),
        "protein_position": pd.Series(protein_position, index=idx).astype(np.int64),
        "amino_acids": pd.Series(amino_acids, index=idx, dtype=object),
        "intron_offset": offset.where(intronic, 0).astype(np.int64),
    }, index=idx)
