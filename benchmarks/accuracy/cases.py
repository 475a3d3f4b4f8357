"""Published patients from a GA4GH phenopacket v2 JSON-lines file.

Any file of that form is accepted (plain or gzipped, one compact JSON per line). Each packet
becomes one case row; each causal variant one variant row. Packets whose causal variants are
not all SNVs/indels with a ``vcfRecord`` (chromosome-scale SVs) are kept but flagged out of
scope, so they can be counted separately.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heron.errors import InputError
from heron.genome import chrom_code, chrom_label

ZYGOSITY = {"GENO:0000135": "het", "GENO:0000136": "hom", "GENO:0000134": "hemi"}
GRCH38_NAMES = {"hg38", "grch38", "grch38.p13", "grch38.p14"}

# First PubMed id assigned in each year (approximate, to a few months). PMIDs grow with the
# date a record enters PubMed, which from 1996 on tracks the publication year; older records
# were loaded in bulk, so any PMID below the 1996 anchor is dated 1995 ("1995 or earlier").
PMID_YEAR_ANCHORS = (
    (1996, 8_600_000), (1997, 9_000_000), (1998, 9_400_000), (1999, 9_900_000),
    (2000, 10_600_000), (2001, 11_140_000), (2002, 11_780_000), (2003, 12_500_000),
    (2004, 14_700_000), (2005, 15_600_000), (2006, 16_390_000), (2007, 17_200_000),
    (2008, 18_160_000), (2009, 19_120_000), (2010, 20_040_000), (2011, 21_180_000),
    (2012, 22_210_000), (2013, 23_280_000), (2014, 24_390_000), (2015, 25_540_000),
    (2016, 26_720_000), (2017, 28_040_000), (2018, 29_300_000), (2019, 30_600_000),
    (2020, 31_900_000), (2021, 33_380_000), (2022, 34_980_000), (2023, 36_600_000),
    (2024, 38_150_000), (2025, 39_750_000), (2026, 41_400_000),
)

_PMID_IN_ID = re.compile(r"PMID[_:](\d+)")


@dataclass
class CaseSet:
    """Cases and their causal variants.

    cases: one row per packet, index 0..n-1. Columns: case_id (str), publication (str, e.g.
    ``PMID:15266616``), pub_year (int), sex (``MALE``/``FEMALE``/``UNKNOWN_SEX``), disease_id,
    disease_label (str), hpo_observed, hpo_excluded (tuple of str), n_variants (int),
    has_vcf (bool: every causal variant is a GRCh38 SNV/indel with a vcfRecord),
    scope_reason (str, empty when the variants are usable), source_path (str).
    variants: one row per causal variant. Columns: case (int, row of ``cases``), chrom
    (``chr``-prefixed str or empty), pos (int64, 0 when absent), ref, alt, symbol, hgnc_id,
    transcript (NM_ accession or empty), hgvsc, hgvsp, hgvsn (str, empty when absent),
    zygosity (``het``/``hom``/``hemi``), label (str, free text of an SV).
    """

    cases: pd.DataFrame
    variants: pd.DataFrame
    path: str


def pmid_year(pmids: np.ndarray, anchors=PMID_YEAR_ANCHORS) -> np.ndarray:
    """Estimated publication year of PubMed ids.

    pmids: (n,) int64 (0 = unknown). Returns (n,) int64; unknown ids get 0.
    """
    years = np.array([y for y, _ in anchors], dtype=np.int64)
    firsts = np.array([p for _, p in anchors], dtype=np.int64)
    idx = np.searchsorted(firsts, pmids, side="right") - 1
    out = np.where(idx >= 0, years[np.clip(idx, 0, None)], years[0] - 1)
    return np.where(pmids > 0, out, 0)


def _open_text(path: Path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path, "rt")


def _publication(packet: dict) -> str:
    for ref in packet.get("metaData", {}).get("externalReferences", []) or []:
        ident = str(ref.get("id", ""))
        if ident.upper().startswith("PMID"):
            return "PMID:" + ident.split(":", 1)[-1].strip()
    for text in (packet.get("id", ""), packet.get("_source_path", "")):
        match = _PMID_IN_ID.search(str(text))
        if match:
            return f"PMID:{match.group(1)}"
    return f"packet:{packet.get('id', '')}"


def _variant_row(case: int, descriptor: dict) -> dict:
    expr = {e.get("syntax"): str(e.get("value", "")) for e in descriptor.get("expressions", []) or []}
    vcf = descriptor.get("vcfRecord") or {}
    gene = descriptor.get("geneContext") or {}
    hgvsc = expr.get("hgvs.c", "")
    chrom = ""
    if vcf:
        code = chrom_code(str(vcf.get("chrom", "")))
        chrom = chrom_label(code) if code else str(vcf.get("chrom", ""))
    zyg_id = (descriptor.get("allelicState") or {}).get("id", "")
    return {
        "case": case,
        "chrom": chrom,
        "pos": int(vcf.get("pos", 0) or 0),
        "ref": str(vcf.get("ref", "")).upper(),
        "alt": str(vcf.get("alt", "")).upper(),
        "assembly": str(vcf.get("genomeAssembly", "")),
        "symbol": str(gene.get("symbol", "")),
        "hgnc_id": str(gene.get("valueId", "")),
        "transcript": hgvsc.split(":", 1)[0] if ":" in hgvsc else "",
        "hgvsc": hgvsc,
        "hgvsp": expr.get("hgvs.p", ""),
        "hgvsn": expr.get("hgvs.n", "") or (hgvsc if ":n." in hgvsc or ":m." in hgvsc else ""),
        "zygosity": ZYGOSITY.get(zyg_id, ""),
        "label": str(descriptor.get("label", "")),
    }


def _scope_reason(rows: list[dict], max_indel_length: int) -> str:
    if not rows:
        return "no causal variant in the packet"
    if any(not r["pos"] or not r["ref"] or not r["alt"] for r in rows):
        return "structural variant without a VCF record"
    if any(r["assembly"].lower() not in GRCH38_NAMES for r in rows):
        return "variant not on GRCh38"
    if any(not re.fullmatch(r"[ACGTN]+", r["ref"] + r["alt"]) for r in rows):
        return "symbolic or non-nucleotide allele"
    if any(abs(len(r["ref"]) - len(r["alt"])) > max_indel_length for r in rows):
        return f"structural variant (indel longer than {max_indel_length} bp)"
    if any(r["zygosity"] == "" for r in rows):
        return "unknown zygosity"
    return ""


def _collapse_duplicates(rows: list[dict]) -> list[dict]:
    """The same allele listed twice as heterozygous is one homozygous genotype."""
    seen: dict[tuple, dict] = {}
    for row in rows:
        key = (row["chrom"], row["pos"], row["ref"], row["alt"])
        if row["pos"] and key in seen:
            seen[key]["zygosity"] = "hom"
            continue
        seen[key if row["pos"] else (id(row),)] = row
    return list(seen.values())


def load_cases(path: str | Path, pub_years: dict[str, int] | None = None,
               max_indel_length: int = 50) -> CaseSet:
    """Read a phenopacket JSON-lines file (gzipped or plain).

    max_indel_length: longest REF/ALT length difference still counted as an indel; longer
    variants are structural and put the case out of scope (50 bp, the usual SV threshold).

    pub_years: optional publication -> year table (e.g. ``{"PMID:123": 2011}``) overriding the
    year estimated from the PubMed id.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("case file not found", path=str(path),
                         hint="give a phenopacket JSON-lines file (.jsonl or .jsonl.gz)")
    cases, variants = [], []
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                packet = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"not a JSON phenopacket ({err.msg})", path=str(path), line=line_no,
                                 hint="each line must be one complete phenopacket JSON object") from None
            if not isinstance(packet, dict) or "subject" not in packet:
                raise InputError("JSON object is not a phenopacket (no 'subject')", path=str(path),
                                 line=line_no, hint="each line must be one GA4GH phenopacket v2")
            case = len(cases)
            observed, excluded = [], []
            for feature in packet.get("phenotypicFeatures", []) or []:
                term = (feature.get("type") or {}).get("id", "")
                if term.startswith("HP:"):
                    (excluded if feature.get("excluded") else observed).append(term)
            disease = {}
            rows = []
            for interp in packet.get("interpretations", []) or []:
                diag = interp.get("diagnosis") or {}
                disease = disease or (diag.get("disease") or {})
                for gi in diag.get("genomicInterpretations", []) or []:
                    desc = (gi.get("variantInterpretation") or {}).get("variationDescriptor")
                    if desc:
                        rows.append(_variant_row(case, desc))
            if not disease and packet.get("diseases"):
                disease = packet["diseases"][0].get("term") or {}
            rows = _collapse_duplicates(rows)
            reason = _scope_reason(rows, max_indel_length)
            cases.append({
                "case_id": str(packet.get("id", f"case{case}")),
                "publication": _publication(packet),
                "sex": str((packet.get("subject") or {}).get("sex", "UNKNOWN_SEX")),
                "disease_id": str(disease.get("id", "")),
                "disease_label": str(disease.get("label", "")),
                "hpo_observed": tuple(dict.fromkeys(observed)),
                "hpo_excluded": tuple(dict.fromkeys(excluded)),
                "n_variants": len(rows),
                "has_vcf": reason == "",
                "scope_reason": reason,
                "source_path": str(packet.get("_source_path", "")),
            })
            variants.extend(rows)
    if not cases:
        raise InputError("no phenopacket in the file", path=str(path))
    case_df = pd.DataFrame(cases)
    pmids = case_df["publication"].str.extract(r"^PMID:(\d+)$", expand=False).fillna("0").astype(np.int64)
    case_df["pub_year"] = pmid_year(pmids.to_numpy())
    if pub_years:
        override = case_df["publication"].map(pub_years)
        case_df["pub_year"] = override.fillna(case_df["pub_year"]).astype(np.int64)
    var_df = pd.DataFrame(variants, columns=list(_variant_row(0, {}).keys()))
    var_df["pos"] = var_df["pos"].astype(np.int64)
    return CaseSet(cases=case_df, variants=var_df, path=str(path))


def read_pub_years(path: str | Path) -> dict[str, int]:
    """Publication -> year table from a two-column TSV (``PMID:123<TAB>2011``, ``#`` comments)."""
    table = pd.read_csv(path, sep="\t", header=None, comment="#", names=["publication", "year"],
                        dtype={"publication": str})
    bad = pd.to_numeric(table["year"], errors="coerce").isna()
    if bad.any():
        raise InputError(f"year {table['year'][bad].iloc[0]!r} is not a number", path=str(path),
                         line=int(np.flatnonzero(bad)[0]) + 1, hint="columns: publication, year")
    pubs = table["publication"].where(table["publication"].str.contains(":"), "PMID:" + table["publication"])
    return dict(zip(pubs, table["year"].astype(int)))
