"""Consequences from VEP ``CSQ``, bcftools ``BCSQ`` and snpEff ``ANN`` into one vocabulary.

The per-variant annotation strings are exploded into one row per variant × transcript (the
text cut once, in C); consequences, positions and scores are read once per distinct value
with pandas' string operations. Each row's consequence terms become a uint32 bitmask over
:data:`CONSEQUENCES`, so the core tests consequences with bitwise ands.
"""

from __future__ import annotations

import re

import numpy as np

from heron.lazy import pandas as pd

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


def consequence_bits(terms: pd.Series) -> np.ndarray:
    """(n,) uint32 bitmask of '&'-joined consequence strings in any of the three spellings."""
    if len(terms) == 0:
        return np.zeros(0, np.uint32)
    # a callset has a few hundred distinct strings: each is looked up once
    return _per_distinct(terms.fillna(""), _distinct_bits).astype(np.uint32)


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


def _per_distinct(values: pd.Series, convert) -> np.ndarray:
    """``convert`` (a function of a Series of the distinct values to an array) applied once
    per distinct value of ``values`` and spread back over them: annotation columns repeat the
    same gene, biotype or position many times."""
    codes, distinct = pd.factorize(values, sort=False, use_na_sentinel=False)
    return np.asarray(convert(pd.Series(distinct, dtype=object)))[codes]


def format_fields(description: str) -> tuple[str, list[str]]:
    """(kind, field names) from an INFO header description of CSQ, ANN or BCSQ."""
    m = re.search(r"Format:\s*'?([^'\"]+)'?", description)
    if m and "|" in m.group(1):
        fields = [f.strip() for f in m.group(1).split("|")]
        kind = "bcsq" if fields[:2] == ["Consequence", "gene"] else "vep"
        return kind, fields
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
    kind, fields = format_fields(description)
    # Plain str splitting over the text once: numpy's string functions would first widen every
    # value to the longest one (kilobytes for a VEP CSQ) and pandas' split is several times
    # slower for the ~10 entries of each variant.
    owners, entries = [], []
    for i, value in enumerate(np.asarray(strings, dtype="S").tolist()):
        if value:
            parts = value.decode("utf-8").split(",")
            owners.extend([i] * len(parts))
            entries.extend(parts)
    columns = _field_columns(entries)
    rows = pd.DataFrame(index=pd.Index(owners, dtype=np.int64))
    for j, name in enumerate(fields[:len(columns)]):
        if name in _FIELDS and _FIELDS[name] not in rows:
            rows[_FIELDS[name]] = pd.Series(columns[j], index=rows.index, dtype=object)
    variant = rows.index.to_numpy(np.int64)
    keep = _allele_matches(rows, kind, variant, vep_allele, alt, n_alts)
    rows = rows[keep]
    if kind == "bcsq" and "consequence" in rows:
        rows = _follow_pointers(rows, chrom, pos, ref, alt)
    variant = rows.index.to_numpy(np.int64)
    n = len(rows)

    def text(col: str) -> np.ndarray:
        if col not in rows or n == 0:
            return np.full(n, b"", dtype="S1")
        return _encoded(rows[col])

    def number(col: str) -> np.ndarray:
        if col not in rows or n == 0:
            return np.full(n, np.nan, np.float32)
        # VEP joins the values of overlapping features with '&': the first counts
        return _per_distinct(rows[col], lambda d: pd.to_numeric(
            d.str.partition("&")[0], errors="coerce").to_numpy(np.float32))

    def leading_number(values: pd.Series) -> pd.Series:
        return pd.Series(_per_distinct(values, lambda d: pd.to_numeric(
            d.str.extract(r"^(\d+)")[0], errors="coerce").to_numpy(np.float64)))

    if kind == "bcsq":
        protein = rows.get("protein_change", pd.Series("", index=rows.index))
        protein_pos = leading_number(protein)
        hgvsp = protein
    else:
        raw = rows.get("protein_pos", pd.Series("", index=rows.index))
        protein_pos = leading_number(raw)
        hgvsp = rows.get("hgvsp", pd.Series("", index=rows.index))
    canonical = rows.get("canonical", pd.Series("", index=rows.index)).isin(["YES", "1"])
    mane_id = rows.get("mane", pd.Series("", index=rows.index))
    mane = mane_id.ne("")
    return {
        "variant": variant.astype(np.int32),
        "consequence": consequence_bits(rows["consequence"].reset_index(drop=True))
        if n else np.zeros(0, np.uint32),
        "gene_symbol": text("gene_symbol"), "gene_id": text("gene_id"),
        "transcript": text("transcript"), "biotype": text("biotype"), "hgvsc": text("hgvsc"),
        "hgvsp": _encoded(hgvsp) if n else text("hgvsp"),
        "protein_pos": protein_pos.fillna(-1).to_numpy(np.int32) if n else np.zeros(0, np.int32),
        "canonical": canonical.to_numpy(bool), "mane": mane.to_numpy(bool),
        "mane_id": _encoded(mane_id) if n else text("mane"),
        "am_score": number("am_score"), "revel": number("revel"),
    }


