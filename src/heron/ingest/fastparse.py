"""Compiled reader of VCF text for the common FORMAT layouts: the call matrices without htslib.

The reader parses decompressed VCF text with two numba kernels (one pass to find the columns
of every line, one to fill the call matrices) and produces, per record and per ALT allele,
exactly the arrays of :func:`heron.ingest.vcf._add_record`: gt int8 (alt-allele count, a
haploid alt call counts 2, -1 no-call or a partial call without this ALT), ad_ref / ad_alt /
dp int32 and gq int16 (-1 missing), phase int8 and ps int32, plus the callset AC/AN.

Anything it does not recognise — ploidy above two, an allele index beyond the ALTs, a
GT phasing prefix, signs, exponents, empty subfields, over-long numbers, a wrong number of
columns or subfields, CR line ends — marks the record ``FALLBACK``: it has no rows here and
the caller reads that record with cyvcf2 instead. A record is never half-parsed.

FORMAT fields are found by name in each record's FORMAT column, so any order and any extra
fields (PL, PGT, PID, ...) are fine. Header types must be Integer or Float for AD/DP/GQ/PS
(Float values of up to 7 significant digits, which float32 keeps exactly, else the record
falls back); :func:`format_fields` raises :class:`Unsupported` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from heron.errors import InputError
from heron.store import CALL_FIELDS

PARSED, FALLBACK = 0, 1
BLOCK_BYTES = 1 << 24
# FORMAT fields the kernel reads, in the order of its ``present`` flags (GT is always read)
FIELDS = ("AD", "DP", "GQ", "PS")
_SKIPPED_ALTS = (b"*", b"<*>", b"<NON_REF>")
# the same tokens as one padded (tokens, longest) uint8 matrix and their lengths: a plain
# array, since a numba typed List is compiled anew in every process (no cache)
_SKIP = np.zeros((len(_SKIPPED_ALTS), max(map(len, _SKIPPED_ALTS))), np.uint8)
for _i, _token in enumerate(_SKIPPED_ALTS):
    _SKIP[_i, :len(_token)] = np.frombuffer(_token, np.uint8)
_SKIP_LEN = np.array([len(t) for t in _SKIPPED_ALTS], np.int64)
# longest number parsed here: htslib stores Integer as int32 and Float as float32
_FLOAT_DIGITS = 7
_DIGITS = {"Integer": 9, "Float": _FLOAT_DIGITS}
_GQ_MAX = np.iinfo(np.int16).max


class Unsupported(Exception):
    """The file's header declares a FORMAT field with a type this reader does not parse."""


@dataclass
class ParsedCalls:
    """Calls of the records of some VCF text.

    Per row (one per kept ALT allele of each parsed record), shape (rows,): record int64
    (index of the record, counting every data line from 0), alt_index int16 (1-based), ac /
    an int32. Per row and sample, shape (rows, n_samples): gt, gq, dp, ad_ref, ad_alt,
    phase, ps with the dtypes of heron.store.CALL_FIELDS. Per record, shape (records,):
    status int8 (PARSED or FALLBACK), n_alts int16, site object (bytes of the columns CHROM
    to INFO, tab-separated, for PARSED records, else None), line object (the whole line for
    FALLBACK records, else None).
    """

    samples: list[str]
    record: np.ndarray
    alt_index: np.ndarray
    ac: np.ndarray
    an: np.ndarray
    calls: dict[str, np.ndarray]
    status: np.ndarray
    n_alts: np.ndarray
    site: np.ndarray
    line: np.ndarray

    @property
    def fallback(self) -> int:
        return int((self.status == FALLBACK).sum())


# -- kernels ------------------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _lines(buf):
    """(starts, ends) of the data lines of ``buf`` (header and empty lines skipped); ends
    exclude the newline. The text must end with a newline."""
    n = 0
    for i in range(len(buf)):
        if buf[i] == 10:
            n += 1
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    k, s = 0, 0
    for i in range(len(buf)):
        if buf[i] == 10:
            if i > s and buf[s] != 35:
                starts[k], ends[k] = s, i
                k += 1
            s = i + 1
    return starts[:k], ends[:k]


