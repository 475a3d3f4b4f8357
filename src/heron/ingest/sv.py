"""Structural-variant VCFs (Manta, GATK-SV, DRAGEN) → the same shard tables as small variants.

An SV record becomes one variant per ALT with the small-variant columns (heron.store) plus
``end`` int32 (last reference base the SV touches, 1-based) and ``svtype`` int8 (a code of
:data:`SV_TYPES`; 0 marks a small variant once both kinds share a shard). The ALT is kept
symbolic (``b"<DEL>"``, ``b"<DEL:ME:ALU>"``); a sequence-resolved record is stored as the
symbolic allele of its type, so a 900-base deletion does not widen every allele column of
the shard. Breakends (BND, and translocation records) are skipped and counted: they name no
interval a gene could be tested against.

Genes come only from the consequence annotation: an SV VCF must be annotated by VEP (CSQ,
or snpEff ANN) like the small-variant VCF. An SV without CSQ gets no row and so never
reaches a category; intersecting SV intervals with gene models instead would need the gene
coordinates (a GFF3 or the gene table of a VEP cache), which heron does not read yet.

SV keys share the variant-key layout of heron.keys (chromosome, position, allele code) with
an allele code in a range small variants never use (bit 27 set, bit 28 clear), hashed from
the ALT, END and SVLEN; SV rows therefore sort in genome order with the small variants and
can never take a small variant's key or its annotations.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import numpy as np

from heron.errors import InputError
from heron.genome import chrom_code
from heron.ingest.vcf import format_ints
from heron.keys import ALLELE_BITS, POS_BITS, allele_code
from heron.lazy import pandas as pd
from heron.store import CALL_FIELDS, Shard

log = logging.getLogger(__name__)

# 0 is "not a structural variant", so small-variant rows of a joined shard read as 0.
SV_TYPES = ("", "DEL", "DUP", "INV", "INS", "CNV", "CPX")
SVTYPE = {name: np.int8(i) for i, name in enumerate(SV_TYPES) if name}
_BREAKEND_TYPES = {"BND", "TRA", "CTX"}
# VEP writes the variant class, not the ALT, as the CSQ Allele of an SV
VEP_ALLELE = {"DEL": "deletion", "DUP": "duplication", "INV": "inversion",
               "INS": "insertion", "CNV": "copy_number_variation",
               "CPX": "complex_structural_alteration"}

DEFAULT_SV_AF_FIELD = "gnomad_v2.1_sv_AF"  # GATK-SV's gnomAD-SV annotation (AnnotateExternalAF)
SV_KEY_BIT = 1 << (ALLELE_BITS - 2)
_SV_CODE_MASK = SV_KEY_BIT - 1
_ALLELE_MASK = (1 << ALLELE_BITS) - 1


def sv_keys(chrom: np.ndarray, pos: np.ndarray, alt, end: np.ndarray,
            svlen: np.ndarray) -> np.ndarray:
    """(n,) int64 keys of SVs: chrom int codes, pos 1-based, alt bytes (symbolic), end and
    svlen int (svlen 0 when unknown). Distinct from every small-variant key (see module)."""
    chrom = np.asarray(chrom, dtype=np.uint64)
    pos = np.asarray(pos, dtype=np.uint64)
    if pos.size and int(pos.max()) >= (1 << POS_BITS):
        raise ValueError(f"position {int(pos.max())} does not fit a variant key")
    alt = np.asarray(alt, dtype="S")
    desc = np.char.add(np.char.add(alt, b":"), np.char.add(
        np.asarray(end).astype("S"), np.char.add(b":", np.asarray(svlen).astype("S"))))
    code = (allele_code(np.full(len(desc), b"SV"), desc) & np.uint64(_SV_CODE_MASK)) \
        | np.uint64(SV_KEY_BIT)
    key = (chrom << np.uint64(POS_BITS + ALLELE_BITS)) | (pos << np.uint64(ALLELE_BITS)) | code
    return key.astype(np.int64)


def is_sv_key(keys: np.ndarray) -> np.ndarray:
    """(n,) bool: keys made by :func:`sv_keys`."""
    code = np.asarray(keys, dtype=np.int64) & _ALLELE_MASK
    return (code >> (ALLELE_BITS - 2)) == 1  # bit 27 set, bit 28 (hashed small alleles) clear


def sv_type(alt: str, info_type: str | None = None, ref: str = "N") -> str | None:
    """The SV_TYPES name of one ALT: its symbolic type, else INFO/SVTYPE, else the allele
    lengths; ``<CN0>``/``<CN1>`` are losses and ``<CN3>``… gains (diploid copy number).
    None for alleles that are no variant (``<CN2>``, ``<*>``) or of unknown type."""
    m = re.fullmatch(r"<([^>]+)>", alt)
    if m:
        name = m.group(1)
        cn = re.fullmatch(r"CN(\d+)", name)
        if cn:
            copies = int(cn.group(1))
            return None if copies == 2 else ("DEL" if copies < 2 else "DUP")
        head = name.split(":")[0]
        if head in SVTYPE:
            return head
    if info_type:
        head = str(info_type).split(":")[0]
        if head in SVTYPE:
            return head
    if alt.isalpha() and len(alt) != len(ref):
        return "DEL" if len(ref) > len(alt) else "INS"
    return None


def _per_alt(value, alt_i: int):
    """An INFO value for one ALT of a Number=A field (tuples are indexed, scalars shared)."""
    if isinstance(value, str) and "," in value:
        value = tuple(value.split(","))
    if isinstance(value, tuple):
        value = value[alt_i - 1] if alt_i - 1 < len(value) else None
    return None if value in (None, ".") else value


def _sample_filter_fails(record, present: set[str], n: int) -> np.ndarray:
    """(n,) bool: calls whose per-sample FT filter is set and not PASS."""
    if "FT" not in present:
        return np.zeros(n, bool)
    ft = record.format("FT")
    if ft is None:
        return np.zeros(n, bool)
    text = np.asarray(ft).astype(str).reshape(n, -1)[:, 0]
    return (text != "PASS") & (text != ".") & (text != "")


def _header_fields(raw_header: str, kind: str) -> dict[str, tuple[str, str]]:
    """ID → (Number, Description) of the header's ``##<kind>=`` lines."""
    out = {}
    for line in raw_header.splitlines():
        if not line.startswith(f"##{kind}=<"):
            continue
        name = re.search(r"[<,]ID=([^,>]+)", line)
        number = re.search(r",Number=([^,>]+)", line)
        description = re.search(r'Description="(.*?)"', line)
        if name:
            out[name.group(1)] = (number.group(1) if number else ".",
                                  description.group(1) if description else "")
    return out


