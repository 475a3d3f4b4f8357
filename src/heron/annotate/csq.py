"""Consequences from VEP ``CSQ``, bcftools ``BCSQ`` and snpEff ``ANN`` into one vocabulary.

The per-variant annotation strings are cut into one row per variant × transcript by a compiled
loop (:mod:`heron.annotate.cut`); consequences, positions and scores are read once per
distinct value with pandas' string operations. Each row's consequence terms become a uint32
bitmask over :data:`CONSEQUENCES`, so the core tests consequences with bitwise ands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from heron.lazy import pandas as pd

if TYPE_CHECKING:
    from heron.annotate.cut import Entries

# One bit each, most severe first.
CONSEQUENCES = (
    "transcript_ablation", "splice_acceptor", "splice_donor", "stop_gained", "frameshift",
    "stop_lost", "start_lost", "inframe_insertion", "inframe_deletion", "missense",
    "protein_altering", "splice_region", "synonymous", "stop_retained", "start_retained",
    "coding_sequence", "5_prime_utr", "3_prime_utr", "non_coding_exon", "intron",
    "nmd_transcript", "non_coding_transcript", "upstream", "downstream", "intergenic",
    "regulatory", "other",
)
BIT = {name: np.uint32(1 << i) for i, name in enumerate(CONSEQUENCES)}

# Spellings of VEP, bcftools csq and snpEff mapped to the vocabulary (after lower-casing and
# dropping a trailing "_variant").
_SYNONYMS = {
    "exon_loss": "transcript_ablation", "feature_ablation": "transcript_ablation",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "inframe_altering": "inframe_deletion", "stop_retained": "stop_retained",
    "initiator_codon": "start_lost", "start_retained": "start_retained",
    "splice_donor_5th_base": "splice_region", "splice_donor_region": "splice_region",
    "splice_polypyrimidine_tract": "splice_region", "5_prime_utr_premature_start_codon_gain":
    "5_prime_utr", "non_coding_transcript_exon": "non_coding_exon", "non_coding": "non_coding_transcript",
    "nmd_transcript": "nmd_transcript", "intragenic": "intron", "upstream_gene": "upstream",
    "downstream_gene": "downstream", "intergenic_region": "intergenic",
    "regulatory_region": "regulatory", "tf_binding_site": "regulatory",
    "incomplete_terminal_codon": "coding_sequence", "mature_mirna": "non_coding_exon",
    "frameshift_elongation": "frameshift", "frameshift_truncation": "frameshift",
    "coding_sequence": "coding_sequence", "protein_protein_contact": "missense",
    "structural_interaction": "missense", "sequence_feature": "other",
}

# Field names of each format mapped to heron's column names.
_FIELDS = {
    "Allele": "allele", "Consequence": "consequence", "SYMBOL": "gene_symbol",
    "Gene": "gene_id", "Feature": "transcript", "BIOTYPE": "biotype", "HGVSc": "hgvsc",
    "HGVSp": "hgvsp", "Protein_position": "protein_pos", "CANONICAL": "canonical",
    "MANE_SELECT": "mane", "MANE": "mane", "am_pathogenicity": "am_score", "REVEL": "revel",
    "REVEL_score": "revel",
    # snpEff ANN
    "Annotation": "consequence", "Gene_Name": "gene_symbol", "Gene_ID": "gene_id",
    "Feature_ID": "transcript", "Transcript_BioType": "biotype", "HGVS.c": "hgvsc",
    "HGVS.p": "hgvsp", "AA.pos / AA.length": "protein_pos",
    # bcftools BCSQ
    "gene": "gene_symbol", "transcript": "transcript", "biotype": "biotype",
    "amino_acid_change": "protein_change", "dna_change": "hgvsc",
}
_STRING_COLUMNS = ("gene_symbol", "gene_id", "transcript", "biotype", "hgvsc", "hgvsp")


def consequence_bits(terms: np.ndarray) -> np.ndarray:
    """(n,) uint32 bitmask of '&'-joined consequence strings ((n,) bytes) in any of the three
    spellings."""
    if len(terms) == 0:
        return np.zeros(0, np.uint32)
    # a callset has a few hundred distinct strings: each is looked up once
    return _per_distinct(terms, _distinct_bits).astype(np.uint32)


def _distinct_bits(terms: pd.Series) -> np.ndarray:
    """int64 (n,) bitmask of each of ``terms`` (distinct '&'-joined consequence strings)."""
    exploded = terms.str.split("&").explode()
    norm = (exploded.str.lstrip("*").str.strip().str.lower()
            .str.replace(r"_variant$", "", regex=True))
    norm = norm.map(lambda t: _SYNONYMS.get(t, t))
    table = {name: int(bit) for name, bit in BIT.items()}
    bits = norm.map(table)
    bits = bits.where(bits.notna(), np.where(norm.eq(""), 0, int(BIT["other"])))
    out = np.zeros(len(terms), np.int64)
    np.bitwise_or.at(out, exploded.index.to_numpy(np.int64), bits.to_numpy(np.int64))
    return out


def _per_distinct(values: np.ndarray, convert) -> np.ndarray:
    """``convert`` (a function of a Series of the distinct values, as str, to an array)
    applied once per distinct value of ``values`` ((n,) bytes) and spread back over them:
    annotation columns repeat the same gene, consequence or position many times."""
    distinct, codes = np.unique(values, return_inverse=True)
    text = pd.Series(np.char.decode(distinct, "utf-8"), dtype=object)
    return np.asarray(convert(text))[codes.reshape(-1)]


def format_fields(description: str) -> tuple[str, list[str]]:
    """(kind, field names) from an INFO header description of CSQ, ANN or BCSQ."""
    m = re.search(r"Format:\s*'?([^'\"]+)'?", description)
    if m and "|" in m.group(1):
        # bcftools csq of some versions marks the optional parts:
        # '[*]consequence|gene|transcript|biotype[|strand|amino_acid_change|dna_change]'
        fields = [re.sub(r"[\[\]*]", "", f).strip() for f in m.group(1).split("|")]
        if [f.lower() for f in fields[:2]] == ["consequence", "gene"]:
            return "bcsq", ["Consequence", *fields[1:]]
        return "vep", fields
    m = re.search(r"'([^']*\|[^']*)'", description)
    if m:
        return "ann", [f.strip() for f in m.group(1).split("|")]
    raise ValueError(f"cannot find the field list in the header description {description!r}")


def parse_annotations(strings: np.ndarray, description: str, vep_allele: np.ndarray,
                      alt: np.ndarray, n_alts: np.ndarray, *, chrom: np.ndarray | None = None,
                      pos: np.ndarray | None = None,
                      ref: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Explode per-variant annotation strings into a transcripts table.

    strings: (n_variants,) bytes, the raw INFO value; vep_allele / alt: (n_variants,) bytes;
    n_alts: (n_variants,) int16 number of ALTs in the original record, so that entries of
    other ALTs of a split multi-allelic record are dropped. chrom, pos, ref (n_variants,): when
    given, bcftools' haplotype-aware ``@<pos>`` pointers are replaced by the compound
    consequence they point to. Returns aligned (n_rows,) arrays:
    variant int32, consequence uint32, gene_symbol/gene_id/transcript/biotype/hgvsc/hgvsp
    bytes, protein_pos int32 (-1 unknown), canonical bool, mane bool, mane_id bytes (the MANE
    Select RefSeq id, b"" if none), am_score float32 and revel float32 (NaN unknown).
    """
    from heron.annotate.cut import cut_entries

    kind, fields = format_fields(description)
    # the first field of the format that fills a column fills it
    taken: set[str | None] = set()
    field_columns = []
    for name in fields:
        column = _FIELDS.get(name)
        field_columns.append(column if column not in taken else None)
        taken.add(column)
    entries = cut_entries(strings, field_columns)
    entries = entries.take(_allele_matches(entries, kind, vep_allele, alt, n_alts))
    if kind == "bcsq":
        entries = _follow_pointers(entries, chrom, pos, ref, alt)
    n = len(entries)

    def number(col: str) -> np.ndarray:
        # VEP joins the values of overlapping features with '&': the first counts
        return _per_distinct(entries.column(col), lambda d: pd.to_numeric(
            d.str.partition("&")[0], errors="coerce").to_numpy(np.float32)) if n \
            else np.zeros(0, np.float32)

    protein = entries.column("protein_change" if kind == "bcsq" else "protein_pos")
    mane_id = entries.column("mane")
    return {
        "variant": entries.owner.astype(np.int32),
        "consequence": consequence_bits(entries.column("consequence")),
        "gene_symbol": entries.column("gene_symbol"), "gene_id": entries.column("gene_id"),
        "transcript": entries.column("transcript"), "biotype": entries.column("biotype"),
        "hgvsc": entries.column("hgvsc"),
        "hgvsp": protein if kind == "bcsq" else entries.column("hgvsp"),
        "protein_pos": _per_distinct(protein, lambda d: pd.to_numeric(
            d.str.extract(r"^(\d+)")[0], errors="coerce").fillna(-1).to_numpy(np.int32))
        if n else np.zeros(0, np.int32),
        "canonical": np.isin(entries.column("canonical"), [b"YES", b"1"]),
        "mane": mane_id != b"", "mane_id": mane_id,
        "am_score": number("am_score"), "revel": number("revel"),
    }