@numba.njit(cache=True, nogil=True)
def _columns(buf, starts, ends, n_file):
    """Start of the columns CHROM..FORMAT and of the first sample, (records, 10) int64, with
    the number of ALTs (0 for '.') and the status of each record."""
    r = len(starts)
    col = np.zeros((r, 10), np.int64)
    n_alts = np.zeros(r, np.int16)
    status = np.zeros(r, np.int8)
    for i in range(r):
        s, e = starts[i], ends[i]
        col[i, 0] = s
        k = 1
        for p in range(s, e):
            if buf[p] == 9:
                col[i, k] = p + 1
                k += 1
                if k == 10:
                    break
        if k < 8 or (n_file > 0 and k < 10):
            status[i] = FALLBACK
            continue
        if k < 10:  # sites-only line: empty FORMAT and sample columns
            for c in range(k, 10):
                col[i, c] = e + 1
        a, b = col[i, 4], col[i, 5] - 1
        if b - a == 1 and buf[a] == 46:
            continue
        count = 1
        for p in range(a, b):
            if buf[p] == 44:
                count += 1
        n_alts[i] = count
    return col, n_alts, status


@numba.njit(cache=True, nogil=True)
def _int(buf, s, e, digits):
    """(value, ok) of a FORMAT number as heron keeps it: '.' is -1; an Integer field
    (``digits`` 9) must be plain digits; a Float field (``digits`` 7) may have a fraction,
    which is cut off as the int32 cast of its float32 value does (exact for 7 significant
    digits). Signs, exponents and longer numbers fail."""
    if e - s == 1 and buf[s] == 46:
        return -1, True
    if e <= s:
        return 0, False
    v, n, point = 0, 0, -1
    for p in range(s, e):
        c = buf[p]
        if c == 46 and digits == _FLOAT_DIGITS and point < 0 and p > s and p < e - 1:
            point = p
        elif c < 48 or c > 57:
            return 0, False
        else:
            n += 1
            if point < 0:
                v = v * 10 + (c - 48)
    return v, n <= digits


@numba.njit(cache=True, nogil=True)
def _same(buf, s, e, token, length):
    if e - s != length:
        return False
    for p in range(length):
        if buf[s + p] != token[p]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _format_keys(buf, s, e, present):
    """Subfield index of GT, AD, DP, GQ, PS in a FORMAT column (-1 absent or not wanted:
    ``present`` 0) and the number of subfields."""
    keys = np.full(5, -1, np.int64)
    k, f = 0, s
    for p in range(s, e + 1):
        if p == e or buf[p] == 58:
            if p - f == 2:
                a, b = buf[f], buf[f + 1]
                if a == 71 and b == 84:
                    keys[0] = k
                elif a == 65 and b == 68 and present[0] > 0:
                    keys[1] = k
                elif a == 68 and b == 80 and present[1] > 0:
                    keys[2] = k
                elif a == 71 and b == 81 and present[2] > 0:
                    keys[3] = k
                elif a == 80 and b == 83 and present[3] > 0:
                    keys[4] = k
            k += 1
            f = p + 1
    return keys, k


