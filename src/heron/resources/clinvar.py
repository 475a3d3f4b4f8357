"""ClinVar: re-summarised classifications keyed by variant, and the PM5 codon index.

Two routes lead to one :class:`ClinVarTable` (aligned arrays sorted by variant key):

* ``submission_summary.txt.gz`` + ``variant_summary.txt.gz`` — every submission is binned and
  re-summarised (rulebook §3 "ClinVar re-summarisation"), then placed on the genome through
  the VariationID -> allele mapping of the requested build;
* the ClinVar VCF — CLNSIG and CLNREVSTAT as ClinVar summarised them, stars by ClinVar's own
  review-status mapping.

The :class:`Pm5Index` lists Pathogenic/Likely pathogenic missense variants by gene, transcript
and protein position: from ``variant_summary``'s HGVS names, or from a VEP ``CSQ`` carried in
the ClinVar VCF.
"""

from __future__ import annotations

import contextlib
import csv
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from heron.errors import InputError, ResourceError
from heron.genome import build_from_contigs, chrom_code
from heron.keys import sorted_join, variant_keys
from heron.lazy import pandas as pd
from heron.resources.arrays import load_arrays, load_meta, save_arrays
from heron.resources.download import fetch
from heron.resources.snapshot import create_snapshot, verify_snapshot
from heron.resources.textfiles import open_text, tab_header

if TYPE_CHECKING:
    import requests  # only in signatures: downloads import it when they run


class ClinSig(IntEnum):
    """Summarised clinical significance, ordered from least to most actionable."""

    OTHER = 0
    BENIGN = 1          # Benign, Likely benign, B/LB, protective
    UNCERTAIN = 2       # VUS, uncertain risk allele
    CONFLICTING = 3
    PATHOGENIC = 4      # Pathogenic, Likely pathogenic, P/LP, low-penetrance P/LP


# Defaults of the re-summarisation (rulebook §3); the config model passes its own values.
ACMG_DATE = date(2016, 1, 1)          # ACMG/AMP guidelines in use from this date
MAJORITY = 0.6
MINORITY = 0.2
# Longer alleles are left out (the reference tool drops indels over 40 bp combined); this
# bounds the fixed-width allele arrays.
MAX_ALLELE_LENGTH = 50

_SIG_BINS = {
    "pathogenic": ClinSig.PATHOGENIC,
    "likely pathogenic": ClinSig.PATHOGENIC,
    "pathogenic/likely pathogenic": ClinSig.PATHOGENIC,
    "pathogenic, low penetrance": ClinSig.PATHOGENIC,
    "likely pathogenic, low penetrance": ClinSig.PATHOGENIC,
    "benign": ClinSig.BENIGN,
    "likely benign": ClinSig.BENIGN,
    "benign/likely benign": ClinSig.BENIGN,
    "protective": ClinSig.BENIGN,
    "uncertain significance": ClinSig.UNCERTAIN,
    "uncertain risk allele": ClinSig.UNCERTAIN,
}
_VCF_SIG = {
    **{k: v for k, v in _SIG_BINS.items() if "," not in k},
    "conflicting interpretations of pathogenicity": ClinSig.CONFLICTING,
    "conflicting classifications of pathogenicity": ClinSig.CONFLICTING,
    "conflicting data from submitters": ClinSig.CONFLICTING,
}
_VCF_STARS = {
    "practice guideline": 4,
    "reviewed by expert panel": 3,
    "criteria provided, multiple submitters, no conflicts": 2,
    "criteria provided, single submitter": 1,
    "criteria provided, conflicting interpretations": 1,
    "criteria provided, conflicting classifications": 1,
}
PRACTICE_GUIDELINE = "practice guideline"
EXPERT_PANEL = "reviewed by expert panel"

_AA3 = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U",
    "Pyl": "O",
}
_NAME_MISSENSE = re.compile(
    r"^(?P<transcript>[NX]M_\d+(?:\.\d+)?)\((?P<gene>[^)]+)\):c\.\S+ "
    r"\(p\.(?P<aa_ref>[A-Z][a-z]{2})(?P<protein_pos>\d+)(?P<aa_alt>[A-Z][a-z]{2})\)$")
_BASES = r"^[ACGTN]+$"


# --------------------------------------------------------------------------- tables