def _follow_pointers(entries: Entries, chrom, pos, ref, alt) -> Entries:
    """bcftools csq writes a compound consequence once, at one variant, and ``@<pos>`` at the
    others: give each pointing variant the entries at <pos> whose DNA change names it."""
    consequence = np.char.decode(entries.column("consequence"), "utf-8")
    pointer = np.char.startswith(consequence, "@")
    if not pointer.any():
        return entries
    kept = np.flatnonzero(~pointer)
    if pos is None or chrom is None or ref is None:
        return entries.take(kept)
    v = entries.owner[pointer]
    sites = pd.DataFrame({"target": np.arange(len(pos)), "chrom": np.asarray(chrom),
                          "pos": np.asarray(pos)})
    wanted = pd.DataFrame({"variant": v, "chrom": np.asarray(chrom)[v],
                           "pos": pd.to_numeric(pd.Series(consequence[pointer]).str[1:],
                                                errors="coerce").to_numpy(),
                           "change": [f"{p}{r}>{a}" for p, r, a in zip(
                               np.asarray(pos)[v], np.char.decode(np.asarray(ref, "S")[v]),
                               np.char.decode(np.asarray(alt, "S")[v]))]})
    pairs = wanted.merge(sites, on=["chrom", "pos"])
    hgvsc = np.char.decode(entries.column("hgvsc"), "utf-8")
    targets = pd.DataFrame({"entry": kept, "target": entries.owner[kept],
                            "hgvsc": hgvsc[kept]}).merge(pairs, on="target")
    hit = np.array([c in h.split("+") for c, h in zip(targets["change"], targets["hgvsc"])],
                   bool)
    rows = np.concatenate([kept, targets["entry"].to_numpy(np.int64)[hit]])
    owner = np.concatenate([entries.owner[kept], targets["variant"].to_numpy(np.int64)[hit]])
    order = np.argsort(owner, kind="stable")
    return entries.take(rows[order], owner=owner[order])