def read_sv_vcf(path: str | Path, region=None, *, build: str,
                samples: list[str] | None = None,
                info_float: list[str] = (DEFAULT_SV_AF_FIELD,),
                info_string: list[str] = ("CSQ",), min_length: int = 50,
                sample_filter: bool = True) -> Shard:
    """Read an SV VCF (or one region of it, ``heron.ingest.vcf.Region``) into a Shard.

    Variants: chrom int8, pos int32 (the VCF POS, the base before a deletion), ref (first
    base) and alt (symbolic) bytes, key int64 (:func:`sv_keys`), filter_pass bool, ac/an
    int32 (from the genotypes), alt_index/n_alts int16, vep_allele bytes, qual float32,
    end int32, svtype int8, ``info.<name>`` float32 (NaN) or bytes per requested INFO field
    present in the header. Calls (n_variants, n_samples): gt int8 (alt-allele count, a
    haploid alt counts 2, -1 missing), gq/dp/ad_ref/ad_alt -1 where the caller writes none
    (SV callers mostly lack AD and DP, and their read counts are not comparable with a
    small-variant caller's), phase/ps as for small variants.

    Records are skipped and counted (one warning) when they are breakends, of unknown type,
    on contigs heron does not keep, shorter than ``min_length`` bases (|SVLEN|, else the
    reference span; those are indels the small-variant caller reports) or duplicates of an
    earlier SV. ``sample_filter``: a call whose FORMAT/FT is set and not PASS is read as
    missing (missing calls never veto), as Manta, GATK-SV and DRAGEN mark unreliable calls.
    """
    from heron.ingest.vcf import check_build, check_samples, open_vcf

    vcf = open_vcf(path)
    skipped: Counter = Counter()
    try:
        check_build(path, vcf, build)
        names = list(vcf.samples)
        check_samples(path, names, samples)
        if samples is not None:
            vcf.set_samples(list(samples))
            names = list(vcf.samples)
        header = vcf.raw_header
        info_header = _header_fields(header, "INFO")
        present = set(_header_fields(header, "FORMAT"))
        floats = [f for f in info_float if f in info_header]
        strings = [f for f in info_string if f in info_header]
        rows = _Rows(floats, strings)
        records = vcf if region is None or region.contig == "*" else \
            vcf(_file_region(vcf, region))
        last = "the start of the file"
        try:
            for record in records:
                chrom = chrom_code(record.CHROM)
                if chrom == 0:
                    skipped["contig not kept"] += 1
                    continue
                if region is not None and region.start is not None and \
                        not region.start <= record.POS <= region.end:
                    continue  # starts in the neighbouring shard
                last = f"{record.CHROM}:{record.POS}"
                _add_sv_record(record, chrom, rows, len(names), present, info_header,
                               min_length, sample_filter, skipped)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"malformed SV record after {last} ({exc})", path=str(path),
                             hint="validate the file with `bcftools view`") from None
    finally:
        vcf.close()
    if samples is not None and names != list(samples):
        # cyvcf2 reads a subset in the file's order; the requested order is kept
        rows.columns = np.array([names.index(x) for x in samples])
        names = list(samples)
    shard = rows.to_shard(names, build, meta={
        "sources": [str(path)], "region": str(region) if region else "*",
        "info_descriptions": {f: info_header[f][1] for f in floats + strings}})
    shard, dupes = _drop_duplicate_keys(shard)
    if dupes:
        skipped["duplicate SV"] += dupes
    if skipped:
        log.warning("%s: skipped %d SV records (%s)", path, sum(skipped.values()),
                    ", ".join(f"{k}: {v}" for k, v in sorted(skipped.items())))
    shard.meta["sv_skipped"] = dict(skipped)
    return shard


