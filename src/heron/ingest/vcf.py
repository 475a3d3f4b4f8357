"""VCF/BCF → columnar shard.

This is the one place where heron loops over records in Python: each record is split into
its ALT alleles, trimmed to a minimal representation, and its INFO values are picked per ALT.
The call matrices come from the compiled reader (heron.ingest.fastparse) block by block, or,
for what it does not read (BCF, unusual records), from cyvcf2 record by record
(``_add_record``); both give the same arrays. Everything after ingest works on the arrays.
"""

from __future__ import annotations

import ctypes
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from heron.errors import InputError
from heron.genome import CHROM_M, build_from_contigs, chrom_code, chrom_label
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


def whole_file(regions: list | None) -> bool:
    """True when a shard's regions (None, or one of them ``*``) mean the whole file."""
    return regions is None or any(r.contig == "*" for r in regions)


def check_samples(path: str | Path, file_samples: list[str], wanted: list[str] | None) -> None:
    """InputError naming the wanted samples (up to five) that the VCF does not hold."""
    if wanted is None:
        return
    present = set(file_samples)
    missing = [s for s in wanted if s not in present]
    if missing:
        raise InputError(f"samples not in the VCF: {', '.join(missing[:5])}", path=str(path))


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
        chunk.update(self.var)
        self.done.append(chunk)
        self._new_chunk()

    def next_row(self) -> int:
        if self.i == _CHUNK:
            self.flush()
        self.i += 1
        self.rows += 1
        return self.i - 1


def format_ints(record, name: str, present: set[str], n: int,
                width: int = 0) -> np.ndarray | None:
    """FORMAT integer field of a cyvcf2 record as (n, at least ``width``) int32 with missing
    → -1 (short rows padded with -1), or None when absent."""
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
    if value is None or number not in ("A", "R"):
        return value
    if isinstance(value, str):  # cyvcf2 gives a list of strings as one comma-joined text
        value = tuple(value.split(","))
    if not isinstance(value, tuple):
        return value
    idx = alt_i - 1 if number == "A" else alt_i
    value = value[idx] if idx < len(value) else None
    return None if value == "." else value


ENGINES = ("fast", "cyvcf2")
_START = "the start of the file"


def read_region(path: str | Path, region: Region | None, *, build: str,
                info_float: list[str] = (), info_string: list[str] = (),
                samples: list[str] | None = None, engine: str = "fast") -> Shard:
    """Read one region of one VCF into a Shard (transcripts table empty).

    Multi-allelic records are split (one variant per ALT; ``*`` alleles dropped), alleles
    trimmed to a minimal representation, genotypes turned into alt-allele counts (a haploid
    alt call counts 2, so a hemizygous male looks like a homozygote), AD split into ref and
    this ALT's reads. Callset AC/AN come from the genotypes.

    ``engine`` "fast" reads bgzipped or plain VCF text with the compiled reader
    (heron.ingest.fastparse): calls, site columns and INFO; records that reader does not
    parse, BCF files, and headers it does not support are read with cyvcf2. "cyvcf2" reads
    every record with cyvcf2. Both give the same shard.
    """
    return read_regions(path, None if region is None else [region], build=build,
                        info_float=info_float, info_string=info_string, samples=samples,
                        engine=engine)