def _allele_matches(entries: Entries, kind: str, vep_allele, alt, n_alts) -> np.ndarray:
    """Mask of entries that belong to this ALT of a split record."""
    variant = entries.owner
    single = np.asarray(n_alts)[variant] <= 1
    alts = np.asarray(alt, dtype="S")[variant]
    if kind == "bcsq":
        if "hgvsc" not in entries.columns:
            return single
        # bcftools writes e.g. 3106T>C; the ALT is the text after '>'
        hgvsc = pd.Series(np.char.decode(entries.column("hgvsc"), "utf-8"), dtype=object)
        tail = hgvsc.str.extract(r">([ACGTN]+)$")[0].fillna("").to_numpy(str)
        # intron and splice entries carry no DNA change: they hold for every ALT
        return single | (tail == np.char.decode(alts, "utf-8")) | (tail == "")
    if "allele" not in entries.columns:
        return single
    allele = entries.column("allele")
    return single | (allele == np.asarray(vep_allele, dtype="S")[variant]) | (allele == alts)


def spliceai_max(strings: np.ndarray, vep_allele: np.ndarray, alt: np.ndarray,
                 n_alts: np.ndarray) -> np.ndarray:
    """(n_variants,) float32 max SpliceAI delta score from the native ``SpliceAI`` INFO field
    (``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|...``), NaN when absent."""
    n = len(strings)
    out = np.full(n, np.nan, np.float32)
    series = pd.Series(np.char.decode(np.asarray(strings, dtype="S"), "utf-8"), dtype=object)
    entries = series[series != ""].str.split(",").explode()
    if entries.empty:
        return out
    parts = entries.str.split("|", expand=True, regex=False)
    variant = parts.index.to_numpy(np.int64)
    scores = parts.iloc[:, 2:6].apply(pd.to_numeric, errors="coerce").max(axis=1).to_numpy()
    allele = parts[0].to_numpy(str)
    want = np.char.decode(np.asarray(alt, dtype="S")[variant], "utf-8")
    want_vep = np.char.decode(np.asarray(vep_allele, dtype="S")[variant], "utf-8")
    keep = (np.asarray(n_alts)[variant] <= 1) | (allele == want) | (allele == want_vep)
    scores = np.where(keep & ~np.isnan(scores), scores, -np.inf)
    best = np.full(n, -np.inf)
    np.maximum.at(best, variant, scores)
    out[np.isfinite(best)] = best[np.isfinite(best)]
    return out