def _file_region(vcf, region) -> str:
    """The region as the file spells its contig (chr1 or 1, chrM or MT)."""
    code = chrom_code(region.contig)
    for name in vcf.seqnames:
        if chrom_code(name) == code:
            return str(type(region)(name, region.start, region.end))
    return str(region)


class _Rows:
    """Per-variant lists and per-call rows collected record by record."""

    def __init__(self, floats: list[str], strings: list[str]):
        self.floats, self.strings = floats, strings
        self.var: dict[str, list] = {k: [] for k in (
            "chrom", "pos", "ref", "alt", "filter_pass", "ac", "an", "alt_index", "n_alts",
            "vep_allele", "qual", "end", "svtype", "svlen")}
        for name in floats + strings:
            self.var[f"info.{name}"] = []
        self.calls: dict[str, list] = {k: [] for k in CALL_FIELDS}
        self.columns: np.ndarray | None = None  # call columns in the requested sample order

    def to_shard(self, samples: list[str], build: str, meta: dict) -> Shard:
        v, s = self.var, len(samples)
        variants = {
            "chrom": np.array(v["chrom"], np.int8), "pos": np.array(v["pos"], np.int32),
            "ref": np.array(v["ref"], dtype="S") if v["ref"] else np.array([], "S1"),
            "alt": np.array(v["alt"], dtype="S") if v["alt"] else np.array([], "S1"),
            "filter_pass": np.array(v["filter_pass"], bool), "ac": np.array(v["ac"], np.int32),
            "an": np.array(v["an"], np.int32), "alt_index": np.array(v["alt_index"], np.int16),
            "n_alts": np.array(v["n_alts"], np.int16),
            "vep_allele": np.array(v["vep_allele"], dtype="S") if v["vep_allele"]
            else np.array([], "S1"),
            "qual": np.array(v["qual"], np.float32), "end": np.array(v["end"], np.int32),
            "svtype": np.array(v["svtype"], np.int8)}
        for name in self.floats:
            variants[f"info.{name}"] = np.array(v[f"info.{name}"], np.float32)
        for name in self.strings:
            values = [x.encode() for x in v[f"info.{name}"]]
            variants[f"info.{name}"] = np.array(values, dtype="S") if values \
                else np.array([], "S1")
        variants["key"] = sv_keys(variants["chrom"], variants["pos"], variants["alt"],
                                  variants["end"], np.array(v["svlen"], np.int64))
        calls = {k: np.array(rows, t).reshape(-1, s) if rows else np.zeros((0, s), t)
                 for (k, t), rows in zip(CALL_FIELDS.items(), self.calls.values())}
        if self.columns is not None:
            calls = {k: a[:, self.columns] for k, a in calls.items()}
        order = np.argsort(variants["key"], kind="stable")
        return Shard(list(samples), build, {k: a[order] for k, a in variants.items()},
                     {k: a[order] for k, a in calls.items()}, {}, meta)