@numba.njit(cache=True, nogil=True)
def _calls(buf, starts, ends, col, n_alts, status, dest, n_out, present, skip_tokens,
           skip_len, record_offset):
    """Fill the per-ALT rows of every record that parses; mark the others FALLBACK."""
    r = len(starts)
    n_file = len(dest)
    rows = 0
    for i in range(r):
        if status[i] == PARSED:
            rows += n_alts[i]
    o_record = np.empty(rows, np.int64)
    o_alt = np.empty(rows, np.int16)
    o_ac = np.zeros(rows, np.int32)
    o_an = np.zeros(rows, np.int32)
    gt = np.full((rows, n_out), -1, np.int8)
    gq = np.full((rows, n_out), -1, np.int16)
    dp = np.full((rows, n_out), -1, np.int32)
    ad_ref = np.full((rows, n_out), -1, np.int32)
    ad_alt = np.full((rows, n_out), -1, np.int32)
    phase = np.zeros((rows, n_out), np.int8)
    ps = np.zeros((rows, n_out), np.int32)
    max_alts = 1
    for i in range(r):
        max_alts = max(max_alts, n_alts[i])
    a0 = np.empty(n_file, np.int64)
    a1 = np.empty(n_file, np.int64)
    phased = np.empty(n_file, np.bool_)
    adv = np.empty((n_file, max_alts + 1), np.int64)
    dpv = np.empty(n_file, np.int64)
    gqv = np.empty(n_file, np.int64)
    psv = np.empty(n_file, np.int64)
    keep = np.empty(max_alts + 1, np.bool_)
    w = 0
    for i in range(r):
        na = n_alts[i]
        if status[i] != PARSED or na == 0:
            continue
        ok = True
        # ALT tokens: '*', '<*>' and '<NON_REF>' get no row; an empty or '.' token is odd
        a, t = col[i, 4], 1
        b_end = col[i, 5] - 1
        for p in range(col[i, 4], b_end + 1):
            if p == b_end or buf[p] == 44:
                if p == a or (p - a == 1 and buf[a] == 46):
                    ok = False
                keep[t] = True
                for x in range(len(skip_len)):
                    if _same(buf, a, p, skip_tokens[x], skip_len[x]):
                        keep[t] = False
                t += 1
                a = p + 1
        keys, n_keys = _format_keys(buf, col[i, 8], col[i, 9] - 1, present)
        if n_file > 0 and keys[0] < 0:
            ok = False
        # samples
        j = 0
        p = col[i, 9]
        e = ends[i]
        while ok and n_file > 0:
            if j >= n_file:
                ok = False
                break
            a0[j], a1[j], phased[j] = -1, -2, True
            adv[j, :na + 1] = -1
            dpv[j], gqv[j], psv[j] = -1, -1, -1
            k, f = 0, p
            seen_gt = False
            q = p
            while True:
                end_sample = q == e or buf[q] == 9
                if end_sample or buf[q] == 58:
                    if k >= n_keys or q == f:
                        ok = False
                        break
                    if k == keys[0]:
                        seen_gt = True
                        # alleles: token (sep token)?, tokens '.' or digits, sep '/' or '|'
                        x = f
                        nal = 0
                        while True:
                            if buf[x] == 46:
                                val = -1
                                x += 1
                            else:
                                val = 0
                                d0 = x
                                while x < q and 48 <= buf[x] <= 57 and x - d0 < 5:
                                    val = val * 10 + (buf[x] - 48)
                                    x += 1
                                if x == d0 or val > na:
                                    ok = False
                                    break
                            if nal == 0:
                                a0[j] = val
                            elif nal == 1:
                                a1[j] = val
                            else:
                                ok = False
                                break
                            nal += 1
                            if x == q:
                                break
                            if buf[x] == 124:
                                phased[j] = True
                            elif buf[x] == 47:
                                phased[j] = False
                            else:
                                ok = False
                                break
                            x += 1
                            if x == q:
                                ok = False
                                break
                        if not ok:
                            break
                    elif k == keys[1]:
                        v_i, x = 0, f
                        for y in range(f, q + 1):
                            if y == q or buf[y] == 44:
                                v, good = _int(buf, x, y, present[0])
                                if not good:
                                    ok = False
                                    break
                                if v_i <= na:
                                    adv[j, v_i] = v
                                v_i += 1
                                x = y + 1
                        if not ok:
                            break
                    elif k == keys[2] or k == keys[3] or k == keys[4]:
                        field = 1 if k == keys[2] else (2 if k == keys[3] else 3)
                        v, good = _int(buf, f, q, present[field])
                        if not good:
                            ok = False
                            break
                        if field == 1:
                            dpv[j] = v
                        elif field == 2:
                            gqv[j] = v
                        else:
                            psv[j] = v
                    k += 1
                    f = q + 1
                if end_sample:
                    break
                q += 1
            if not ok:
                break
            if not seen_gt:
                ok = False
                break
            j += 1
            if q >= e:
                break
            p = q + 1
        if ok and j != n_file:
            ok = False
        if not ok:
            status[i] = FALLBACK
            continue
        # commit, as _add_record computes it on cyvcf2's (samples, ploidy + 1) array: a
        # haploid call's second allele is -2 (absent), a '.' allele -1 (missing)
        an = 0
        for j in range(n_file):
            if dest[j] >= 0:
                an += (a0[j] >= 0) + (a1[j] >= 0)
        for alt in range(1, na + 1):
            if not keep[alt]:
                continue
            o_record[w] = record_offset + i
            o_alt[w] = alt
            o_an[w] = an
            ac = 0
            for j in range(n_file):
                c = dest[j]
                if c < 0:
                    continue
                x0, x1 = a0[j], a1[j]
                count = (x0 == alt) + (x1 == alt)
                ac += count
                haploid = x1 == -2
                uncalled = x0 == -1 or x1 == -1
                no_call = x0 < 0 and x1 < 0
                g = count
                if haploid and count == 1:
                    g = 2
                if no_call or (uncalled and g == 0):
                    g = -1
                gt[w, c] = g
                if keys[1] >= 0:
                    ad_ref[w, c] = adv[j, 0]
                    ad_alt[w, c] = adv[j, alt]
                if keys[2] >= 0:
                    dp[w, c] = dpv[j]
                if keys[3] >= 0:
                    gq[w, c] = min(gqv[j], _GQ_MAX)
                if g == 1 and phased[j] and not haploid:
                    phase[w, c] = 1 if x0 == alt else 2
                    ps[w, c] = max(psv[j], 0) if keys[4] >= 0 else 1
            o_ac[w] = ac
            w += 1
    return (o_record[:w], o_alt[:w], o_ac[:w], o_an[:w], gt[:w], gq[:w], dp[:w], ad_ref[:w],
            ad_alt[:w], phase[:w], ps[:w])


