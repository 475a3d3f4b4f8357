"""VCF/BCF → columnar shard, with cyvcf2.

This is the one place where heron loops over records in Python: each record is split into
its ALT alleles, trimmed to a minimal representation, and its FORMAT fields are copied into
pre-allocated chunk arrays. Everything after ingest works on the arrays.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heron.errors import InputError
from heron.genome import CHROM_M, build_from_contigs, chrom_code
from heron.keys import variant_keys
from heron.store import CALL_FIELDS, Shard

log = logging.getLogger(__name__)

_CHUNK = 4096
_MISSING_INT = -1


@dataclass(frozen=True)
class Region:
    """A genomic region to read; ``start``/``end`` 1-based inclusive, None for the whole contig.

    The contig ``*`` means the whole file (used when a VCF has no index).
    """

    contig: str
    start: int | None = None
    end: int | None = None

    def __str__(self) -> str:
        if self.start is None:
            return self.contig
        return f"{self.contig}:{self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> "Region":
        m = re.fullmatch(r"([^:]+)(?::(\d+)-(\d+))?", text)
        if not m:
            raise InputError(f"bad region {text!r}", hint="use CONTIG or CONTIG:START-END")
        start = int(m.group(2)) if m.group(2) else None
        end = int(m.group(3)) if m.group(3) else None
        return cls(m.group(1), start, end)


def open_vcf(path: str | Path):
    """Open a VCF/BCF with cyvcf2; InputError when it is missing or not a VCF."""
    import cyvcf2

    path = Path(path)
    if not path.exists():
        raise InputError("VCF not found", path=str(path), hint="check cohort.vcfs in the config")
    try:
        return cyvcf2.VCF(str(path), lazy=True, threads=1)
    except (OSError, Exception) as exc:  # cyvcf2 raises plain Exception for unreadable input
        raise InputError(f"cannot read as VCF/BCF ({exc})", path=str(path),
                         hint="give a bgzipped VCF or a BCF") from None


def header_contigs(vcf) -> dict[str, int]:
    """Contig name → length from the header's ##contig lines (length 0 when not stated)."""
    contigs = {}
    for line in vcf.raw_header.splitlines():
        if line.startswith("##contig=<"):
            name = re.search(r"ID=([^,>]+)", line)
            length = re.search(r"length=(\d+)", line)
            if name:
                contigs[name.group(1)] = int(length.group(1)) if length else 0
    return contigs


def check_build(path: str | Path, vcf, build: str) -> None:
    """Fail when the header's contig lengths say a different build than the config."""
    found = build_from_contigs(header_contigs(vcf))
    if found is not None and found != build:
        raise InputError(f"the VCF header's contigs are {found} but the config says {build}",
                         path=str(path), hint="set cohort.genome_build to match the VCF")