def _add_sv_record(record, chrom: int, rows: _Rows, n: int, present: set[str],
                   info_header: dict, min_length: int, sample_filter: bool,
                   skipped: Counter) -> None:
    alts = record.ALT or []
    info_type = record.INFO.get("SVTYPE")
    if str(info_type).split(":")[0] in _BREAKEND_TYPES or \
            any("[" in a or "]" in a or a in ("<BND>", "<TRA>", "<CTX>") for a in alts):
        skipped["breakend"] += 1
        return
    gt = record.genotype.array() if n else np.zeros((0, 3), np.int16)
    alleles = gt[:, :-1]
    phased = gt[:, -1].astype(bool)
    haploid = alleles[:, 1] == -2 if alleles.shape[1] > 1 else np.ones(n, bool)
    no_call = ~(alleles >= 0).any(axis=1)
    if sample_filter:
        no_call |= _sample_filter_fails(record, present, n)
    called = (alleles >= 0) & ~no_call[:, None]
    gq, dp = format_ints(record, "GQ", present, n), format_ints(record, "DP", present, n)
    ad, ps = format_ints(record, "AD", present, n), format_ints(record, "PS", present, n)
    filt = record.FILTER
    filter_pass = filt is None or filt in ("PASS", ".")
    svlen_all = record.INFO.get("SVLEN")
    v = rows.var
    for alt_i, alt in enumerate(alts, start=1):
        kind = sv_type(alt, info_type, record.REF)
        if kind is None:
            skipped["no SV type"] += 1
            continue
        svlen = _per_alt(svlen_all, alt_i)
        svlen = abs(int(float(svlen))) if svlen is not None else 0
        end = int(record.end)  # htslib: INFO/END, else the reference span
        if kind == "DEL" and end <= record.POS and svlen:
            end = record.POS + svlen
        length = svlen or (end - record.POS)
        if kind in ("DEL", "DUP", "INS", "CNV") and 0 < length < min_length:
            skipped[f"shorter than {min_length}"] += 1
            continue
        symbolic = alt if alt.startswith("<") else f"<{kind}>"
        is_alt = (alleles == alt_i) & ~no_call[:, None]
        count = is_alt.sum(axis=1).astype(np.int8)
        count[haploid & (count == 1)] = 2
        partial = (alleles == -1).any(axis=1) & (count == 0)
        count[no_call | partial] = -1
        het = (count == 1) & phased & ~haploid
        c = rows.calls
        c["gt"].append(count)
        c["gq"].append(np.minimum(gq[:, 0], np.iinfo(np.int16).max) if gq is not None
                       else np.full(n, -1))
        c["dp"].append(dp[:, 0] if dp is not None else np.full(n, -1))
        c["ad_ref"].append(ad[:, 0] if ad is not None else np.full(n, -1))
        c["ad_alt"].append(ad[:, alt_i] if ad is not None and ad.shape[1] > alt_i
                           else np.full(n, -1))
        c["phase"].append(np.where(het, np.where(is_alt[:, 0], 1, 2), 0))
        c["ps"].append(np.where(het, np.maximum(ps[:, 0], 0) if ps is not None else 1, 0))
        v["chrom"].append(chrom)
        v["pos"].append(record.POS)
        v["ref"].append(record.REF[:1])
        v["alt"].append(symbolic)
        v["filter_pass"].append(filter_pass)
        v["ac"].append(int(is_alt.sum()))
        v["an"].append(int(called.sum()))
        v["alt_index"].append(alt_i)
        v["n_alts"].append(len(alts))
        # VEP reads a record of several symbolic ALTs as one copy-number variant
        v["vep_allele"].append(VEP_ALLELE[kind] if len(alts) == 1 else VEP_ALLELE["CNV"])
        v["qual"].append(record.QUAL if record.QUAL is not None else np.nan)
        v["end"].append(max(end, record.POS))
        v["svtype"].append(SVTYPE[kind])
        v["svlen"].append(svlen)
        for name in rows.floats:
            value = record.INFO.get(name)
            if info_header[name][0] in ("A", "R"):
                value = _per_alt(value, alt_i + (info_header[name][0] == "R"))
            v[f"info.{name}"].append(np.nan if value is None else float(value))
        for name in rows.strings:
            value = record.INFO.get(name)
            if isinstance(value, tuple):
                value = ",".join(str(x) for x in value)
            v[f"info.{name}"].append("" if value is None else str(value))