def _as_bytes(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return arr
    return np.char.encode(arr.astype(str), "ascii")


@dataclass
class ClinVarTable:
    """ClinVar variants as aligned arrays of length n, sorted by ``key`` (unique).

    key int64 (heron.keys), chrom int8 (heron.genome codes), pos int32 (1-based), ref / alt
    bytes ('S'), clinsig int8 (:class:`ClinSig`), stars int8 (0-4), allele_id int64, gene str
    ('U'; first gene symbol, '' if none), csq object array of str or None (raw VEP CSQ, with
    its field names in ``csq_fields``). ``release`` labels the ClinVar release.
    """

    key: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    clinsig: np.ndarray
    stars: np.ndarray
    allele_id: np.ndarray
    gene: np.ndarray
    release: str
    build: str | None = None
    csq: np.ndarray | None = None
    csq_fields: list[str] | None = None

    _ARRAYS = ("key", "chrom", "pos", "ref", "alt", "clinsig", "stars", "allele_id", "gene")

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def build_from(cls, chrom, pos, ref, alt, clinsig, stars, allele_id, gene, *, release: str,
                   build: str | None, csq=None, csq_fields=None) -> ClinVarTable:
        """Key, sort and de-duplicate unsorted columns. Where two records share a key the one
        with more stars is kept (ClinVar lists a few alleles twice under different IDs)."""
        chrom = np.asarray(chrom, dtype=np.int8)
        pos = np.asarray(pos, dtype=np.int32)
        ref, alt = _as_bytes(ref), _as_bytes(alt)
        stars = np.asarray(stars, dtype=np.int8)
        key = variant_keys(chrom, pos, ref, alt)
        order = np.lexsort((-stars.astype(np.int16), key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        keep = order[first]
        return cls(
            key=key[keep], chrom=chrom[keep], pos=pos[keep], ref=ref[keep], alt=alt[keep],
            clinsig=np.asarray(clinsig, dtype=np.int8)[keep], stars=stars[keep],
            allele_id=np.asarray(allele_id, dtype=np.int64)[keep],
            gene=np.asarray(gene, dtype=str)[keep], release=release, build=build,
            csq=None if csq is None else np.asarray(csq, dtype=object)[keep],
            csq_fields=csq_fields,
        )

    def lookup(self, keys: np.ndarray, ref, alt) -> np.ndarray:
        """Row of each query variant in this table, or -1.

        keys: (m,) int64 variant keys; ref, alt: (m,) str or bytes alleles. A key match only
        counts when the alleles are equal too, so a key collision never attaches the wrong
        record. Returns (m,) int64.
        """
        idx = sorted_join(np.asarray(keys, dtype=np.int64), self.key)
        hit = np.flatnonzero(idx >= 0)
        same = (self.ref[idx[hit]] == _as_bytes(ref)[hit]) & \
               (self.alt[idx[hit]] == _as_bytes(alt)[hit])
        out = np.full(len(idx), -1, dtype=np.int64)
        out[hit[same]] = idx[hit[same]]
        return out

    def save(self, folder: str | Path) -> Path:
        """Write one .npy per array, ``csq.txt`` (one line per row) and ``meta.json``."""
        meta = {"release": self.release, "build": self.build, "rows": len(self),
                "csq_fields": self.csq_fields, "has_csq": self.csq is not None}
        folder = save_arrays(folder, {n: getattr(self, n) for n in self._ARRAYS}, meta)
        if self.csq is not None:
            (folder / "csq.txt").write_text("".join(f"{c}\n" for c in self.csq))
        return folder

    @classmethod
    def load(cls, folder: str | Path, mmap: bool = False) -> ClinVarTable:
        """Read a table written by :meth:`save`; ``mmap`` memory-maps the arrays."""
        folder = Path(folder)
        what, hint = "ClinVar table", "rebuild it from the ClinVar snapshot"
        meta = load_meta(folder, what, hint)
        arrays = load_arrays(folder, cls._ARRAYS, mmap, what, hint)
        csq = None
        if meta.get("has_csq"):
            csq = np.array((folder / "csq.txt").read_text().split("\n")[:-1], dtype=object)
        if any(len(a) != meta["rows"] for a in arrays.values()) or \
                (csq is not None and len(csq) != meta["rows"]):
            raise ResourceError(f"{folder}: arrays of unequal length — rebuild the ClinVar table")
        return cls(**arrays, release=meta["release"], build=meta["build"], csq=csq,
                   csq_fields=meta.get("csq_fields"))


@dataclass
class Pm5Index:
    """ClinVar Pathogenic/Likely pathogenic missense variants by codon, n rows sorted by
    (gene, protein_pos, transcript).

    gene, transcript: str ('U'); protein_pos int32; aa_ref, aa_alt: one-letter amino acids
    ('U1'); allele_id int64; stars int8.
    """

    gene: np.ndarray
    transcript: np.ndarray
    protein_pos: np.ndarray
    aa_ref: np.ndarray
    aa_alt: np.ndarray
    allele_id: np.ndarray
    stars: np.ndarray

    def __len__(self) -> int:
        return len(self.gene)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Pm5Index:
        frame = frame.drop_duplicates(["gene", "transcript", "protein_pos", "aa_alt", "allele_id"])
        frame = frame.sort_values(["gene", "protein_pos", "transcript", "allele_id"], kind="stable")
        return cls(
            gene=frame["gene"].to_numpy(dtype=str), transcript=frame["transcript"].to_numpy(dtype=str),
            protein_pos=frame["protein_pos"].to_numpy(dtype=np.int32),
            aa_ref=frame["aa_ref"].to_numpy(dtype="U1"), aa_alt=frame["aa_alt"].to_numpy(dtype="U1"),
            allele_id=frame["allele_id"].to_numpy(dtype=np.int64),
            stars=frame["stars"].to_numpy(dtype=np.int8),
        )

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            np.save(folder / f"pm5_{f.name}.npy", getattr(self, f.name), allow_pickle=False)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Pm5Index:
        folder = Path(folder)
        try:
            return cls(**{f.name: np.load(folder / f"pm5_{f.name}.npy", allow_pickle=False)
                          for f in fields(cls)})
        except (OSError, ValueError) as exc:
            raise ResourceError(f"{folder}: not a readable PM5 index ({exc}) — rebuild it") from exc


# ------------------------------------------------------------- tab-delimited route


def _read_tab(path: Path, usecols: list[str]) -> pd.DataFrame:
    columns, skip = tab_header(path, usecols, keep_hash=False, what="ClinVar file")
    try:
        return pd.read_csv(path, sep="\t", header=None, names=columns, skiprows=skip,
                           usecols=usecols, dtype=str, keep_default_na=False,
                           quoting=csv.QUOTE_NONE, compression="infer")
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot parse ({exc})", path=str(path),
                         hint="the file may be truncated; download it again") from exc


def read_submission_summary(path: str | Path) -> pd.DataFrame:
    """Submissions from ClinVar's ``submission_summary.txt(.gz)``.

    Returns one row per submission: variation_id int64, significance (lower-case str),
    evaluated datetime64 (NaT when not given), review_status (lower-case str), submitter
    (lower-case str).
    """
    path = Path(path)
    raw = _read_tab(path, ["VariationID", "ClinicalSignificance", "DateLastEvaluated",
                           "ReviewStatus", "Submitter"])
    ids = pd.to_numeric(raw["VariationID"], errors="coerce")
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError(f"VariationID {raw['VariationID'].iloc[row]!r} is not a number",
                         path=str(path), hint="the file may be corrupt; download it again")
    def lower(u: pd.Series) -> pd.Series:
        return u.str.strip().str.lower()

    return pd.DataFrame({
        "variation_id": ids.to_numpy(dtype=np.int64),
        "significance": _per_unique(raw["ClinicalSignificance"], lower),
        "evaluated": _per_unique(raw["DateLastEvaluated"], lambda u: pd.to_datetime(
            u, format="%b %d, %Y", errors="coerce")),
        "review_status": _per_unique(raw["ReviewStatus"], lower),
        "submitter": _per_unique(raw["Submitter"], lower),
    })


def resummarise(submissions: pd.DataFrame, *, blocked_submitters: Iterable[str] = (),
                acmg_date: date = ACMG_DATE, majority: float = MAJORITY,
                minority: float = MINORITY) -> pd.DataFrame:
    """Re-summarise submissions per VariationID (rulebook §3), over whole columns.

    submissions: as from :func:`read_submission_summary`. Submissions are binned P/B/U
    (others ignored) and blocked submitters (case-insensitive names) dropped. If any of a
    variant's submissions was evaluated on or after ``acmg_date`` only those are kept;
    practice guidelines and expert panels are always kept and decide outright (a practice
    guideline before an expert panel, then the latest). Otherwise, with both P and B, a side
    needs >= ``majority`` of the submissions while the other has <= ``minority``, else
    Conflicting; else Uncertain when more than ``majority`` are VUS; else any P -> Pathogenic;
    else any B -> Benign; else Uncertain. Stars over the kept P/B submissions: 4 practice
    guideline, 3 expert panel, 1 with assertion criteria, else 0.

    Returns a DataFrame indexed by variation_id (sorted) with clinsig int8, stars int8.
    """
    sub = submissions.assign(cls=submissions["significance"].map(_SIG_BINS))
    blocked = {s.strip().lower() for s in blocked_submitters}
    sub = sub[sub["cls"].notna() & ~sub["submitter"].isin(blocked)]
    strong_rank = sub["review_status"].map({PRACTICE_GUIDELINE: 2, EXPERT_PANEL: 1}).fillna(0)
    recent = (sub["evaluated"] >= pd.Timestamp(acmg_date)).to_numpy()
    any_recent = pd.Series(recent, index=sub.index).groupby(sub["variation_id"]).transform("any")
    keep = ~any_recent.to_numpy() | recent | (strong_rank > 0).to_numpy()
    sub = sub[keep].assign(strong=strong_rank[keep].astype(np.int8))
    cls = sub["cls"].astype(np.int8)

    by = sub["variation_id"]
    counts = pd.DataFrame({
        "p": cls == ClinSig.PATHOGENIC, "b": cls == ClinSig.BENIGN, "u": cls == ClinSig.UNCERTAIN,
    }).groupby(by).sum()
    total = counts.sum(axis=1)
    p, b, u = counts["p"], counts["b"], counts["u"]
    both = (p > 0) & (b > 0)
    clear = (np.maximum(p, b) >= majority * total) & (np.minimum(p, b) <= minority * total)
    decision = np.select(
        [both & clear & (p > b), both & clear, both, u > majority * total, p > 0, b > 0],
        [ClinSig.PATHOGENIC, ClinSig.BENIGN, ClinSig.CONFLICTING, ClinSig.UNCERTAIN,
         ClinSig.PATHOGENIC, ClinSig.BENIGN],
        default=ClinSig.UNCERTAIN,
    )
    result = pd.DataFrame({"clinsig": decision.astype(np.int8)}, index=counts.index)

    strong = sub[sub["strong"] > 0].sort_values(["strong", "evaluated"], na_position="first")
    decided = strong.groupby("variation_id")["cls"].last().astype(np.int8)
    result.loc[decided.index, "clinsig"] = decided.to_numpy()

    pb = sub[(cls == ClinSig.PATHOGENIC) | (cls == ClinSig.BENIGN)]
    star = np.select([pb["strong"] == 2, pb["strong"] == 1,
                      pb["review_status"].str.startswith("criteria provided")], [4, 3, 1], 0)
    stars = pd.Series(star, index=pb.index).groupby(pb["variation_id"]).max()
    result["stars"] = stars.reindex(result.index, fill_value=0).astype(np.int8)
    result.index.name = "variation_id"
    return result


def read_variant_summary(path: str | Path, build: str, *,
                         max_allele_length: int = MAX_ALLELE_LENGTH) -> pd.DataFrame:
    """Alleles of one build from ClinVar's ``variant_summary.txt(.gz)``.

    Rows without VCF-style alleles, on other contigs, with non-ACGTN alleles or alleles
    longer than ``max_allele_length`` are left out. Returns variation_id int64, allele_id
    int64, chrom int8, pos int64, ref, alt, gene (first symbol or ''), name (HGVS) — one row
    per VariationID.
    """
    path = Path(path)
    raw = _read_tab(path, ["AlleleID", "VariationID", "Assembly", "Chromosome", "PositionVCF",
                           "ReferenceAlleleVCF", "AlternateAlleleVCF", "GeneSymbol", "Name"])
    raw = raw[raw["Assembly"] == build]
    codes = {c: chrom_code(c) for c in raw["Chromosome"].unique()}
    chrom = raw["Chromosome"].map(codes).astype(np.int8)
    pos = pd.to_numeric(raw["PositionVCF"], errors="coerce")
    ref, alt = raw["ReferenceAlleleVCF"], raw["AlternateAlleleVCF"]
    ok = ((chrom > 0) & (pos > 0) & ref.str.match(_BASES) & alt.str.match(_BASES) & (ref != alt)
          & (ref.str.len() <= max_allele_length) & (alt.str.len() <= max_allele_length))
    gene = raw["GeneSymbol"].str.split(";").str[0].replace({"-": ""})
    out = pd.DataFrame({
        "variation_id": pd.to_numeric(raw["VariationID"], errors="coerce"),
        "allele_id": pd.to_numeric(raw["AlleleID"], errors="coerce"),
        "chrom": chrom, "pos": pos, "ref": ref, "alt": alt, "gene": gene, "name": raw["Name"],
    })[ok.to_numpy()]
    out = out.dropna(subset=["variation_id", "allele_id"])
    out = out.astype({"variation_id": np.int64, "allele_id": np.int64, "pos": np.int64})
    return out.drop_duplicates("variation_id").reset_index(drop=True)


def table_from_submissions(decisions: pd.DataFrame, variants: pd.DataFrame, *, release: str,
                           build: str) -> ClinVarTable:
    """Place re-summarised decisions (:func:`resummarise`) on the genome through
    ``variants`` (:func:`read_variant_summary`); VariationIDs without an allele drop out."""
    joined = variants.join(decisions, on="variation_id", how="inner")
    return ClinVarTable.build_from(
        joined["chrom"], joined["pos"], joined["ref"].to_numpy(dtype=str),
        joined["alt"].to_numpy(dtype=str), joined["clinsig"], joined["stars"],
        joined["allele_id"], joined["gene"].to_numpy(dtype=str), release=release, build=build)


def pm5_from_variant_summary(variants: pd.DataFrame, decisions: pd.DataFrame, *,
                             min_stars: int = 0) -> Pm5Index:
    """PM5 index from variant_summary HGVS names (``NM_…(GENE):c.… (p.Arg248Gln)``) of
    re-summarised P/LP missense variants with at least ``min_stars``."""
    joined = variants.join(decisions, on="variation_id", how="inner")
    joined = joined[(joined["clinsig"] == ClinSig.PATHOGENIC) & (joined["stars"] >= min_stars)]
    parts = joined["name"].str.extract(_NAME_MISSENSE)
    parts["aa_ref"] = parts["aa_ref"].map(_AA3)
    parts["aa_alt"] = parts["aa_alt"].map(_AA3)
    missense = parts["aa_ref"].notna() & parts["aa_alt"].notna() & \
        (parts["aa_ref"] != parts["aa_alt"])
    parts = parts[missense].assign(allele_id=joined["allele_id"], stars=joined["stars"])
    return Pm5Index.from_frame(parts.astype({"protein_pos": np.int64}))


def load_clinvar_tables(submission_summary: str | Path, variant_summary: str | Path, build: str,
                        release: str, *, blocked_submitters: Iterable[str] = (),
                        acmg_date: date = ACMG_DATE, majority: float = MAJORITY,
                        minority: float = MINORITY, max_allele_length: int = MAX_ALLELE_LENGTH,
                        pm5_min_stars: int = 0) -> tuple[ClinVarTable, Pm5Index]:
    """The tab-delimited route end to end: re-summarised table and PM5 index of one build."""
    decisions = resummarise(read_submission_summary(submission_summary),
                            blocked_submitters=blocked_submitters, acmg_date=acmg_date,
                            majority=majority, minority=minority)
    variants = read_variant_summary(variant_summary, build, max_allele_length=max_allele_length)
    return (table_from_submissions(decisions, variants, release=release, build=build),
            pm5_from_variant_summary(variants, decisions, min_stars=pm5_min_stars))


# ---------------------------------------------------------------------- VCF route

# Field names of the ClinVar VCF, then of processed ClinVar VCFs that rename them.
_INFO_ALIASES = {
    "clnsig": ("CLNSIG", "CLINICAL_SIGNIFICANCE"),
    "revstat": ("CLNREVSTAT", "REVIEW_STATUS"),
    "allele_id": ("ALLELEID", "ALLELE_ID"),
    "gene": ("GENEINFO", "SYMBOL"),
}


@dataclass
class _VcfHeader:
    lines: int
    info: set[str]
    file_date: str | None
    build: str | None
    csq_fields: list[str] | None


def _vcf_header(path: Path) -> _VcfHeader:
    info, contigs, lines = set(), {}, 0
    file_date = reference = csq_fields = None
    with open_text(path) as handle:
        for line in handle:
            lines += 1
            if line.startswith("#CHROM"):
                break
            if not line.startswith("##"):
                raise InputError("header ends without a #CHROM line", path=str(path), line=lines)
            if line.startswith("##fileDate="):
                file_date = line.split("=", 1)[1].strip()
            elif line.startswith("##reference="):
                reference = line.split("=", 1)[1].strip()
            elif line.startswith("##INFO=<ID="):
                field = line[11:].split(",", 1)[0]
                info.add(field)
                if field == "CSQ" and "Format: " in line:
                    csq_fields = line.split("Format: ", 1)[1].split('"')[0].strip().split("|")
            elif line.startswith("##contig=<ID="):
                match = re.match(r"##contig=<ID=([^,>]+),.*length=(\d+)", line)
                if match:
                    contigs[match.group(1)] = int(match.group(2))
        else:
            raise InputError("no #CHROM header line", path=str(path), hint="is this a VCF?")
    build = build_from_contigs(contigs)
    if build is None and reference:
        ref = reference.lower()
        build = ("GRCh38" if ("grch38" in ref or "hg38" in ref) else
                 "GRCh37" if ("grch37" in ref or "hg19" in ref or "b37" in ref) else None)
    return _VcfHeader(lines, info, _iso_date(file_date), build, csq_fields)


def _iso_date(text: str | None) -> str | None:
    if not text:
        return None
    digits = text.replace("-", "")
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return text


def _info_field(info: pd.Series, name: str) -> pd.Series:
    return info.str.extract(rf"(?:^|;){name}=([^;]*)", expand=False)


def _per_unique(values: pd.Series, convert) -> np.ndarray:
    """Apply a Series -> Series conversion to the distinct values only (a few dozen review
    statuses among millions of records) and spread the result back. Returns (n,) array."""
    codes, uniques = pd.factorize(values.fillna(""))
    converted = convert(pd.Series(uniques, dtype=str)).to_numpy()
    return converted[codes] if len(codes) else converted[:0]


def _normalise_terms(values: pd.Series) -> pd.Series:
    """ClinVar VCF vocabulary to words: ``criteria_provided,_single_submitter`` (or the
    ``..``-for-comma form of processed files) -> ``criteria provided, single submitter``."""
    text = values.str.lower().str.replace("..", ",", regex=False)
    text = text.str.replace("_", " ", regex=False)
    return text.str.replace(r"\s*,\s*", ", ", regex=True).str.strip()


def _sig_of_terms(values: pd.Series) -> pd.Series:
    primary = _normalise_terms(values).str.split(r"[|,]", regex=True).str[0].str.strip()
    return primary.map(_VCF_SIG).fillna(ClinSig.OTHER).astype(np.int8)


def clinsig_codes(clnsig: pd.Series) -> np.ndarray:
    """(n,) int8 :class:`ClinSig` of ClinVar VCF CLNSIG values; the primary term (before
    ``|`` or ``,``) decides, e.g. ``Pathogenic|risk_factor`` -> PATHOGENIC."""
    return _per_unique(clnsig, _sig_of_terms).astype(np.int8)


def review_stars(revstat: pd.Series) -> np.ndarray:
    """(n,) int8 stars of CLNREVSTAT values by ClinVar's own mapping (0 if unlisted)."""
    stars = _per_unique(revstat, lambda u: _normalise_terms(u).map(_VCF_STARS).fillna(0))
    return stars.astype(np.int8)


def _pick_fields(header: _VcfHeader, path: Path) -> dict[str, str]:
    chosen = {}
    for role, names in _INFO_ALIASES.items():
        present = [n for n in names if n in header.info]
        if present:
            chosen[role] = present[0]
    if "clnsig" not in chosen:
        raise InputError("no CLNSIG INFO field declared in the header", path=str(path),
                         hint="give a ClinVar VCF (clinvar.vcf.gz from NCBI)")
    return chosen


def read_clinvar_vcf(path: str | Path, build: str | None = None, *, release: str | None = None,
                     max_allele_length: int = MAX_ALLELE_LENGTH,
                     chunksize: int = 250_000) -> ClinVarTable:
    """A ClinVar VCF (bgzipped or plain; contigs with or without ``chr``) as a ClinVarTable.

    Multi-allelic records are split (INFO values are shared by their alleles). build: checked
    against the header's contig lengths or ``##reference`` when given, else taken from them.
    release: label when the header has no ``##fileDate`` (otherwise fileDate, ISO form).
    Records with symbolic, non-ACGTN or over-long alleles, or on other contigs, are left out.
    """
    path = Path(path)
    header = _vcf_header(path)
    if build and header.build and build != header.build:
        raise InputError(f"the header says {header.build}, but {build} was asked for",
                         path=str(path), hint="use the ClinVar VCF of the configured build")
    names = _pick_fields(header, path)
    want_csq = "CSQ" in header.info
    parts = []
    reader = pd.read_csv(path, sep="\t", header=None, skiprows=header.lines, usecols=[0, 1, 3, 4, 7],
                         names=["chrom", "pos", "ref", "alt", "info"], dtype=str,
                         keep_default_na=False, quoting=csv.QUOTE_NONE, compression="infer",
                         chunksize=chunksize)
    try:
        for chunk in reader:
            parts.append(_vcf_chunk(chunk, names, want_csq, max_allele_length))
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot parse the records ({exc})", path=str(path),
                         hint="the file may be truncated; download it again") from exc
    rows = pd.concat(parts, ignore_index=True) if parts else _vcf_chunk(
        pd.DataFrame(columns=["chrom", "pos", "ref", "alt", "info"], dtype=str), names,
        want_csq, max_allele_length)
    return ClinVarTable.build_from(
        rows["chrom"], rows["pos"], rows["ref"].to_numpy(dtype=str), rows["alt"].to_numpy(dtype=str),
        rows["clinsig"], rows["stars"], rows["allele_id"], rows["gene"].to_numpy(dtype=str),
        release=header.file_date or release or "unknown", build=build or header.build,
        csq=rows["csq"].to_numpy(dtype=object) if want_csq else None,
        csq_fields=header.csq_fields if want_csq else None)


def _vcf_chunk(chunk: pd.DataFrame, names: dict[str, str], want_csq: bool,
               max_allele_length: int) -> pd.DataFrame:
    info = chunk["info"]
    gene_raw = _info_field(info, names["gene"]) if "gene" in names else pd.Series("", index=info.index)
    out = pd.DataFrame({
        "chrom": chunk["chrom"],
        "pos": pd.to_numeric(chunk["pos"], errors="coerce"),
        "ref": chunk["ref"].str.upper(),
        "alt": chunk["alt"].str.upper().str.split(","),
        "clinsig": clinsig_codes(_info_field(info, names["clnsig"])),
        "stars": (review_stars(_info_field(info, names["revstat"])) if "revstat" in names
                  else np.zeros(len(chunk), dtype=np.int8)),
        "allele_id": pd.to_numeric(_info_field(info, names["allele_id"]), errors="coerce")
        if "allele_id" in names else np.nan,
        "gene": _per_unique(gene_raw, lambda u: u.str.extract(r"^([^:|]*)", expand=False)),
    })
    if want_csq:
        out["csq"] = _info_field(info, "CSQ").fillna("")
    out = out.explode("alt")
    codes = {c: chrom_code(c) for c in out["chrom"].unique()}
    out["chrom"] = out["chrom"].map(codes).astype(np.int8)
    ok = ((out["chrom"] > 0) & (out["pos"] > 0) & out["ref"].str.match(_BASES)
          & out["alt"].str.match(_BASES).fillna(False) & (out["ref"] != out["alt"])
          & (out["ref"].str.len() <= max_allele_length) & (out["alt"].str.len() <= max_allele_length))
    out = out[ok.astype(bool)]
    return out.assign(allele_id=out["allele_id"].fillna(-1).astype(np.int64),
                      pos=out["pos"].astype(np.int64))


def pm5_from_csq(table: ClinVarTable, *, min_stars: int = 0) -> Pm5Index:
    """PM5 index from the VEP ``CSQ`` of a ClinVar VCF: P/LP rows with at least ``min_stars``,
    their missense consequences for the row's own allele (gene SYMBOL, transcript Feature,
    Protein_position, Amino_acids)."""
    need = ["Allele", "Consequence", "SYMBOL", "Feature", "Protein_position", "Amino_acids"]
    if table.csq is None or not table.csq_fields:
        raise InputError("this ClinVar table has no CSQ annotation",
                         hint="annotate the ClinVar VCF with VEP, or use the tab-delimited route")
    missing = [f for f in need if f not in table.csq_fields]
    if missing:
        raise InputError(f"CSQ lacks field(s) {', '.join(missing)}",
                         hint="annotate the ClinVar VCF with VEP including protein fields")
    rows = np.flatnonzero((table.clinsig == ClinSig.PATHOGENIC) & (table.stars >= min_stars)
                          & (table.csq != ""))
    ref = pd.Series(table.ref[rows]).str.decode("ascii")
    alt = pd.Series(table.alt[rows]).str.decode("ascii")
    shared = (ref.str.len() != alt.str.len()) & (ref.str[:1] == alt.str[:1])
    vep_allele = alt.where(~shared, alt.str[1:].replace("", "-"))
    entries = pd.DataFrame({"row": rows, "allele": vep_allele,
                            "csq": pd.Series(table.csq[rows], dtype=str).str.split(",")})
    entries = entries.explode("csq", ignore_index=True)
    columns = ["gene", "transcript", "protein_pos", "aa_ref", "aa_alt", "allele_id", "stars"]
    if entries.empty:
        return Pm5Index.from_frame(pd.DataFrame({c: [] for c in columns}))
    split = entries["csq"].str.split("|", expand=True, regex=False)
    split = split.reindex(columns=range(len(table.csq_fields)))
    split.columns = table.csq_fields
    pos = pd.to_numeric(split["Protein_position"], errors="coerce")
    aa = split["Amino_acids"].str.split("/", n=1, expand=True).reindex(columns=[0, 1])
    keep = (split["Consequence"].str.contains(r"(?:^|&)missense_variant(?:&|$)", regex=True)
            & (split["Allele"] == entries["allele"]) & pos.notna()
            & aa[0].str.len().eq(1) & aa[1].str.len().eq(1))
    row = entries["row"][keep].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({
        "gene": split["SYMBOL"][keep].to_numpy(dtype=str),
        "transcript": split["Feature"][keep].to_numpy(dtype=str),
        "protein_pos": pos[keep].to_numpy(dtype=np.int64),
        "aa_ref": aa[0][keep].to_numpy(dtype=str), "aa_alt": aa[1][keep].to_numpy(dtype=str),
        "allele_id": table.allele_id[row], "stars": table.stars[row],
    })
    return Pm5Index.from_frame(frame)


# ----------------------------------------------------------------------- download

NCBI_CLINVAR = "https://ftp.ncbi.nlm.nih.gov/pub/clinvar/"


def clinvar_urls(build: str, base_url: str = NCBI_CLINVAR) -> dict[str, str]:
    """Default URLs of NCBI's ClinVar layout for ``build`` (snapshot file name -> URL)."""
    base = base_url.rstrip("/") + "/"
    return {
        "clinvar.vcf.gz": f"{base}vcf_{build}/clinvar.vcf.gz",
        "clinvar.vcf.gz.tbi": f"{base}vcf_{build}/clinvar.vcf.gz.tbi",
        "submission_summary.txt.gz": f"{base}tab_delimited/submission_summary.txt.gz",
        "variant_summary.txt.gz": f"{base}tab_delimited/variant_summary.txt.gz",
    }


def download_clinvar(build: str, root: str | Path, *, base_url: str = NCBI_CLINVAR,
                     vcf_url: str | None = None, index_url: str | None = None,
                     submission_summary_url: str | None = None,
                     variant_summary_url: str | None = None, with_tables: bool = False,
                     timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                     session: requests.Session | None = None) -> Path:
    """Download a ClinVar release into the snapshot ``<root>/clinvar_<build>/<fileDate>/``.

    Fetches the VCF and its .tbi, and with ``with_tables`` submission_summary and
    variant_summary too. URLs default to NCBI's layout under ``base_url``; any may be a local
    path. The release label is the VCF's fileDate. If that release is already stored intact,
    it is returned untouched. Any failure raises ResourceError and leaves every existing
    snapshot as it was.
    """
    if build not in ("GRCh37", "GRCh38"):
        raise InputError(f"unknown genome build {build!r}", hint="use GRCh37 or GRCh38")
    defaults = clinvar_urls(build, base_url)
    urls = {"clinvar.vcf.gz": vcf_url or defaults["clinvar.vcf.gz"]}
    urls["clinvar.vcf.gz.tbi"] = index_url or urls["clinvar.vcf.gz"] + ".tbi"
    if with_tables:
        urls["submission_summary.txt.gz"] = (submission_summary_url
                                             or defaults["submission_summary.txt.gz"])
        urls["variant_summary.txt.gz"] = (variant_summary_url
                                          or defaults["variant_summary.txt.gz"])
    source = f"clinvar_{build}"
    source_dir = Path(root) / source
    source_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=source_dir, prefix=".download-"))
    try:
        files = {name: fetch(url, staging / name, timeout=timeout, retries=retries,
                             backoff=backoff, session=session) for name, url in urls.items()}
        try:
            header = _vcf_header(files["clinvar.vcf.gz"])
        except (InputError, OSError, EOFError) as exc:
            raise ResourceError(f"{urls['clinvar.vcf.gz']}: the download is not a readable VCF "
                                f"({exc}) — check the URL") from exc
        if header.build and header.build != build:
            raise ResourceError(f"{urls['clinvar.vcf.gz']} is {header.build}, not {build} — "
                                "check the ClinVar VCF URL for this build")
        if not header.file_date:
            raise ResourceError(f"{urls['clinvar.vcf.gz']}: no ##fileDate to label the release "
                                "— is this ClinVar's VCF?")
        existing = source_dir / header.file_date
        if existing.exists():
            try:
                verify_snapshot(existing)
                return existing
            except ResourceError:
                pass  # a damaged copy of this release: replace it below
        return create_snapshot(root, source, header.file_date, files, list(urls.values()),
                               move=True, replace=existing.exists())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            source_dir.rmdir()  # only when empty: a failed first download leaves no trace