def _field_columns(entries: list[str]) -> list[list[str]]:
    """The '|'-separated fields of ``entries`` as one list per field position, entries with
    fewer fields padded with "": all entries are joined and split once, so that the text is
    cut in one C call rather than once per entry."""
    if not entries:
        return []
    bars = [e.count("|") for e in entries]
    most = max(bars)
    if min(bars) < most:
        entries = [e + "|" * (most - b) if b < most else e for e, b in zip(entries, bars)]
    flat = "|".join(entries).split("|")
    return [flat[j::most + 1] for j in range(most + 1)]


def _encoded(values: pd.Series) -> np.ndarray:
    """bytes ``S`` array of a column of str (missing → b""): encoded as one text (a VCF
    line holds no newline), then cut."""
    if not len(values):
        return np.zeros(0, "S1")
    text = "\n".join(values.fillna("").tolist())
    return np.array(text.encode("utf-8").split(b"\n"), dtype="S")


def _follow_pointers(rows: pd.DataFrame, chrom, pos, ref, alt) -> pd.DataFrame:
    """bcftools csq writes a compound consequence once, at one variant, and ``@<pos>`` at the
    others: give each pointing variant the entries at <pos> whose DNA change names it."""
    pointer = rows["consequence"].str.startswith("@")
    if not pointer.any():
        return rows
    entries = rows[~pointer]
    if pos is None or chrom is None or ref is None:
        return entries
    ptr = rows[pointer]
    v = ptr.index.to_numpy(np.int64)
    sites = pd.DataFrame({"target": np.arange(len(pos)), "chrom": np.asarray(chrom),
                          "pos": np.asarray(pos)})
    wanted = pd.DataFrame({"variant": v, "chrom": np.asarray(chrom)[v],
                           "pos": pd.to_numeric(ptr["consequence"].str[1:],
                                                errors="coerce").to_numpy(),
                           "change": [f"{p}{r}>{a}" for p, r, a in zip(
                               np.asarray(pos)[v], np.char.decode(np.asarray(ref, "S")[v]),
                               np.char.decode(np.asarray(alt, "S")[v]))]})
    pairs = wanted.merge(sites, on=["chrom", "pos"])
    targets = entries.assign(target=entries.index.to_numpy()).merge(pairs, on="target")
    hit = [c in h.split("+") for c, h in zip(targets["change"], targets["hgvsc"])]
    copied = targets[hit].set_index("variant")[entries.columns]
    return pd.concat([entries, copied]).sort_index(kind="stable")


def _allele_matches(rows: pd.DataFrame, kind: str, variant: np.ndarray, vep_allele, alt,
                    n_alts) -> np.ndarray:
    """Mask of entries that belong to this ALT of a split record."""
    single = np.asarray(n_alts)[variant] <= 1
    if kind == "bcsq" or "allele" not in rows:
        if kind == "bcsq" and "hgvsc" in rows:
            # bcftools writes e.g. 3106T>C; the ALT is the text after '>'
            alts = np.char.decode(np.asarray(alt, dtype="S")[variant], "utf-8")
            tail = rows["hgvsc"].str.extract(r">([ACGTN]+)$")[0].fillna("").to_numpy(str)
            # intron and splice entries carry no DNA change: they hold for every ALT
            return single | (tail == alts) | (tail == "")
        return single
    allele = rows["allele"].to_numpy(str)
    want_vep = np.char.decode(np.asarray(vep_allele, dtype="S")[variant], "utf-8")
    want_alt = np.char.decode(np.asarray(alt, dtype="S")[variant], "utf-8")
    return single | (allele == want_vep) | (allele == want_alt)


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