def _drop_duplicate_keys(shard: Shard) -> tuple[Shard, int]:
    """The shard without later records of an SV already read (same type, position, END and
    SVLEN: two callers' calls of one event), and how many were dropped."""
    keys = shard.variants["key"]
    if len(keys) < 2:
        return shard, 0
    first = np.r_[True, keys[1:] != keys[:-1]]
    return (shard, 0) if first.all() else (shard.take(first), int((~first).sum()))


def join_sv_shard(small: Shard, sv: Shard, csq_field: str = "CSQ") -> Shard:
    """One shard of a region's small variants and its SVs, sorted by key.

    Calls are matched by sample name: a sample of ``small`` absent from the SV VCF gets
    missing SV calls (-1, never a veto), SV-only samples are dropped. Every variant column of
    either side is kept: small variants get ``svtype`` 0 and ``end`` = pos + len(ref) - 1;
    other columns one side lacks are filled with NaN, b"", False or -1 by dtype. When the two
    VCFs were annotated with different CSQ field lists, the SVs' strings are rewritten in the
    small variants' field order (``csq_field`` names the field).
    """
    n_small = small.n_variants
    sv_variants = dict(sv.variants)
    descriptions = dict(sv.meta.get("info_descriptions", {}))
    descriptions.update(small.meta.get("info_descriptions", {}))
    column = f"info.{csq_field}"
    sv_desc = sv.meta.get("info_descriptions", {}).get(csq_field)
    small_desc = small.meta.get("info_descriptions", {}).get(csq_field)
    if column in sv_variants and sv_desc and small_desc and sv_desc != small_desc:
        sv_variants[column] = recode_annotations(sv_variants[column], sv_desc, small_desc)
    small_variants = dict(small.variants)
    small_variants.setdefault("svtype", np.zeros(n_small, np.int8))
    small_variants.setdefault("end", (small.variants["pos"] + np.char.str_len(
        small.variants["ref"]) - 1).astype(np.int32))
    variants = {}
    for name in dict.fromkeys([*small_variants, *sv_variants]):
        a = small_variants.get(name)
        b = sv_variants.get(name)
        like = a if a is not None else b
        a = a if a is not None else _filled(like, n_small)
        b = b if b is not None else _filled(like, sv.n_variants)
        if a.dtype.kind == "S" or b.dtype.kind == "S":
            variants[name] = np.concatenate([a.astype("S"), b.astype("S")])
        else:
            variants[name] = np.concatenate([a, b.astype(a.dtype)])
    where = {s: i for i, s in enumerate(sv.samples)}
    cols = np.array([where.get(s, -1) for s in small.samples], np.int64)
    calls = {}
    for k, t in CALL_FIELDS.items():
        fill = 0 if k in ("phase", "ps") else -1
        sv_calls = np.where(cols[None, :] >= 0, sv.calls[k][:, np.maximum(cols, 0)], fill) \
            if len(cols) else np.zeros((sv.n_variants, 0), t)
        calls[k] = np.concatenate([small.calls[k], sv_calls.astype(t)])
    dropped = len(set(sv.samples) - set(small.samples))
    if dropped:
        log.info("SV VCF: %d samples not among the small-variant samples are left out", dropped)
    order = np.argsort(variants["key"], kind="stable")
    meta = dict(small.meta, info_descriptions=descriptions,
                sources=small.meta.get("sources", []) + sv.meta.get("sources", []),
                sv_skipped=sv.meta.get("sv_skipped", {}))
    return Shard(list(small.samples), small.build, {k: a[order] for k, a in variants.items()},
                 {k: a[order] for k, a in calls.items()}, {}, meta)