def _trim(ref: str, alt: str, pos: int) -> tuple[str, str, int]:
    """Minimal representation: drop shared trailing, then shared leading bases."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return ref, alt, pos


def vep_allele(ref: str, alts: list[str], alt: str) -> str:
    """The allele string VEP writes in CSQ for ``alt`` of a record with ``ref`` and ``alts``.

    VEP drops the first base when every allele shares it and the lengths differ; an empty
    allele becomes ``-``.
    """
    alleles = [ref, *alts]
    if len({len(a) for a in alleles}) > 1 and len({a[:1] for a in alleles}) == 1:
        return alt[1:] or "-"
    return alt


class _Columns:
    """Growable per-variant and per-call buffers, filled a row at a time by the reader."""

    def __init__(self, n_samples: int, info_float: list[str], info_string: list[str]):
        self.n_samples = n_samples
        self.rows = 0
        self.done: list[dict[str, np.ndarray]] = []
        self.info_float, self.info_string = info_float, info_string
        self._new_chunk()

    def _new_chunk(self) -> None:
        s = self.n_samples
        self.calls = {k: np.full((_CHUNK, s), _MISSING_INT, dtype=t) for k, t in CALL_FIELDS.items()}
        self.calls["phase"][:] = 0
        self.calls["ps"][:] = 0
        self.var: dict[str, list] = {k: [] for k in (
            "chrom", "pos", "ref", "alt", "filter_pass", "ac", "an", "alt_index", "n_alts",
            "vep_allele", "qual")}
        for name in self.info_float + self.info_string:
            self.var[f"info.{name}"] = []
        self.i = 0

    def flush(self) -> None:
        if self.i == 0:
            return
        chunk = {f"call.{k}": v[: self.i] for k, v in self.calls.items()}
        chunk.update({k: np.asarray(v) for k, v in self.var.items()})
        self.done.append(chunk)
        self._new_chunk()

    def next_row(self) -> int:
        if self.i == _CHUNK:
            self.flush()
        self.i += 1
        self.rows += 1
        return self.i - 1


def _format_int(record, name: str, present: set[str], n: int, width: int) -> np.ndarray | None:
    """FORMAT integer field as (n, width) int32 with missing → -1, or None when absent."""
    if name not in present:
        return None
    arr = record.format(name)
    if arr is None:
        return None
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), -1, arr).astype(np.int32)
    arr = arr.astype(np.int32, copy=False)
    arr = np.where(arr < 0, -1, arr)  # htslib's missing and vector-end sentinels
    if arr.shape[1] < width:
        arr = np.hstack([arr, np.full((n, width - arr.shape[1]), -1, np.int32)])
    return arr


def _info_value(record, name: str, number: str, alt_i: int):
    """An INFO value for one ALT: Number=A/R lists are indexed, anything else is shared."""
    value = record.INFO.get(name)
    if value is None or number not in ("A", "R") or not isinstance(value, tuple):
        return value
    idx = alt_i - 1 if number == "A" else alt_i
    return value[idx] if idx < len(value) else None


def read_region(path: str | Path, region: Region | None, *, build: str,
                info_float: list[str] = (), info_string: list[str] = (),
                samples: list[str] | None = None) -> Shard:
    """Read one region of one VCF into a Shard (transcripts table empty).

    Multi-allelic records are split (one variant per ALT; ``*`` alleles dropped), alleles
    trimmed to a minimal representation, genotypes turned into alt-allele counts (a haploid
    alt call counts 2, so a hemizygous male looks like a homozygote), AD split into ref and
    this ALT's reads. Callset AC/AN come from the genotypes.
    """
    vcf = open_vcf(path)
    check_build(path, vcf, build)
    vcf_samples = list(vcf.samples)
    order = None
    if samples is not None and samples != vcf_samples:
        missing = [s for s in samples if s not in vcf_samples]
        if missing:
            raise InputError(f"samples not in the VCF: {', '.join(missing[:5])}", path=str(path))
        vcf.set_samples(samples)
        vcf_samples = list(vcf.samples)  # cyvcf2 keeps the file's order
        order = [vcf_samples.index(s) for s in samples]
    n = len(vcf_samples)
    info_float = [f for f in info_float if _has_header(vcf, "INFO", f)]
    info_string = [f for f in info_string if _has_header(vcf, "INFO", f)]
    numbers = {f: vcf.get_header_type(f).get("Number", ".") for f in info_float + info_string}
    present = {f for f in ("AD", "DP", "GQ", "PS") if _has_header(vcf, "FORMAT", f)}
    vcf_header = vcf.raw_header
    cols = _Columns(n, list(info_float), list(info_string))
    iterator = vcf if region is None or region.contig == "*" else vcf(str(region))
    last = "the start of the file"
    start, end = (region.start, region.end) if region is not None else (None, None)
    skipped_contigs: dict[str, int] = {}
    try:
        for record in iterator:
            if start is not None and not start <= record.POS <= end:
                continue  # overlaps the region but starts in the neighbouring shard
            chrom = chrom_code(record.CHROM)
            if chrom == 0:
                skipped_contigs[record.CHROM] = skipped_contigs.get(record.CHROM, 0) + 1
                continue
            last = f"{record.CHROM}:{record.POS}"
            _add_record(record, chrom, cols, n, present, numbers)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"malformed record after {last} ({exc})", path=str(path),
                         hint="validate the file with `bcftools view` and fix or drop the record"
                         ) from None
    finally:
        vcf.close()
    if skipped_contigs:
        log.warning("%s: skipped %d records on non-primary contigs (%s)", path,
                    sum(skipped_contigs.values()), ", ".join(sorted(skipped_contigs)[:5]))
    cols.flush()
    descriptions = {f: _description(vcf_header, f) for f in info_float + info_string}
    shard = _to_shard(cols, vcf_samples, build, info_float, info_string,
                      meta={"sources": [str(path)], "region": str(region) if region else "*",
                            "info_descriptions": descriptions})
    if order is not None:
        shard.calls = {k: v[:, order] for k, v in shard.calls.items()}
        shard.samples = list(samples)
    return shard


def _description(header: str, name: str) -> str:
    m = re.search(rf'##INFO=<ID={re.escape(name)},.*?Description="(.*?)"', header)
    return m.group(1) if m else ""


def _has_header(vcf, kind: str, name: str) -> bool:
    return f"##{kind}=<ID={name}," in vcf.raw_header


def _add_record(record, chrom, cols: _Columns, n, present, numbers) -> None:
    alts = record.ALT
    if not alts:
        return
    ref = record.REF
    gt = record.genotype.array() if n else np.zeros((0, 3), np.int16)
    alleles = gt[:, :-1]
    phased = gt[:, -1].astype(bool)
    haploid = alleles[:, 1] == -2 if alleles.shape[1] > 1 else np.ones(n, bool)
    called = alleles >= 0
    no_call = ~called.any(axis=1)
    an = int(called.sum())
    n_alleles = len(alts) + 1
    ad = _format_int(record, "AD", present, n, n_alleles)
    dp = _format_int(record, "DP", present, n, 1)
    gq = _format_int(record, "GQ", present, n, 1)
    ps = _format_int(record, "PS", present, n, 1)
    filt = record.FILTER
    filter_pass = filt is None or filt == "PASS" or filt == "."
    qual = record.QUAL if record.QUAL is not None else np.nan
    for alt_i, alt in enumerate(alts, start=1):
        if alt in ("*", "<*>", "<NON_REF>", "."):
            continue
        is_alt = alleles == alt_i
        count = is_alt.sum(axis=1).astype(np.int8)
        count[haploid & (count == 1)] = 2
        # a call with a missing allele and no copy of this ALT tells nothing about it
        # (-2 marks the end of a haploid call, not a missing allele)
        partial = (alleles == -1).any(axis=1) & (count == 0)
        count[no_call | partial] = -1
        r = cols.next_row()
        c = cols.calls
        c["gt"][r] = count
        if ad is not None:
            c["ad_ref"][r] = ad[:, 0]
            c["ad_alt"][r] = ad[:, alt_i]
        if dp is not None:
            c["dp"][r] = dp[:, 0]
        if gq is not None:
            c["gq"][r] = np.minimum(gq[:, 0], np.iinfo(np.int16).max)
        het = (count == 1) & phased & ~haploid
        c["phase"][r] = np.where(het, np.where(is_alt[:, 0], 1, 2), 0)
        if ps is not None:
            c["ps"][r] = np.where(het, np.maximum(ps[:, 0], 0), 0)
        elif het.any():
            c["ps"][r] = np.where(het, 1, 0)  # phased without PS: one phase set per record
        t_ref, t_alt, t_pos = _trim(ref, alt, record.POS)
        v = cols.var
        v["chrom"].append(chrom)
        v["pos"].append(t_pos)
        v["ref"].append(t_ref)
        v["alt"].append(t_alt)
        v["filter_pass"].append(filter_pass)
        v["ac"].append(int(is_alt.sum()))
        v["an"].append(an)
        v["alt_index"].append(alt_i)
        v["n_alts"].append(len(alts))
        v["vep_allele"].append(vep_allele(ref, alts, alt))
        v["qual"].append(qual)
        for name in cols.info_float:
            value = _info_value(record, name, numbers[name], alt_i)
            v[f"info.{name}"].append(np.nan if value is None else float(value))
        for name in cols.info_string:
            value = _info_value(record, name, numbers[name], alt_i)
            if isinstance(value, tuple):
                value = ",".join(str(x) for x in value)
            v[f"info.{name}"].append("" if value is None else str(value))


def _to_shard(cols: _Columns, samples, build, info_float, info_string, meta) -> Shard:
    n = len(samples)
    if cols.done:
        merged = {k: np.concatenate([c[k] for c in cols.done]) for k in cols.done[0]}
    else:
        merged = {f"call.{k}": np.zeros((0, n), dtype=t) for k, t in CALL_FIELDS.items()}
    def col(name, dtype):
        return np.asarray(merged.get(name, []), dtype=dtype)
    ref = np.char.encode(col("ref", str).astype(str), "ascii") if cols.rows else np.array([], "S1")
    alt = np.char.encode(col("alt", str).astype(str), "ascii") if cols.rows else np.array([], "S1")
    variants = {
        "chrom": col("chrom", np.int8), "pos": col("pos", np.int32), "ref": ref, "alt": alt,
        "filter_pass": col("filter_pass", bool), "ac": col("ac", np.int32),
        "an": col("an", np.int32), "alt_index": col("alt_index", np.int16),
        "n_alts": col("n_alts", np.int16), "qual": col("qual", np.float32),
        "vep_allele": np.asarray(merged.get("vep_allele", []), dtype="S"),
    }
    for name in info_float:
        variants[f"info.{name}"] = col(f"info.{name}", np.float32)
    for name in info_string:
        variants[f"info.{name}"] = np.char.encode(
            np.asarray(merged.get(f"info.{name}", []), dtype=str), "utf-8") if cols.rows \
            else np.array([], "S1")
    variants["key"] = variant_keys(variants["chrom"], variants["pos"], ref, alt)
    calls = {k: merged[f"call.{k}"] for k in CALL_FIELDS}
    shard = Shard(list(samples), build, variants, calls, {}, meta)
    order = np.lexsort((variants["key"],))
    if not np.all(order == np.arange(len(order))):
        shard = shard.take(order)
    return shard


def merge_shards(shards: list[Shard]) -> Shard:
    """Merge shards of the same region from VCFs with distinct samples into one.

    Variants are the union (by key and alleles); a sample's call at a variant its file does
    not hold is missing (-1), never assumed hom-ref. Callset AC/AN are summed.
    """
    if len(shards) == 1:
        return shards[0]
    samples = [s for shard in shards for s in shard.samples]
    dupes = sorted({s for s in samples if samples.count(s) > 1})
    if dupes:
        raise InputError(f"samples appear in more than one VCF: {', '.join(dupes[:5])}",
                         hint="give each sample in one VCF only, or merge the VCFs first")
    ident = [np.char.add(np.char.add(s.variants["key"].astype("S20"), b":"),
                         np.char.add(np.char.add(s.variants["ref"], b">"), s.variants["alt"]))
             for s in shards]
    union, first = np.unique(np.concatenate(ident), return_index=True)
    n_var = len(union)
    variants = {}
    for name in shards[0].variants:
        if all(name in s.variants for s in shards):
            stacked = np.concatenate([s.variants[name] for s in shards])
            variants[name] = stacked[first]
    variants["ac"] = np.zeros(n_var, np.int32)
    variants["an"] = np.zeros(n_var, np.int32)
    variants["filter_pass"] = np.zeros(n_var, bool)
    calls = {k: np.full((n_var, len(samples)), -1 if k not in ("phase", "ps") else 0, dtype=t)
             for k, t in CALL_FIELDS.items()}
    col = 0
    for s, ids in zip(shards, ident):
        rows = np.searchsorted(union, ids)
        variants["ac"][rows] += s.variants["ac"]
        variants["an"][rows] += s.variants["an"]
        variants["filter_pass"][rows] |= s.variants["filter_pass"]
        for k in CALL_FIELDS:
            calls[k][rows, col:col + s.n_samples] = s.calls[k]
        col += s.n_samples
    order = np.argsort(variants["key"], kind="stable")
    meta = dict(shards[0].meta, sources=[p for s in shards for p in s.meta.get("sources", [])])
    merged = Shard(samples, shards[0].build, {k: v[order] for k, v in variants.items()},
                   {k: v[order] for k, v in calls.items()}, {}, meta)
    return merged


def list_regions(paths: list[str], shard_variants: int) -> list[Region]:
    """Regions to shard a cohort by: per contig with records, cut to ~shard_variants each.

    Uses each VCF's index (``bcftools index --stats``); a VCF without index gives the single
    region ``*`` (the whole file in one shard).
    """
    counts: dict[str, list[int]] = {}
    for path in paths:
        stats = _index_stats(path)
        if stats is None:
            return [Region("*")]
        for name, length, records in stats:
            if chrom_code(name) == 0:
                continue
            entry = counts.setdefault(name, [0, 0])
            entry[0] = max(entry[0], length)
            entry[1] = max(entry[1], records)
    regions = []
    for name in sorted(counts, key=chrom_code):
        length, records = counts[name]
        pieces = max(1, -(-records // shard_variants)) if length else 1
        if pieces == 1 or chrom_code(name) == CHROM_M:
            regions.append(Region(name))
            continue
        step = -(-length // pieces)
        for i in range(pieces):
            regions.append(Region(name, i * step + 1, min(length, (i + 1) * step)))
    return regions


def _index_stats(path: str) -> list[tuple[str, int, int]] | None:
    """(contig, length, records) per contig with records, from the index; None if unindexed.

    Old indexes carry no record counts: each contig then counts as one shard's worth.
    """
    import pysam
    from pysam import bcftools

    try:
        text = bcftools.index("--stats", str(path))
    except pysam.utils.SamtoolsError:
        try:
            contigs = pysam.TabixFile(str(path)).contigs
        except (OSError, ValueError):
            return None
        return [(name, 0, 1) for name in contigs]
    rows = []
    for line in text.splitlines():
        name, length, records = line.split("\t")[:3]
        rows.append((name, int(length) if length != "." else 0, int(records)))
    return rows