# -- Python side --------------------------------------------------------------------------------

def format_fields(header: str) -> np.ndarray:
    """(4,) int64 per field of FIELDS: the most digits parsed for it (by its header Type),
    0 when the header does not declare it; Unsupported for a Type other than Integer/Float."""
    digits = np.zeros(len(FIELDS), np.int64)
    for i, name in enumerate(FIELDS):
        m = re.search(rf"##FORMAT=<ID={name},([^\n]*)", header)
        if not m:
            continue
        kind = re.search(r"Type=(\w+)", m.group(1))
        if not kind or kind.group(1) not in _DIGITS:
            raise Unsupported(f"FORMAT/{name} is declared {kind.group(1) if kind else '?'}")
        digits[i] = _DIGITS[kind.group(1)]
    return digits


def sample_columns(header_samples: list[str], samples: list[str] | None) -> np.ndarray:
    """(n_file,) int64 output column of each sample column of the file, -1 when not wanted."""
    if samples is None:
        return np.arange(len(header_samples), dtype=np.int64)
    where = {s: i for i, s in enumerate(header_samples)}
    missing = [s for s in samples if s not in where]
    if missing:
        raise InputError(f"samples not in the VCF: {', '.join(missing[:5])}",
                         hint="check the sample names against the VCF header")
    dest = np.full(len(header_samples), -1, np.int64)
    dest[[where[s] for s in samples]] = np.arange(len(samples))
    return dest


def parse_text(buf: np.ndarray, dest: np.ndarray, present: np.ndarray,
               record_offset: int = 0) -> ParsedCalls:
    """Parse complete VCF lines in ``buf`` ((bytes,) uint8 ending with a newline; header
    lines are skipped). ``dest``: see sample_columns; ``present``: see format_fields."""
    starts, ends = _lines(buf)
    col, n_alts, status = _columns(buf, starts, ends, len(dest))
    n_out = int((dest >= 0).sum())
    out = _calls(buf, starts, ends, col, n_alts, status, dest, n_out, present, _SKIP, _SKIP_LEN,
                 record_offset)
    raw = buf.tobytes()
    parsed = (status == PARSED).tolist()
    site = np.array([raw[s:e - 1] if ok else None for s, e, ok in
                     zip(col[:, 0].tolist(), col[:, 8].tolist(), parsed)], dtype=object)
    line = np.full(len(starts), None, dtype=object)
    for i in np.flatnonzero(status == FALLBACK).tolist():
        line[i] = raw[starts[i]:ends[i]]
    calls = dict(zip(("gt", "gq", "dp", "ad_ref", "ad_alt", "phase", "ps"), out[4:]))
    return ParsedCalls([], out[0], out[1], out[2], out[3], calls, status, n_alts, site, line)