def _filled(like: np.ndarray, n: int) -> np.ndarray:
    kind = like.dtype.kind
    if kind == "f":
        return np.full(n, np.nan, like.dtype)
    if kind == "S":
        return np.full(n, b"", "S1")
    if kind == "b":
        return np.zeros(n, bool)
    return np.full(n, -1, like.dtype)


def recode_annotations(strings: np.ndarray, from_description: str,
                       to_description: str) -> np.ndarray:
    """(n,) bytes annotation strings rewritten from one field list to another (fields the
    target lists but the source lacks are left empty). Both must be the same kind (VEP CSQ,
    snpEff ANN or bcftools BCSQ)."""
    from heron.annotate.csq import format_fields

    kind_from, fields_from = format_fields(from_description)
    kind_to, fields_to = format_fields(to_description)
    if kind_from != kind_to:
        raise InputError(f"the SV VCF's consequences are {kind_from} but the small-variant "
                         f"VCF's are {kind_to}",
                         hint="annotate both VCFs with the same tool")
    series = pd.Series(np.char.decode(np.asarray(strings, dtype="S"), "utf-8"), dtype=object)
    entries = series[series != ""].str.split(",").explode()
    if entries.empty:
        return np.asarray(strings, dtype="S")
    parts = entries.str.split("|", expand=True, regex=False)
    parts = parts.iloc[:, :len(fields_from)]
    parts.columns = fields_from[:parts.shape[1]]
    joined = None
    for name in fields_to:  # one pass per field of the target format
        value = parts[name].fillna("") if name in parts else pd.Series("", index=parts.index)
        joined = value if joined is None else joined + "|" + value
    rebuilt = joined.groupby(level=0).agg(",".join)
    out = series.copy()
    out[rebuilt.index] = rebuilt
    return np.char.encode(out.to_numpy(str), "utf-8")