def read_regions(path: str | Path, regions: list[Region] | None, *, build: str,
                 info_float: list[str] = (), info_string: list[str] = (),
                 samples: list[str] | None = None, engine: str = "fast",
                 scratch: Path | None = None) -> Shard:
    """Read several regions of one VCF into one Shard, as read_region reads one: the rows
    of every region, sorted by key. ``regions`` None (or one of them ``*``) reads the whole
    file; regions must not overlap (a record in two would be read twice). ``scratch``: a
    folder (on the output's file system, removed by the caller) where the compiled reader
    writes the call matrices as .npy files, which :meth:`heron.store.Shard.save` then links
    into the store instead of writing them again."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    whole = whole_file(regions)
    wanted_regions = [None] if whole else list(regions)
    vcf = open_vcf(path)
    try:
        check_build(path, vcf, build)
        file_samples = list(vcf.samples)
        check_samples(path, file_samples, samples)
        info_float = [f for f in info_float if _has_header(vcf, "INFO", f)]
        info_string = [f for f in info_string if _has_header(vcf, "INFO", f)]
        numbers = {f: vcf.get_header_type(f).get("Number", ".")
                   for f in info_float + info_string}
        present = {f for f in ("AD", "DP", "GQ", "PS") if _has_header(vcf, "FORMAT", f)}
        readings = [_Reading(path=str(path), region=r, info_float=info_float,
                             info_string=info_string, numbers=numbers, present=present)
                    for r in wanted_regions]
        header = vcf.raw_header
        fast = None
        if engine == "fast" and all(_fast_readable(path, r) for r in wanted_regions):
            from heron.ingest.fastparse import Unsupported

            try:
                fast = _read_fast(readings, header, file_samples, samples, scratch)
            except Unsupported as exc:
                log.info("%s: read with cyvcf2 (%s)", path, exc)
                readings = [r.restart() for r in readings]
        if fast is None:
            chunks, names = _read_cyvcf2(readings, vcf, file_samples, samples)
    finally:
        vcf.close()
    skipped: dict[str, int] = {}
    for reading in readings:
        for name, count in reading.skipped.items():
            skipped[name] = skipped.get(name, 0) + count
    if skipped:
        log.warning("%s: skipped %d records on non-primary contigs (%s)", path,
                    sum(skipped.values()), ", ".join(sorted(skipped)[:5]))
    meta = {"sources": [str(path)], "region": "*" if whole else shard_text(regions),
            "info_descriptions": {f: _description(header, f) for f in info_float + info_string}}
    wanted = list(samples) if samples is not None else file_samples
    if fast is not None:
        return fast.shard(wanted, build, info_float, info_string, meta)
    columns = None if names == wanted else np.array([names.index(s) for s in wanted])
    return _to_shard(chunks, wanted, build, info_float, info_string, columns, meta)


@dataclass
class _Reading:
    """What one region of a read reads, where it is (for error messages) and which
    contigs it skipped."""

    path: str
    region: Region | None
    info_float: list[str]
    info_string: list[str]
    numbers: dict[str, str]
    present: set[str]
    last: str = _START
    skipped: dict[str, int] = field(default_factory=dict)

    def restart(self) -> "_Reading":
        return replace(self, last=_START, skipped={})

    @property
    def whole_file(self) -> bool:
        return self.region is None or self.region.contig == "*"

    def admit(self, contig: str, pos: int) -> int:
        """Chromosome code of a record to read; 0 to skip it: it starts outside the region
        (it overlaps it from the neighbouring shard, or lies next to it in the text read for
        it) or lies on a contig heron does not keep."""
        r = self.region
        if not self.whole_file and (contig != r.contig or r.start is not None and
                                    not r.start <= pos <= r.end):
            return 0
        chrom = chrom_code(contig)
        if chrom == 0:
            self.skipped[contig] = self.skipped.get(contig, 0) + 1
            return 0
        self.last = f"{contig}:{pos}"
        return chrom

    def malformed(self, exc: Exception) -> InputError:
        return InputError(f"malformed record after {self.last} ({exc})", path=self.path,
                          hint="validate the file with `bcftools view` and fix or drop the "
                               "record")


def _read_cyvcf2(readings: list[_Reading], vcf, file_samples: list[str],
                 samples: list[str] | None) -> tuple[list[dict], list[str]]:
    """Chunks of every record of the readings' regions read with cyvcf2, and the sample of
    each call column (the file's order: cyvcf2 keeps it when given a subset)."""
    names = file_samples
    if samples is not None and samples != file_samples:
        vcf.set_samples(samples)
        names = list(vcf.samples)
    cols = _Columns(len(names), readings[0].info_float, readings[0].info_string)
    for reading in readings:
        try:
            for record in vcf if reading.whole_file else vcf(str(reading.region)):
                chrom = reading.admit(record.CHROM, record.POS)
                if chrom:
                    _add_record(record, chrom, cols, len(names), reading.present,
                                reading.numbers)
        except InputError:
            raise
        except Exception as exc:
            raise reading.malformed(exc) from None
    cols.flush()
    return cols.done, names


def _fast_readable(path: str | Path, region: Region | None) -> bool:
    """Whether the compiled reader can read this file (VCF text, bgzipped or plain) and
    region (a region needs a bgzipped file with a tabix index)."""
    import pysam

    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        with pysam.BGZFile(str(path), "rb") as handle:
            magic = handle.read(3)
    else:
        with open(path, "rb") as handle:
            magic = handle.read(3)
    if magic == b"BCF":
        return False
    if region is None or region.contig == "*":
        return True
    try:
        pysam.TabixFile(str(path)).close()
    except (OSError, ValueError):
        return False
    return gzipped


def _read_fast(readings: list[_Reading], header: str, file_samples: list[str],
               samples: list[str] | None, scratch: Path | None = None) -> "_FastRead":
    """Every record of the readings' regions through the compiled reader, the records it
    leaves (FALLBACK) through cyvcf2. Raises fastparse.Unsupported when the header rules it
    out."""
    import tempfile

    from heron.ingest.fastparse import CallMatrices, Contigs, Fields

    names = list(dict.fromkeys(samples)) if samples is not None else file_samples
    first = readings[0]
    fields = Fields.from_header(header, names if samples is not None else None,
                                first.info_float, first.info_string)
    folder = None if scratch is None else Path(tempfile.mkdtemp(prefix="calls-", dir=scratch))
    read = _FastRead(names, Contigs(header), CallMatrices(
        len(names), _expected_rows(first.path, [r.region for r in readings]), folder=folder))
    offset = 0
    with tempfile.TemporaryDirectory(prefix="heron-vcf-") as tmp:
        texts = _TempRecords(Path(tmp), header, names if samples is not None else None)
        for reading in readings:
            try:
                blocks, offset = _read_text(reading, fields, read, offset)
                read.blocks += blocks
                read.add_fallback(reading, blocks, texts)
            except InputError:
                raise
            except Exception as exc:
                if type(exc).__name__ == "Unsupported":
                    raise
                raise reading.malformed(exc) from None
        read.file_order = texts.file_order
    return read


def _read_text(reading: _Reading, fields, read: "_FastRead", offset: int) -> tuple[list, int]:
    """The blocks of one region's text (the whole file's for ``*``) parsed into ``read``'s
    call matrices; records numbered from ``offset``. Also the offset after them."""
    from heron.ingest.fastparse import (PRIMARY_CONTIGS, SKIPPED, file_blocks, parse_block,
                                        region_text)

    r, top = reading.region, 2 ** 31
    if reading.whole_file:
        texts, want, lo, hi = file_blocks(reading.path), PRIMARY_CONTIGS, 0, top
    else:
        texts = region_text(reading.path, r.contig, r.start, r.end)
        want, lo, hi = read.contigs.index(r.contig), r.start or 0, r.end or top
    blocks, seen = [], False
    try:
        for buf in texts:
            block = parse_block(buf, fields, read.contigs, read.calls, offset, want, lo, hi)
            offset += len(block.status)
            blocks.append(block)
            if want == PRIMARY_CONTIGS:
                off, count = np.unique(block.contig[block.status == SKIPPED],
                                       return_counts=True)
                for t, n in zip(off.tolist(), count.tolist()):
                    name = read.contigs.names[t]
                    reading.skipped[name] = reading.skipped.get(name, 0) + n
                continue
            # a region's text may run past it: stop at the first block that does
            known = block.contig >= 0
            seen = seen or bool((block.contig == want).any())
            if known.any():
                last, pos = block.contig[known][-1], block.record_pos[known][-1]
                if (last == want and pos > hi) or (last != want and seen):
                    break
    finally:
        texts.close()
    return blocks, offset


def _expected_rows(path: str, regions: list[Region | None]) -> int:
    """Rows to allocate the call matrices for: the index's record count of the regions (a
    part of a contig by its share of the length), with room for multi-allelic records; a
    small start when the file has no index (the matrices then grow)."""
    stats = _index_stats(path)
    if stats is None:
        return 1024
    records = 0.0
    for name, length, count in stats:
        for r in regions:
            if r is None or r.contig == "*":
                records += count if chrom_code(name) else 0
            elif r.contig == name:
                share = 1.0 if r.start is None or not length else \
                    min(1.0, (r.end - r.start + 1) / length)
                records += count * share
    return int(records * 1.1) + 1024


class _FastRead:
    """What the compiled reader read of one file: its blocks, the call matrices they filled,
    and the rows of its FALLBACK records read with cyvcf2 (``extra``, with the record number
    of each row)."""

    def __init__(self, names: list[str], contigs, calls):
        self.names, self.contigs, self.calls = names, contigs, calls
        self.blocks: list = []
        self.extra: _Columns | None = None
        self.extra_record: list[int] = []
        self.file_order: list[str] | None = None

    def add_fallback(self, reading: _Reading, blocks: list, texts: "_TempRecords") -> None:
        """Read the FALLBACK records of ``blocks`` with cyvcf2 (in file order; each error
        names the record before it, as cyvcf2's own reading would)."""
        from heron.ingest.fastparse import FALLBACK, PARSED

        if not blocks:
            return
        status = np.concatenate([b.status for b in blocks])
        if not (status == FALLBACK).any():
            return
        ids = np.concatenate([b.offset + np.arange(len(b.status)) for b in blocks])
        contig = np.concatenate([b.contig for b in blocks])
        pos = np.concatenate([b.record_pos for b in blocks])
        line = np.concatenate([b.line for b in blocks])
        parsed = np.flatnonzero(status == PARSED)
        fallback = np.flatnonzero(status == FALLBACK)
        if self.extra is None:
            self.extra = _Columns(len(self.names), reading.info_float, reading.info_string)
        records = texts.read("fallback.vcf", line[fallback].tolist())
        previous = -1
        try:
            for i in fallback.tolist():
                k = np.searchsorted(parsed, i) - 1
                if k >= 0 and parsed[k] > previous:
                    reading.last = f"{self.contigs.names[contig[parsed[k]]]}:{pos[parsed[k]]}"
                previous = i
                record = next(records)
                chrom = reading.admit(record.CHROM, record.POS)
                if chrom:
                    before = self.extra.rows
                    _add_record(record, chrom, self.extra, len(self.names), reading.present,
                                reading.numbers)
                    self.extra_record += [int(ids[i])] * (self.extra.rows - before)
        finally:
            records.close()

    def shard(self, samples: list[str], build: str, info_float: list[str],
              info_string: list[str], meta: dict) -> Shard:
        """The Shard: FALLBACK rows placed after the parsed ones, then every row sorted by
        key (ties in file order), call columns in ``samples`` order."""
        blocks, calls = self.blocks, self.calls
        names = ("chrom", "pos", "ref", "alt", "filter_pass", "ac", "an", "alt_index",
                 "n_alts", "qual", "vep_allele")

        def part(block):
            out = {k: getattr(block, k) if k not in block.values else block.values[k]
                   for k in names}
            out.update({f"info.{f}": block.values[f"info.{f}"] for f in
                        info_float + info_string})
            return out

        parts = [part(b) for b in blocks]
        record = [b.record for b in blocks]
        if self.extra is not None and self.extra.rows:
            self.extra.flush()
            if self.file_order is not None and self.file_order != self.names:
                where = np.array([self.file_order.index(s) for s in self.names])
            else:
                where = None
            calls.reserve(self.extra.rows)
            for chunk in self.extra.done:
                pieces = {k: chunk.pop(f"call.{k}") for k in CALL_FIELDS}
                calls.append(pieces if where is None else
                             {k: piece[:, where] for k, piece in pieces.items()})
            parts.append(_variant_columns(self.extra.done, info_float, info_string))
            record.append(np.asarray(self.extra_record, np.int64))
        variants = _variant_columns(parts, info_float, info_string)
        variants["key"] = variant_keys(variants["chrom"], variants["pos"], variants["ref"],
                                       variants["alt"])
        record = np.concatenate(record) if record else np.zeros(0, np.int64)
        order = np.lexsort((variants["alt_index"], record, variants["key"]))
        matrices = calls.finish()
        moved = np.flatnonzero(order != np.arange(len(order)))
        # rows out of key order are few (trimmed alleles, FALLBACK rows): only they move
        for k, m in [*variants.items(), *matrices.items()]:
            m[moved] = m[order[moved]]
        if samples != self.names:
            columns = np.array([self.names.index(s) for s in samples])
            matrices = {k: m[:, columns] for k, m in matrices.items()}
        shard = Shard(list(samples), build, variants, matrices, {}, meta)
        shard.files = {k: (m, calls.files[k]) for k, m in matrices.items() if k in calls.files}
        return shard


class _TempRecords:
    """cyvcf2 records of some lines of the VCF (FALLBACK records), through a small VCF file
    of the header and those lines, with the requested samples."""

    def __init__(self, folder: Path, header: str, samples: list[str] | None):
        self.folder, self.samples = folder, samples
        self.full = (header.rstrip("\n") + "\n").encode()
        self.file_order: list[str] | None = None

    def read(self, name: str, lines: list[bytes]):
        """An open cyvcf2.VCF over ``lines`` (close it when done)."""
        import cyvcf2

        path = self.folder / name
        with open(path, "wb") as out:
            out.write(self.full)
            out.writelines(line + b"\n" for line in lines)
        vcf = cyvcf2.VCF(str(path), lazy=True, threads=1)
        if self.samples is not None:
            vcf.set_samples(self.samples)
            self.file_order = list(vcf.samples)
        return vcf


_NO_ROW_ALTS = ("*", "<*>", "<NON_REF>", ".")


def _description(header: str, name: str) -> str:
    m = re.search(rf'##INFO=<ID={re.escape(name)},.*?Description="(.*?)"', header)
    return m.group(1) if m else ""


def _has_header(vcf, kind: str, name: str) -> bool:
    return f"##{kind}=<ID={name}," in vcf.raw_header


def _filter_qual(record) -> tuple[bool, float]:
    filt = record.FILTER
    filter_pass = filt is None or filt == "PASS" or filt == "."
    return filter_pass, record.QUAL if record.QUAL is not None else np.nan


def _append_site(v: dict[str, list], record, chrom: int, alts: list[str], alt_i: int,
                 filter_pass: bool, qual: float, info_float: list[str],
                 info_string: list[str], numbers: dict[str, str]) -> None:
    """The site columns of ALT ``alt_i`` (1-based) of ``record`` appended to ``v``: the
    trimmed alleles and position, the VEP allele, and the INFO values of that ALT."""
    ref, alt = record.REF, alts[alt_i - 1]
    t_ref, t_alt, t_pos = _trim(ref, alt, record.POS)
    v["chrom"].append(chrom)
    v["pos"].append(t_pos)
    v["ref"].append(t_ref)
    v["alt"].append(t_alt)
    v["filter_pass"].append(filter_pass)
    v["n_alts"].append(len(alts))
    v["vep_allele"].append(vep_allele(ref, alts, alt))
    v["qual"].append(qual)
    for name in info_float:
        value = _info_value(record, name, numbers[name], alt_i)
        v[f"info.{name}"].append(np.nan if value is None else float(value))
    for name in info_string:
        value = _info_value(record, name, numbers[name], alt_i)
        if isinstance(value, tuple):
            value = ",".join(str(x) for x in value)
        v[f"info.{name}"].append("" if value is None else str(value))


def _add_record(record, chrom, cols: _Columns, n, present, numbers) -> None:
    alts = record.ALT
    if not alts:
        return
    gt = record.genotype.array() if n else np.zeros((0, 3), np.int16)
    alleles = gt[:, :-1]
    phased = gt[:, -1].astype(bool)
    haploid = alleles[:, 1] == -2 if alleles.shape[1] > 1 else np.ones(n, bool)
    called = alleles >= 0
    no_call = ~called.any(axis=1)
    an = int(called.sum())
    n_alleles = len(alts) + 1
    ad = format_ints(record, "AD", present, n, n_alleles)
    dp = format_ints(record, "DP", present, n, 1)
    gq = format_ints(record, "GQ", present, n, 1)
    ps = format_ints(record, "PS", present, n, 1)
    filter_pass, qual = _filter_qual(record)
    for alt_i, alt in enumerate(alts, start=1):
        if alt in _NO_ROW_ALTS:
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
        v = cols.var
        _append_site(v, record, chrom, alts, alt_i, filter_pass, qual, cols.info_float,
                     cols.info_string, numbers)
        v["ac"].append(int(is_alt.sum()))
        v["an"].append(an)
        v["alt_index"].append(alt_i)


def _variant_columns(parts: list[dict], info_float: list[str],
                     info_string: list[str]) -> dict[str, np.ndarray]:
    """The variants table (without key) of pieces of rows in order: reader chunks (lists of
    Python values) or compiled-reader blocks (arrays). Text becomes bytes ``S`` arrays."""
    rows = sum(len(p["pos"]) for p in parts)

    def col(name, dtype):
        pieces = [np.asarray(p[name], dtype) for p in parts]
        return np.concatenate(pieces) if pieces else np.asarray([], dtype)

    def text(name, encoding):
        if not rows:
            return np.array([], "S1")
        # str → bytes one value at a time: a numpy str array would take 4 bytes a character
        return np.concatenate([
            p[name] if isinstance(p[name], np.ndarray) else
            np.array([x.encode(encoding) for x in p[name]], dtype="S") for p in parts])

    variants = {
        "chrom": col("chrom", np.int8), "pos": col("pos", np.int32),
        "ref": text("ref", "ascii"), "alt": text("alt", "ascii"),
        "filter_pass": col("filter_pass", bool), "ac": col("ac", np.int32),
        "an": col("an", np.int32), "alt_index": col("alt_index", np.int16),
        "n_alts": col("n_alts", np.int16), "qual": col("qual", np.float32),
        "vep_allele": text("vep_allele", "ascii"),
    }
    for name in info_float:
        variants[f"info.{name}"] = col(f"info.{name}", np.float32)
    for name in info_string:
        variants[f"info.{name}"] = text(f"info.{name}", "utf-8")
    return variants


def _to_shard(chunks: list[dict], samples: list[str], build: str, info_float: list[str],
              info_string: list[str], columns: np.ndarray | None, meta: dict) -> Shard:
    """One shard from the cyvcf2 reader's chunks, rows sorted by key (stable: rows of equal
    key keep file order), call columns taken in ``columns`` order when given. The chunks are
    consumed: each call matrix is written piece by piece into its place in the result and
    the pieces dropped, so peak memory is about the calls once plus one matrix."""
    n = len(samples)
    rows = sum(len(c["pos"]) for c in chunks)
    variants = _variant_columns(chunks, info_float, info_string)
    ref, alt = variants["ref"], variants["alt"]
    variants["key"] = variant_keys(variants["chrom"], variants["pos"], ref, alt)
    order = np.lexsort((variants["key"],))
    target = None  # row of the result for each row of the chunks, None when the same
    if not np.all(order == np.arange(len(order))):
        variants = {k: v[order] for k, v in variants.items()}
        target = np.empty_like(order)
        target[order] = np.arange(len(order))
    calls = {}
    for k, dtype in CALL_FIELDS.items():
        calls[k] = _placed(chunks, f"call.{k}", np.empty((rows, n), dtype), target, columns)
        _give_back_freed_memory()
    return Shard(list(samples), build, variants, calls, {}, meta)


def _placed(chunks: list[dict], name: str, out: np.ndarray, target: np.ndarray | None,
            columns: np.ndarray | None) -> np.ndarray:
    """``out`` filled with the pieces of call matrix ``name`` popped from the chunks: chunk
    row i goes to row ``target[i]`` (i when None); column j is the piece's ``columns[j]``.
    A single piece already in place is returned as it is."""
    if len(chunks) == 1 and target is None and columns is None:
        return chunks[0].pop(name)
    a = 0
    for c in chunks:
        piece = c.pop(name)
        b = a + len(piece)
        if columns is not None:
            piece = piece[:, columns]
        if target is None:
            out[a:b] = piece
        else:
            out[target[a:b]] = piece
        a = b
    return out


def _give_back_freed_memory() -> None:
    """Return freed heap memory to the system. The reader's blocks are allocated in pieces
    below glibc's mmap threshold, so once joined and freed they stay in the heap, counted in
    the process's memory on top of the joined arrays, unless trimmed (no-op off glibc)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def merge_shards(shards: list[Shard]) -> Shard:
    """Merge shards of the same region from VCFs with distinct samples into one.

    Variants are the union (by key and alleles); a sample's call at a variant its file does
    not hold is missing (-1), never assumed hom-ref, so it never vetoes. For the callset
    frequency, though, a joint-called batch without the site counts its samples as hom-ref
    (two alleles each): otherwise AN would count only the batches that hold the site and a
    rare variant seen in a few batches would look common.
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
    variants["an"] = np.full(n_var, 2 * len(samples), np.int32)
    variants["filter_pass"] = np.zeros(n_var, bool)
    calls = {k: np.full((n_var, len(samples)), -1 if k not in ("phase", "ps") else 0, dtype=t)
             for k, t in CALL_FIELDS.items()}
    col = 0
    for s, ids in zip(shards, ident):
        rows = np.searchsorted(union, ids)
        variants["ac"][rows] += s.variants["ac"]
        variants["an"][rows] += s.variants["an"] - 2 * s.n_samples
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
    return [region for region, _ in _pieces(paths, shard_variants)]


def plan_shards(paths: list[str], shard_variants: int) -> list[list[Region]]:
    """The regions of each shard of a cohort: list_regions' regions in genome order, packed
    while a shard's records (by the index) stay within ``shard_variants`` — small contigs
    share a shard, a big contig's pieces keep one each. ``[[Region("*")]]`` when a VCF has
    no index."""
    shards: list[list[Region]] = []
    total = 0
    for region, records in _pieces(paths, shard_variants):
        if shards and total + records <= shard_variants and shards[-1][0].contig != "*":
            shards[-1].append(region)
            total += records
        else:
            shards.append([region])
            total = records
    return shards


def _pieces(paths: list[str], shard_variants: int) -> list[tuple[Region, int]]:
    """list_regions' regions, each with its records (summed over the VCFs: batches merged
    into one shard hold up to the sum of their variants; a contig's pieces an equal share)."""
    counts: dict[str, list[int]] = {}
    for path in paths:
        stats = _index_stats(path)
        if stats is None:
            return [(Region("*"), 0)]
        for name, length, records in stats:
            if chrom_code(name) == 0:
                continue
            entry = counts.setdefault(name, [0, 0])
            entry[0] = max(entry[0], length)
            entry[1] += records
    regions = []
    for name in sorted(counts, key=chrom_code):
        length, records = counts[name]
        pieces = max(1, -(-records // shard_variants)) if length else 1
        if pieces == 1 or chrom_code(name) == CHROM_M:
            regions.append((Region(name), records))
            continue
        step = -(-length // pieces)
        for i in range(pieces):
            regions.append((Region(name, i * step + 1, min(length, (i + 1) * step)),
                            -(-records // pieces)))
    return regions


# whole contigs in a row written as FIRST..LAST once there are this many
_RUN = 3


def shard_text(regions: list[Region]) -> str:
    """The text of a shard's regions, short and safe in a shell word or (':' → '_') a file
    name: regions joined by ',', and a run of whole contigs consecutive in genome order
    written ``FIRST..LAST`` (meaning every contig between, those without records too).
    parse_shard reads it back."""
    items: list[str] = []
    run: list[Region] = []

    def close():
        if len(run) >= _RUN:
            items.append(f"{run[0].contig}..{run[-1].contig}")
        else:
            items.extend(str(r) for r in run)
        run.clear()

    for r in regions:
        whole = r.start is None and chrom_code(r.contig) != 0 and r.contig != "*"
        if whole and run and chrom_code(r.contig) == chrom_code(run[-1].contig) + 1:
            run.append(r)
            continue
        close()
        if whole:
            run.append(r)
        else:
            items.append(str(r))
    close()
    return ",".join(items)


def parse_shard(text: str) -> list[Region]:
    """The regions of a shard's text (see shard_text); a single region's text (CONTIG,
    CONTIG:START-END, ``*``) gives that region alone. ``A..B`` is spelt out with A's style
    (``chr`` or not)."""
    regions = []
    for item in text.split(","):
        first, dots, last = item.partition("..")
        if not dots:
            regions.append(Region.parse(item))
            continue
        a, b = chrom_code(first), chrom_code(last)
        if not a or not b or a > b:
            raise InputError(f"bad contig range {item!r} in shard {text!r}",
                             hint="use FIRST..LAST with chromosomes in genome order, "
                                  "e.g. chr13..chr22")
        with_chr = first[:3].lower() == "chr"
        regions += [Region(chrom_label(code, with_chr)) for code in range(a, b + 1)]
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