def _blocks(path: Path, block_bytes: int):
    """Decompressed text of a (bgzipped or plain) VCF in pieces that end at a line end."""
    import pysam

    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    handle = pysam.BGZFile(str(path), "rb") if gzipped else open(path, "rb")
    rest = b""
    try:
        while True:
            block = handle.read(block_bytes)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut]
        if rest:
            yield rest + b"\n"
    finally:
        handle.close()


def _region_blocks(path: Path, contig: str, start: int | None, end: int | None,
                   block_bytes: int):
    """Decompressed text of the records of a tabix-indexed VCF that overlap ``contig``
    (``start``..``end``, 1-based inclusive, or all of it), in pieces of about ``block_bytes``
    that end at a line end; nothing when the index has no such contig (as htslib's query)."""
    import pysam

    # latin-1 maps every byte to one character and back, whatever the file's text holds
    with pysam.TabixFile(str(path), encoding="latin-1") as tabix:
        if contig not in tabix.contigs:
            return
        lines = tabix.fetch(contig) if start is None else tabix.fetch(contig, start - 1, end)
        batch, size = [], 0
        for line in lines:
            batch.append(line)
            size += len(line) + 1
            if size >= block_bytes:
                yield ("\n".join(batch) + "\n").encode("latin-1")
                batch, size = [], 0
        if batch:
            yield ("\n".join(batch) + "\n").encode("latin-1")


def _header(path: Path) -> str:
    import pysam

    lines = []
    with pysam.BGZFile(str(path), "rb") as handle:
        for raw in handle:
            text = raw.decode()
            if not text.startswith("#"):
                break
            lines.append(text.rstrip("\n"))
            if text.startswith("#CHROM"):
                break
    if not lines or not lines[-1].startswith("#CHROM"):
        raise InputError("no #CHROM header line", path=str(path), hint="give a VCF file")
    return "\n".join(lines)


def iter_blocks(path: str | Path, samples: list[str] | None = None,
                block_bytes: int = BLOCK_BYTES,
                region: tuple[str, int | None, int | None] | None = None):
    """ParsedCalls of a whole VCF (bgzipped or plain), one per block of ~``block_bytes`` of
    text; ``record`` numbers count from the start of the file. Memory stays at one block.

    With ``region`` (contig, start, end; 1-based inclusive, start/end None for the whole
    contig) only the records the tabix index returns for it are read (those overlapping it,
    as htslib's region query), numbered from the first of them; the file must be bgzipped
    and indexed.

    Raises Unsupported when the header types rule the reader out.
    """
    path = Path(path)
    header = _header(path)
    present = format_fields(header)
    header_samples = header.rsplit("\n", 1)[-1].split("\t")[9:]
    dest = sample_columns(header_samples, samples)
    names = samples if samples is not None else header_samples
    offset = 0
    blocks = _blocks(path, block_bytes) if region is None else \
        _region_blocks(path, *region, block_bytes)
    for block in blocks:
        part = parse_text(np.frombuffer(block, np.uint8), dest, present, offset)
        part.samples = names
        offset += len(part.status)
        yield part


def read_calls(path: str | Path, samples: list[str] | None = None,
               block_bytes: int = BLOCK_BYTES) -> ParsedCalls:
    """Every record of a whole VCF through the compiled reader, as one ParsedCalls.

    FALLBACK records are listed in the result (``line``) for the caller to read with cyvcf2.
    """
    parts = list(iter_blocks(path, samples, block_bytes))
    if not parts:
        return parse_text(np.frombuffer(b"\n", np.uint8), sample_columns(
            _header(Path(path)).rsplit("\n", 1)[-1].split("\t")[9:], samples),
            np.zeros(len(FIELDS), np.int64))
    cat = np.concatenate
    return ParsedCalls(
        parts[0].samples, cat([p.record for p in parts]), cat([p.alt_index for p in parts]),
        cat([p.ac for p in parts]), cat([p.an for p in parts]),
        {k: cat([p.calls[k] for p in parts]) for k in CALL_FIELDS},
        cat([p.status for p in parts]), cat([p.n_alts for p in parts]),
        cat([p.site for p in parts]), cat([p.line for p in parts]))
