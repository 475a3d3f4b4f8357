"""Compiled reader of VCF text: the call matrices and site columns without htslib.

The reader parses decompressed VCF text with numba kernels and produces, per record and per
ALT allele, exactly the arrays of :func:`heron.ingest.vcf._add_record`: gt int8 (alt-allele
count, a haploid alt call counts 2, -1 no-call or a partial call without this ALT),
ad_ref / ad_alt / dp int32 and gq int16 (-1 missing), phase int8 and ps int32, the callset
AC/AN, and the site columns: chromosome code, trimmed position and alleles, VEP allele,
FILTER, QUAL and the wanted INFO values of that ALT. The call matrices are written straight
into the caller's preallocated arrays (:class:`CallMatrices`), so a whole file's calls are
placed once, without per-block pieces joined later.

Anything it does not recognise — ploidy above two, an allele index beyond the ALTs, a
GT phasing prefix, signs, exponents, empty subfields, over-long numbers, a wrong number of
columns or subfields, CR line ends, a QUAL or INFO number that is not a plain decimal, an
INFO key given twice, a flag with a value — marks the record ``FALLBACK``: it has no rows
here and the caller reads that record with cyvcf2 instead. A record is never half-parsed.

FORMAT fields are found by name in each record's FORMAT column, so any order and any extra
fields (PL, PGT, PID, ...) are fine. Header types must be Integer or Float for AD/DP/GQ/PS
(Float values of up to 7 significant digits, which float32 keeps exactly, else the record
falls back); :func:`format_fields` raises :class:`Unsupported` otherwise.

Bgzipped text is decompressed with ISA-L (python-isal) when installed, else zlib; a region
of a tabix-indexed file is read from the index's virtual offsets, not line by line.
"""

from __future__ import annotations

import io
import itertools
import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from heron.errors import InputError
from heron.genome import chrom_code
from heron.store import CALL_FIELDS

try:
    from isal.igzip import IGzipFile as _GzipFile
except ImportError:  # python-isal is optional: zlib decompresses the same, about 3x slower
    from gzip import GzipFile as _GzipFile

# record status: PARSED has rows here (maybe none: ALT '.'), FALLBACK is for cyvcf2, SKIPPED
# lies outside the region or on a contig heron does not keep, NEW_CONTIG names a contig not
# yet in the contig table (the caller adds it and parses the block again)
PARSED, FALLBACK, SKIPPED, NEW_CONTIG = 0, 1, 2, 3
BLOCK_BYTES = 1 << 24
# text decompressed per read: the decompressor returns a new bytes object for each read,
# which for much larger reads is a fresh memory map every time
_READ_BYTES = 1 << 20
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
# contig selection of the kernel (else the index of the one contig wanted)
ALL_CONTIGS, PRIMARY_CONTIGS = -2, -1
# INFO field kinds and numbers as the kernel knows them
_FLOAT, _INTEGER, _FLAG, _STRING = 0, 1, 2, 3
_SHARED, _PER_ALT, _PER_ALLELE = 0, 1, 2
_KINDS = {"Float": _FLOAT, "Integer": _INTEGER, "Flag": _FLAG, "String": _STRING,
          "Character": _STRING}
# span start of an INFO value that is absent, and of a flag that is present
_ABSENT, _FLAG_SET = -1, -2
_N_SITE_SPANS = 4  # ref, alt, VEP allele, QUAL


class Unsupported(Exception):
    """The file's header declares a field with a type this reader does not parse."""


# -- kernels ------------------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _last_line_end(buf, n):
    """Index just past the last newline in ``buf[:n]``, 0 when there is none."""
    for i in range(n - 1, -1, -1):
        if buf[i] == 10:
            return i + 1
    return 0


# bytes looked at together for a newline before looking at each (lines are long)
_LINE_CHUNK = 64


@numba.njit(cache=True, nogil=True)
def _lines(buf):
    """(starts, ends) of the data lines of ``buf`` (header and empty lines skipped); ends
    exclude the newline. The text must end with a newline. One pass: a chunk's bytes are
    or-ed together (vectorised) and only a chunk holding a newline is looked at byte by
    byte; the arrays grow when the guess of their size is short."""
    size = len(buf)
    cap = size // 256 + 16
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    k, s = 0, 0
    for c0 in range(0, size, _LINE_CHUNK):
        c1 = min(c0 + _LINE_CHUNK, size)
        hits = np.uint8(0)
        for i in range(c0, c1):
            hits |= np.uint8(buf[i] == 10)
        if hits == 0:
            continue
        for i in range(c0, c1):
            if buf[i] == 10:
                if i > s and buf[s] != 35:
                    if k == len(starts):
                        starts = np.concatenate((starts, np.empty(len(starts), np.int64)))
                        ends = np.concatenate((ends, np.empty(len(ends), np.int64)))
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
def _same(buf, s, e, token, length):
    if e - s != length:
        return False
    for p in range(length):
        if buf[s + p] != token[p]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _sites(buf, col, status, contigs, contig_len, contig_code, want, lo, hi):
    """Contig (row of the contig table, -1 unknown) and POS of each record; status SKIPPED
    for records outside contig ``want`` (or ALL_CONTIGS / PRIMARY_CONTIGS) and ``lo..hi``,
    NEW_CONTIG for a contig not in the table, FALLBACK for a POS that is not a number."""
    r = len(status)
    contig = np.full(r, -1, np.int64)
    pos = np.zeros(r, np.int64)
    last = -1
    for i in range(r):
        if status[i] != PARSED:
            continue
        s, e = col[i, 0], col[i, 1] - 1
        t = -1
        if last >= 0 and _same(buf, s, e, contigs[last], contig_len[last]):
            t = last
        else:
            for c in range(len(contig_len)):
                if _same(buf, s, e, contigs[c], contig_len[c]):
                    t = c
                    break
        if t < 0:
            status[i] = NEW_CONTIG
            continue
        last = t
        contig[i] = t
        s, e = col[i, 1], col[i, 2] - 1
        v = 0
        if e <= s or e - s > 10:
            status[i] = FALLBACK
            continue
        for p in range(s, e):
            c = buf[p]
            if c < 48 or c > 57:
                v = -1
                break
            v = v * 10 + (c - 48)
        if v < 0 or v > 2147483647:
            status[i] = FALLBACK
            continue
        pos[i] = v
        if want == PRIMARY_CONTIGS and contig_code[t] == 0:
            status[i] = SKIPPED
        elif want >= 0 and (t != want or v < lo or v > hi):
            status[i] = SKIPPED
    return contig, pos


@numba.njit(cache=True, nogil=True)
def _is_number(buf, s, e, integer):
    """Whether buf[s:e] is a plain decimal: [+-]digits for an Integer field,
    [+-](digits[.digits]|.digits)([eE][+-]digits) for a Float; anything else (nan, inf,
    spaces, hex) goes to cyvcf2."""
    p = s
    if p < e and (buf[p] == 43 or buf[p] == 45):
        p += 1
    d0 = p
    while p < e and 48 <= buf[p] <= 57:
        p += 1
    digits = p - d0
    if integer:
        return p == e and 0 < digits <= 9
    if p < e and buf[p] == 46:
        p += 1
        f0 = p
        while p < e and 48 <= buf[p] <= 57:
            p += 1
        digits += p - f0
    if digits == 0:
        return False
    if p < e and (buf[p] == 101 or buf[p] == 69):
        p += 1
        if p < e and (buf[p] == 43 or buf[p] == 45):
            p += 1
        x0 = p
        while p < e and 48 <= buf[p] <= 57:
            p += 1
        if p == x0:
            return False
    return p == e


@numba.njit(cache=True, nogil=True)
def _info_spans(buf, s, e, names, name_len, kind, found):
    """``found`` (fields, 2): the value span of each wanted INFO key in buf[s:e] (_ABSENT
    when missing, _FLAG_SET for a flag); False when a key comes twice or a flag has a value
    or a valued field none."""
    found[:, :] = _ABSENT
    if e - s == 1 and buf[s] == 46:
        return True
    f = s
    for p in range(s, e + 1):
        if p == e or buf[p] == 59:
            k_end = f
            while k_end < p and buf[k_end] != 61:
                k_end += 1
            for x in range(len(name_len)):
                if _same(buf, f, k_end, names[x], name_len[x]):
                    if found[x, 0] != _ABSENT:
                        return False
                    if k_end == p:
                        if kind[x] != _FLAG:
                            return False
                        found[x, 0] = _FLAG_SET
                    else:
                        if kind[x] == _FLAG:
                            return False
                        found[x, 0], found[x, 1] = k_end + 1, p
                    break
            f = p + 1
    return True


@numba.njit(cache=True, nogil=True)
def _has_comma(buf, s, e):
    for p in range(s, e):
        if buf[p] == 44:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _element(buf, s, e, idx):
    """Span of the ``idx``-th comma-separated element of buf[s:e], (-1, -1) when absent or
    '.'."""
    k, f = 0, s
    for p in range(s, e + 1):
        if p == e or buf[p] == 44:
            if k == idx:
                if p - f == 1 and buf[f] == 46:
                    return -1, -1
                return f, p
            k += 1
            f = p + 1
    return -1, -1


@numba.njit(cache=True, nogil=True)
def _info_ok(buf, found, kind, number):
    """Whether the numbers of the found INFO values parse as such (every element of a list);
    a shared number with several values is left to cyvcf2 (it is an error there)."""
    for x in range(len(kind)):
        s, e = found[x, 0], found[x, 1]
        if s < 0 or kind[x] == _STRING:
            continue
        f = s
        for p in range(s, e + 1):
            if p == e or buf[p] == 44:
                if p < e and number[x] == _SHARED:
                    return False
                if not (p - f == 1 and buf[f] == 46) and \
                        not _is_number(buf, f, p, kind[x] == _INTEGER):
                    return False
                f = p + 1
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


# FORMAT subfields the sample scanner reads; what a subfield is comes from its FORMAT key
_GT, _AD, _DP, _GQ, _PS, _OTHER = 0, 1, 2, 3, 4, 5
# columns of the per-sample values: DP, GQ, PS, then AD of REF and of each ALT
_V_DP, _V_GQ, _V_PS, _V_AD = 0, 1, 2, 3
# most bytes the usual sample (GT:AD:DP:GQ, see _samples) is read from, with room to spare
_USUAL_BYTES = 24


@numba.njit(cache=True, nogil=True)
def _roles(keys, n_keys):
    """(n_keys,) int64 what each FORMAT subfield is: _GT, _AD, _DP, _GQ, _PS or _OTHER."""
    roles = np.full(n_keys, _OTHER, np.int64)
    for r in range(5):
        if keys[r] >= 0:
            roles[keys[r]] = r
    return roles


@numba.njit(cache=True, nogil=True, inline="always")
def _short_number(b0, b1, b2, b3):
    """(value, digits, next byte) of a number of one to three digits starting with byte b0
    of the four bytes b0..b3 (digits 0 when b0 is not a digit; the next byte is a digit when
    the number is longer). Flags and arithmetic, not conditionals, which LLVM makes
    branches on the number's length: most of the time spent on sample columns went to
    those mispredicted branches. Bytes, not the array, are passed: a call passing an array
    costs an atomic reference count each way."""
    d0, d1, d2 = b0 - 48, b1 - 48, b2 - 48
    two = np.int64((0 <= d1) & (d1 <= 9))
    three = two * np.int64((0 <= d2) & (d2 <= 9))
    n = np.int64((0 <= d0) & (d0 <= 9)) * (1 + two + three)
    v2 = d0 * 10 + d1
    return (d0 + two * (v2 - d0) + three * (v2 * 9 + d2), n,
            b1 + two * (b2 - b1) + three * (b3 - b2))


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _samples(buf, p, roles, gt_key, n_alts, present, a0, a1, phased, vals):
    """Read the sample columns from ``p`` to the line's newline in one pass over their
    bytes into the per-sample arrays (n_file,): alleles a0 / a1 int64 (-1 '.', a1 -2 for a
    haploid call), phased bool, and vals (n_file, 4 + n_alts) int64: DP, GQ, PS, AD of REF
    and of each ALT (-1 missing). False when a sample is not as the kernel takes it (see
    _parse); the arrays are then partly written.

    Numbers: '.' is -1; an Integer field (``present`` 9 digits) must be plain digits; a
    Float field (7) may have a fraction, cut off as the int32 cast of its float32 value
    does (exact for 7 significant digits); signs, exponents, longer numbers, empty text
    fail. Allele indices: '.' or up to 5 digits, not above ``n_alts``; at most two alleles.

    Written as one loop without calls: a call passing ``buf`` costs an atomic reference
    count each way, more than the bytes it reads. The newline that ends the line ends the
    last subfield, so no byte is compared with a line end position. Numbers of one to three
    digits and two one-digit alleles (most calls) are read from four bytes at once: a loop
    stopping at a varying length mispredicts a branch per number."""
    n_file, n_keys, n_buf = len(a0), len(roles), len(buf)
    na = np.int64(n_alts)
    width = _V_AD + na + 1
    usual = n_keys >= 4 and roles[0] == _GT and roles[1] == _AD and roles[2] == _DP and \
        roles[3] == _GQ and na == 1
    j = 0
    while True:
        if j >= n_file:
            return False
        k = 0
        c = 58
        if usual and p + _USUAL_BYTES <= n_buf:
            # a call of two one-digit alleles and four short numbers: read straight on, the
            # checks gathered into one flag; anything else is read again below
            x0, sep = np.int64(buf[p]) - 48, np.int64(buf[p + 1])
            x1 = np.int64(buf[p + 2]) - 48
            ok = (sep == 47) | (sep == 124)
            ok &= (0 <= x0) & (x0 <= 9) & (x0 <= na) & (0 <= x1) & (x1 <= 9) & (x1 <= na)
            ok &= buf[p + 3] == 58
            q = p + 4
            ref, n, after = _short_number(np.int64(buf[q]), np.int64(buf[q + 1]),
                                          np.int64(buf[q + 2]), np.int64(buf[q + 3]))
            ok &= (n > 0) & (after == 44)
            q += n + 1
            alt, n, after = _short_number(np.int64(buf[q]), np.int64(buf[q + 1]),
                                          np.int64(buf[q + 2]), np.int64(buf[q + 3]))
            ok &= (n > 0) & (after == 58)
            q += n + 1
            depth, n, after = _short_number(np.int64(buf[q]), np.int64(buf[q + 1]),
                                            np.int64(buf[q + 2]), np.int64(buf[q + 3]))
            ok &= (n > 0) & (after == 58)
            q += n + 1
            quality, n, after = _short_number(np.int64(buf[q]), np.int64(buf[q + 1]),
                                              np.int64(buf[q + 2]), np.int64(buf[q + 3]))
            ok &= (n > 0) & ((after == 58) | (after == 9) | (after == 10))
            if ok:
                a0[j], a1[j], phased[j] = x0, x1, sep == 124
                vals[j, _V_AD], vals[j, _V_AD + 1] = ref, alt
                vals[j, _V_DP], vals[j, _V_GQ], vals[j, _V_PS] = depth, quality, -1
                k, p, c = 4, q + n, after
                if c == 58:
                    p += 1
        if k == 0:
            a0[j], a1[j], phased[j] = -1, -2, True
            # element by element: a loop here becomes a call to memset, costly for 5 values
            vals[j, _V_DP], vals[j, _V_GQ], vals[j, _V_PS] = -1, -1, -1
            vals[j, _V_AD], vals[j, _V_AD + 1] = -1, -1
            for x in range(_V_AD + 2, width):
                vals[j, x] = -1
        while c == 58:
            c = np.int64(buf[p])
            if k >= n_keys or c == 58 or c == 9 or c == 10:  # one subfield too many, or empty
                return False
            role = roles[k]
            k += 1
            if role == _GT:
                if p + 4 <= n_buf:
                    sep = np.int64(buf[p + 1])
                    x0, x1 = c - 48, np.int64(buf[p + 2]) - 48
                    after = np.int64(buf[p + 3])
                    if (sep == 47 or sep == 124) and 0 <= x0 <= 9 and x0 <= na and \
                            0 <= x1 <= 9 and x1 <= na and (after == 58 or after == 9 or
                                                           after == 10):
                        a0[j], a1[j], phased[j] = x0, x1, sep == 124
                        p += 3
                        c = after
                        if c != 58:
                            break
                        p += 1
                        continue
                nal = 0
                while True:
                    if c == 46:
                        val = -1
                        p += 1
                    else:
                        val, d0 = 0, p
                        while 48 <= c <= 57 and p - d0 < 5:
                            val = val * 10 + c - 48
                            p += 1
                            c = np.int64(buf[p])
                        if p == d0 or val > na:
                            return False
                    if nal == 0:
                        a0[j] = val
                    elif nal == 1:
                        a1[j] = val
                    else:
                        return False
                    nal += 1
                    c = np.int64(buf[p])
                    if c == 124:
                        phased[j] = True
                    elif c == 47:
                        phased[j] = False
                    else:
                        break
                    p += 1
                    c = np.int64(buf[p])
            elif role == _OTHER:
                while not (c == 58 or c == 9 or c == 10):
                    p += 1
                    c = np.int64(buf[p])
            else:
                # AD is a list (values past the ALTs are read, not kept), the others one value
                digits = present[role - 1]
                at = _V_AD if role == _AD else role - _DP
                v_i = 0
                while True:
                    n = 0
                    if c == 46:
                        v, n = -1, 1
                        p += 1
                    elif p + 4 <= n_buf:
                        v, n, after = _short_number(c, np.int64(buf[p + 1]),
                                                    np.int64(buf[p + 2]), np.int64(buf[p + 3]))
                        # a fourth digit or a fraction: read byte by byte below
                        if (n > 0) & ((after < 48) | (after > 57)) & (after != 46):
                            p += n
                        else:
                            n = 0
                    if n == 0:
                        v = 0
                        while 48 <= c <= 57:
                            v = v * 10 + c - 48
                            n += 1
                            p += 1
                            c = np.int64(buf[p])
                        if n == 0:
                            return False
                        if c == 46 and digits == _FLOAT_DIGITS:
                            p += 1
                            c = np.int64(buf[p])
                            whole = n
                            while 48 <= c <= 57:
                                n += 1
                                p += 1
                                c = np.int64(buf[p])
                            if n == whole:
                                return False
                        if n > digits:
                            return False
                    if v_i == 0 or (role == _AD and v_i <= na):
                        vals[j, at + v_i] = v
                    c = np.int64(buf[p])
                    if c != 44:
                        break
                    if role != _AD:
                        return False
                    p += 1
                    c = np.int64(buf[p])
                    v_i += 1
            if c != 58:
                break
            p += 1
        # a subfield ended by anything but a separator, or a sample without its GT
        if not (c == 9 or c == 10) or k <= gt_key:
            return False
        j += 1
        if c == 10:
            return j == n_file
        p += 1


@numba.njit(cache=True, nogil=True)
def _site_ok(buf, col, i):
    """Whether REF, QUAL and FILTER are as the kernel takes them: REF not empty, QUAL '.' or
    a plain decimal, FILTER not empty; and FILTER is PASS or '.' (second value)."""
    if col[i, 4] - 1 <= col[i, 3]:
        return False, False
    s, e = col[i, 5], col[i, 6] - 1
    if not (e - s == 1 and buf[s] == 46) and not _is_number(buf, s, e, False):
        return False, False
    s, e = col[i, 6], col[i, 7] - 1
    if e <= s:
        return False, False
    passed = (e - s == 1 and buf[s] == 46) or (e - s == 4 and buf[s] == 80 and
                                               buf[s + 1] == 65 and buf[s + 2] == 83 and
                                               buf[s + 3] == 83)
    return True, passed


@numba.njit(cache=True, nogil=True)
def _parse(buf, col, n_alts, status, contig, pos, contig_code, dest, present,
           skip_tokens, skip_len, info_names, info_len, info_kind, info_number,
           gt, gq, dp, ad_ref, ad_alt, phase, ps, w0, limit):
    """Fill rows ``w0``.. of the call matrices with the per-ALT rows of every PARSED record;
    mark the records it cannot parse FALLBACK. Returns the per-row arrays (rows,): record
    (row of the block), alt_index, ac, an, chrom, pos (trimmed), n_alts, filter_pass, the
    spans (rows, 4 + 2 * fields) int64 of ref, alt, VEP allele, QUAL and each INFO value
    (start -1: absent; an empty VEP span means '-'; start _FLAG_SET: a flag), and the
    overflow bits: bit b set when a value of _CHECKED[b] exceeded ``limit[b]`` (int64 (4,)),
    so its matrix must be widened and the block read again."""
    r = len(status)
    n_file = len(dest)
    n_info = len(info_len)
    rows = 0
    for i in range(r):
        if status[i] == PARSED:
            rows += n_alts[i]
    o_record = np.empty(rows, np.int64)
    o_alt = np.empty(rows, np.int16)
    o_ac = np.zeros(rows, np.int32)
    o_an = np.zeros(rows, np.int32)
    o_chrom = np.empty(rows, np.int8)
    o_pos = np.empty(rows, np.int32)
    o_n_alts = np.empty(rows, np.int16)
    o_pass = np.empty(rows, np.bool_)
    o_span = np.empty((rows, 2 * (_N_SITE_SPANS + n_info)), np.int64)
    max_alts = 1
    for i in range(r):
        max_alts = max(max_alts, n_alts[i])
    a0 = np.empty(n_file, np.int64)
    a1 = np.empty(n_file, np.int64)
    phased = np.empty(n_file, np.bool_)
    vals = np.empty((n_file, _V_AD + max_alts + 1), np.int64)
    keep = np.empty(max_alts + 1, np.bool_)
    tok_s = np.empty(max_alts + 1, np.int64)
    tok_e = np.empty(max_alts + 1, np.int64)
    found = np.empty((n_info, 2), np.int64)
    w = 0
    overflow = 0
    for i in range(r):
        na = n_alts[i]
        if status[i] != PARSED or na == 0:
            continue
        ok, passed = _site_ok(buf, col, i)
        if ok:
            ok = _info_spans(buf, col[i, 7], col[i, 8] - 1, info_names, info_len, info_kind,
                             found) and _info_ok(buf, found, info_kind, info_number)
        # allele tokens: 0 is REF; '*', '<*>' and '<NON_REF>' get no row; an empty or '.'
        # ALT token is odd
        tok_s[0], tok_e[0] = col[i, 3], col[i, 4] - 1
        a, t = col[i, 4], 1
        b_end = col[i, 5] - 1
        for p in range(col[i, 4], b_end + 1):
            if p == b_end or buf[p] == 44:
                if p == a or (p - a == 1 and buf[a] == 46):
                    ok = False
                tok_s[t], tok_e[t] = a, p
                keep[t] = True
                for x in range(len(skip_len)):
                    if _same(buf, a, p, skip_tokens[x], skip_len[x]):
                        keep[t] = False
                t += 1
                a = p + 1
        keys, n_keys = _format_keys(buf, col[i, 8], col[i, 9] - 1, present)
        if n_file > 0 and keys[0] < 0:
            ok = False
        if ok and n_file > 0:
            ok = _samples(buf, col[i, 9], _roles(keys, n_keys), keys[0], na, present, a0,
                          a1, phased, vals)
        if not ok:
            status[i] = FALLBACK
            continue
        # VEP drops the first base when every allele shares it and the lengths differ
        first, length = buf[tok_s[0]], tok_e[0] - tok_s[0]
        shared, differ = True, False
        for x in range(1, na + 1):
            shared = shared and buf[tok_s[x]] == first
            differ = differ or tok_e[x] - tok_s[x] != length
        vep_cut = 1 if shared and differ else 0
        # commit, as _add_record computes it on cyvcf2's (samples, ploidy + 1) array: a
        # haploid call's second allele is -2 (absent), a '.' allele -1 (missing)
        an = 0
        for j in range(n_file):
            if dest[j] >= 0:
                an += (a0[j] >= 0) + (a1[j] >= 0)
        for alt in range(1, na + 1):
            if not keep[alt]:
                continue
            o_record[w] = i
            o_alt[w] = alt
            o_an[w] = an
            o_chrom[w] = contig_code[contig[i]]
            o_n_alts[w] = na
            o_pass[w] = passed
            # minimal representation: shared trailing, then shared leading bases dropped
            rs, re_, xs, xe, tp = tok_s[0], tok_e[0], tok_s[alt], tok_e[alt], pos[i]
            while re_ - rs > 1 and xe - xs > 1 and buf[re_ - 1] == buf[xe - 1]:
                re_ -= 1
                xe -= 1
            while re_ - rs > 1 and xe - xs > 1 and buf[rs] == buf[xs]:
                rs += 1
                xs += 1
                tp += 1
            o_pos[w] = tp
            sp = o_span[w]
            sp[0], sp[1], sp[2], sp[3] = rs, re_, xs, xe
            sp[4], sp[5] = tok_s[alt] + vep_cut, tok_e[alt]
            sp[6], sp[7] = col[i, 5], col[i, 6] - 1
            if sp[7] - sp[6] == 1 and buf[sp[6]] == 46:
                sp[6] = sp[7] = -1
            for x in range(n_info):
                s_, e_ = found[x, 0], found[x, 1]
                # per-ALT/allele numbers given as one value are shared by every ALT (as
                # htslib's scalar reaches heron's cyvcf2 reader); lists are indexed
                if s_ >= 0 and info_number[x] != _SHARED and (
                        info_kind[x] == _STRING or _has_comma(buf, s_, e_)):
                    s_, e_ = _element(buf, s_, e_, alt - 1 if info_number[x] == _PER_ALT
                                      else alt)
                elif s_ >= 0 and info_kind[x] != _STRING and e_ - s_ == 1 and buf[s_] == 46:
                    s_, e_ = -1, -1
                sp[8 + 2 * x], sp[9 + 2 * x] = s_, e_
            ac = 0
            row = w0 + w
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
                gt[row, c] = g
                v_ref, v_alt, v_dp = vals[j, _V_AD], vals[j, _V_AD + alt], vals[j, _V_DP]
                v_gq = min(vals[j, _V_GQ], _GQ_MAX)
                if max(v_ref, v_alt) > limit[0]:
                    overflow |= 1
                if v_dp > limit[1]:
                    overflow |= 2
                if v_gq > limit[2]:
                    overflow |= 4
                ad_ref[row, c] = v_ref
                ad_alt[row, c] = v_alt
                dp[row, c] = v_dp
                gq[row, c] = v_gq
                # phase and ps start zeroed (see CallMatrices): their untouched pages
                # cost nothing
                if g == 1 and phased[j] and not haploid:
                    phase[row, c] = 1 if x0 == alt else 2
                    v_ps = max(vals[j, _V_PS], 0) if keys[4] >= 0 else 1
                    if v_ps > limit[3]:
                        overflow |= 8
                    ps[row, c] = v_ps
            o_ac[w] = ac
            w += 1
    return (o_record[:w], o_alt[:w], o_ac[:w], o_an[:w], o_chrom[:w], o_pos[:w],
            o_n_alts[:w], o_pass[:w], o_span[:w], overflow)


@numba.njit(cache=True, nogil=True)
def _gather(buf, start, end, dash):
    """(n, longest) uint8 of the spans buf[start:end] (empty for start < 0; '-' for an
    empty span when ``dash``), to be viewed as a numpy bytes array."""
    n = len(start)
    width = 1
    for i in range(n):
        if start[i] >= 0:
            width = max(width, end[i] - start[i])
    out = np.zeros((n, width), np.uint8)
    for i in range(n):
        s = start[i]
        if s < 0:
            continue
        if dash and end[i] == s:
            out[i, 0] = 45
        for p in range(s, end[i]):
            out[i, p - s] = buf[p]
    return out


# -- header -------------------------------------------------------------------------------------

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


def _padded(names: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Names as one zero-padded (names, longest) uint8 matrix and their (names,) lengths."""
    out = np.zeros((len(names), max([1, *map(len, names)])), np.uint8)
    for i, name in enumerate(names):
        out[i, :len(name)] = np.frombuffer(name, np.uint8)
    return out, np.array([len(n) for n in names], np.int64)


class Contigs:
    """The contig table the kernel matches CHROM against: header contigs first, then any
    contig met in the records; each with its heron chromosome code (0 not kept)."""

    def __init__(self, header: str):
        self.names: list[str] = []
        self.add(re.findall(r"^##contig=<ID=([^,>]+)", header, re.M))

    def add(self, names) -> None:
        self.names += [n for n in dict.fromkeys(names) if n not in self.names]
        self.table, self.lengths = _padded([n.encode("latin-1") for n in self.names])
        self.codes = np.array([chrom_code(n) for n in self.names], np.int8)

    def index(self, name: str) -> int:
        """Row of ``name``, added when new."""
        if name not in self.names:
            self.add([name])
        return self.names.index(name)


@dataclass
class Fields:
    """What the kernel reads of each record, from the header and the caller's wishes.

    present (4,) int64: see format_fields; dest (n_file,) int64: see sample_columns; info:
    the wanted INFO fields with kind (_FLOAT/_INTEGER/_FLAG/_STRING) and number
    (_SHARED/_PER_ALT/_PER_ALLELE) as (fields,) int64 each.
    """

    present: np.ndarray
    dest: np.ndarray
    info: list[str]
    info_kind: np.ndarray
    info_number: np.ndarray

    @property
    def n_out(self) -> int:
        return int((self.dest >= 0).sum())

    @classmethod
    def from_header(cls, header: str, samples: list[str] | None,
                    info: list[str] = (), strings: list[str] = ()) -> "Fields":
        """Fields of a file's header; ``info``: INFO fields kept as numbers, ``strings``: as
        text. Unsupported when a type rules the reader out."""
        kinds, numbers = [], []
        for name in list(info) + list(strings):
            m = re.search(rf"##INFO=<ID={re.escape(name)},Number=([^,]+),Type=(\w+)", header)
            if not m or m.group(2) not in _KINDS:
                raise Unsupported(f"INFO/{name} is declared {m.group(2) if m else '?'}")
            kind = _KINDS[m.group(2)]
            if (name in strings) != (kind == _STRING):
                raise Unsupported(f"INFO/{name} is {m.group(2)}, read as "
                                  f"{'text' if name in strings else 'a number'}")
            kinds.append(kind)
            numbers.append({"A": _PER_ALT, "R": _PER_ALLELE}.get(m.group(1), _SHARED))
        header_samples = header.rstrip("\n").rsplit("\n", 1)[-1].split("\t")[9:]
        return cls(format_fields(header), sample_columns(header_samples, samples),
                   list(info) + list(strings), np.array(kinds, np.int64),
                   np.array(numbers, np.int64))


# -- blocks -------------------------------------------------------------------------------------

def _zeroed(rows: int, columns: int, dtype) -> np.ndarray:
    """A zeroed (rows, columns) array in its own anonymous memory map: a page is taken only
    when first written (rows never reached cost nothing), and as a small page — numpy asks
    for huge pages, whose first touch costs several times more on virtual machines."""
    size = rows * columns
    memory = mmap.mmap(-1, max(size * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(memory, dtype, size).reshape(rows, columns)


# The reader's first guess at each call matrix's type: what exomes and genomes need (depths
# and GQ below 16,384). A block holding a larger value widens its matrix and is read again.
READ_DTYPES = {"gt": np.int8, "gq": np.int16, "dp": np.int16, "ad_ref": np.int16,
               "ad_alt": np.int16, "phase": np.int8, "ps": np.int32}
# the fields the kernel checks, in the order of its overflow bits
_CHECKED = ("ad_ref", "dp", "gq", "ps")


def _cut_npy(path: Path, offset: int, dtype: np.dtype, shape: tuple[int, int]) -> None:
    """Make the C-order .npy file ``path`` (header of ``offset`` bytes) hold its first
    ``shape[0]`` rows: a header of the same length with the new shape, the rest cut off."""
    header = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                   "shape": tuple(int(x) for x in shape)})
    prefix = np.lib.format.magic(1, 0) + struct.pack("<H", offset - 10)
    text = header.ljust(offset - 10 - 1).encode("latin1") + b"\n"
    if len(prefix) + len(text) != offset:
        raise ValueError(f"{path}: a header of {offset} bytes cannot hold shape {shape}")
    with open(path, "r+b") as handle:
        handle.write(prefix + text)
        handle.truncate(offset + int(np.prod(shape)) * dtype.itemsize)


class CallMatrices:
    """The call matrices of the rows read so far, (capacity, n_samples) each, allocated once
    (zeroed) and grown (by copying) only when a block needs more rows than are left.

    Each starts in its READ_DTYPES type and is widened to heron.store.CALL_FIELDS' when a
    value does not fit: values stay at most half the type's maximum, as heron.store.narrowest
    keeps them, so the store saves these matrices without widening them."""

    def __init__(self, n_samples: int, capacity: int, growth: float = 1.5,
                 folder: Path | None = None):
        self.rows, self.growth, self.folder = 0, growth, folder
        self.files: dict[str, Path] = {}
        self._made = itertools.count()  # every file a new name: an old one may still be mapped
        self.arrays = {k: self._new(k, max(capacity, 1), n_samples, t)
                       for k, t in READ_DTYPES.items()}

    def _new(self, name: str, rows: int, columns: int, dtype) -> np.ndarray:
        """A zeroed matrix: anonymous memory, or with ``folder`` a (sparse) .npy file there,
        so that the matrices the reader fills are the files the store keeps."""
        if self.folder is None:
            return _zeroed(rows, columns, dtype)
        old = self.files.get(name)
        path = self.folder / f"{name}.{next(self._made)}.npy"
        self.files[name] = path
        if old is not None:
            old.unlink()  # mapped data stays readable until the copy below is done
        return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(rows, columns))

    def finish(self) -> dict[str, np.ndarray]:
        """The filled rows of each matrix. File-backed matrices are cut to those rows (their
        .npy header rewritten, the file truncated) and mapped again, so each is exactly the
        array of its file (``files``)."""
        if self.folder is None:
            return self.taken()
        out = {}
        for k, arr in self.arrays.items():
            arr.flush()
            offset, dtype, width = arr.offset, arr.dtype, arr.shape[1]
            del arr
            _cut_npy(self.files[k], offset, dtype, (self.rows, width))
            out[k] = np.load(self.files[k], mmap_mode="r+")
        self.arrays = out
        return dict(out)

    def limits(self) -> np.ndarray:
        """int64 (4,): the largest value each of _CHECKED may hold (ad_alt shares ad_ref's);
        none once a matrix has its widest type."""
        return np.array([np.iinfo(np.int64).max if self.arrays[k].dtype == CALL_FIELDS[k]
                         else np.iinfo(self.arrays[k].dtype).max // 2 for k in _CHECKED],
                        np.int64)

    def widen(self, overflow: int) -> None:
        """Widen the matrices whose bit is set in ``overflow`` (the kernel's) to CALL_FIELDS'
        types, keeping the rows read."""
        names = [k for bit, k in enumerate(_CHECKED) if overflow >> bit & 1]
        names += ["ad_alt"] if "ad_ref" in names else []
        for k in names:
            old = self.arrays[k]
            wide = self._new(k, len(old), old.shape[1], CALL_FIELDS[k])
            wide[:self.rows] = old[:self.rows]
            self.arrays[k] = wide

    def append(self, calls: dict[str, np.ndarray]) -> None:
        """Add rows read elsewhere (the cyvcf2 reader's, (rows, n_samples) per field),
        widening a matrix their values do not fit."""
        n = len(calls["gt"])
        self.reserve(n)
        limits = self.limits()
        overflow = 0
        for bit, k in enumerate(_CHECKED):
            names = (k, "ad_alt") if k == "ad_ref" else (k,)
            if any(calls[x].size and int(calls[x].max()) > limits[bit] for x in names):
                overflow |= 1 << bit
        self.widen(overflow)
        for k, arr in self.arrays.items():
            arr[self.rows:self.rows + n] = calls[k]
        self.rows += n

    def reserve(self, more: int) -> None:
        capacity = len(self.arrays["gt"])
        if self.rows + more <= capacity:
            return
        new = max(self.rows + more, int(capacity * self.growth) + 1024)
        for k, old in self.arrays.items():
            grown = self._new(k, new, old.shape[1], old.dtype)
            grown[:self.rows] = old[:self.rows]
            self.arrays[k] = grown
            del old

    def taken(self) -> dict[str, np.ndarray]:
        """The filled rows of each matrix (views)."""
        return {k: v[:self.rows] for k, v in self.arrays.items()}


@dataclass
class Block:
    """What one block of text gave: its records (numbered from ``offset``), and the rows it
    wrote to the call matrices (rows ``first``..``first + len(record)``).

    Per record (records,): status int8, contig int64 (row of the contig table, -1 unknown),
    record_pos int64 (the file's POS), record_alts int16 (ALTs, 0 for '.'), line object (the text of FALLBACK records, else None).
    Per row (rows,): record int64 (counting every data line of the text read), alt_index
    int16, ac/an int32, chrom int8, pos int32 (trimmed), n_alts int16, filter_pass bool,
    qual float32 (NaN missing), and ``values``: ref, alt, vep_allele bytes ``S`` and
    ``info.<name>`` (float32, NaN missing; bytes for text fields, b"" missing).
    """

    first: int
    offset: int
    status: np.ndarray
    contig: np.ndarray
    record_pos: np.ndarray
    record_alts: np.ndarray
    line: np.ndarray
    record: np.ndarray
    alt_index: np.ndarray
    ac: np.ndarray
    an: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    n_alts: np.ndarray
    filter_pass: np.ndarray
    qual: np.ndarray
    values: dict[str, np.ndarray]


def _numbers(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """float32 of number spans (NaN where start is -1; 1.0 where it is _FLAG_SET). The text
    is converted as htslib does: to the nearest double, then to float32."""
    out = np.full(len(start), np.nan, np.float32)
    out[start == _FLAG_SET] = 1.0
    have = start >= 0
    if have.any():
        text = _gather(buf, start[have], end[have], False)
        out[have] = text.view(f"S{text.shape[1]}").ravel().astype(np.float64)
    return out


def span_texts(buf: np.ndarray, start: np.ndarray, end: np.ndarray, dash: bool) -> np.ndarray:
    """(n,) bytes (``S``, as wide as the longest) of the spans buf[start:end]: b"" where start
    is negative; b"-" for an empty span when ``dash``."""
    text = _gather(buf, start, end, dash)
    return text.view(f"S{text.shape[1]}").ravel()


def parse_block(buf: np.ndarray, fields: Fields, contigs: Contigs, out: CallMatrices,
                record_offset: int = 0, want: int = PRIMARY_CONTIGS, lo: int = 0,
                hi: int = 2 ** 31) -> Block:
    """Parse the complete VCF lines in ``buf`` ((bytes,) uint8 ending with a newline; header
    lines skipped) into ``out`` (rows from ``out.rows``, which it advances) and a Block.

    ``want``: ALL_CONTIGS, PRIMARY_CONTIGS (records on contigs heron does not keep are
    SKIPPED) or the row in ``contigs`` of the one contig read, then only POS ``lo..hi``.
    Contigs not in ``contigs`` are added to it.
    """
    starts, ends = _lines(buf)
    col, n_alts, status0 = _columns(buf, starts, ends, len(fields.dest))
    while True:
        status = status0.copy()
        contig, pos = _sites(buf, col, status, contigs.table, contigs.lengths, contigs.codes,
                             want, lo, hi)
        new = np.flatnonzero(status == NEW_CONTIG)
        if not len(new):
            break
        contigs.add([buf[col[i, 0]:col[i, 1] - 1].tobytes().decode("latin-1")
                     for i in new.tolist()])
    bound = int(n_alts[status == PARSED].sum())
    out.reserve(bound)
    info_names, info_len = _padded([n.encode() for n in fields.info])
    while True:
        c, parsed = out.arrays, status.copy()
        (record, alt_index, ac, an, chrom, row_pos, row_n_alts, passed, span,
         overflow) = _parse(buf, col, n_alts, parsed, contig, pos, contigs.codes,
                            fields.dest, fields.present, _SKIP, _SKIP_LEN, info_names,
                            info_len, fields.info_kind, fields.info_number, c["gt"], c["gq"],
                            c["dp"], c["ad_ref"], c["ad_alt"], c["phase"], c["ps"], out.rows,
                            out.limits())
        if not overflow:
            break
        out.widen(overflow)
    status = parsed
    first = out.rows
    out.rows += len(record)
    values = {"ref": span_texts(buf, span[:, 0], span[:, 1], False),
              "alt": span_texts(buf, span[:, 2], span[:, 3], False),
              "vep_allele": span_texts(buf, span[:, 4], span[:, 5], True)}
    for x, name in enumerate(fields.info):
        s, e = span[:, 8 + 2 * x], span[:, 9 + 2 * x]
        values[f"info.{name}"] = span_texts(buf, s, e, False) if fields.info_kind[x] == _STRING \
            else _numbers(buf, s, e)
    line = np.full(len(starts), None, dtype=object)
    for i in np.flatnonzero(status == FALLBACK).tolist():
        line[i] = buf[starts[i]:ends[i]].tobytes()
    return Block(first, record_offset, status, contig, pos, n_alts, line, record + record_offset, alt_index, ac, an,
                 chrom, row_pos, row_n_alts, passed, _numbers(buf, span[:, 6], span[:, 7]),
                 values)


# -- text ---------------------------------------------------------------------------------------

def _text_blocks(stream, block_bytes: int, whole_lines: bool = False):
    """Pieces of the text of ``stream`` (a binary file object) that end at a line end, as
    views of one reused (bytes,) uint8 buffer: each is valid until the next is asked for.
    A last line without a line end is kept (ended), or dropped when ``whole_lines`` (the
    text stops mid-line)."""
    buf = np.empty(block_bytes, np.uint8)
    fill = 0
    while True:
        got = stream.readinto(memoryview(buf)[fill:fill + _READ_BYTES])
        fill += got
        if got and fill < len(buf):
            continue
        if not got:
            break
        cut = _last_line_end(buf, fill)
        if cut == 0:  # a line longer than the buffer
            buf = np.concatenate((buf, np.empty(len(buf), np.uint8)))
            continue
        yield buf[:cut]
        fill -= cut
        buf[:fill] = buf[cut:cut + fill].copy()
    if whole_lines:
        fill = _last_line_end(buf, fill)
    if fill:
        if buf[fill - 1] != 10:
            if fill == len(buf):
                buf = np.concatenate((buf, np.empty(1, np.uint8)))
            buf[fill] = 10
            fill += 1
        yield buf[:fill]


def _gzipped(path: Path) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def file_blocks(path: str | Path, block_bytes: int = BLOCK_BYTES):
    """The text of a whole (bgzipped or plain) VCF, header included, in pieces that end at a
    line end (see _text_blocks)."""
    path = Path(path)
    with open(path, "rb") as raw:
        stream = _GzipFile(fileobj=raw) if _gzipped(path) else raw
        yield from _text_blocks(stream, block_bytes)


class _Span(io.RawIOBase):
    """The bytes of a file from its current position up to ``size`` more."""

    def __init__(self, raw, size: int):
        self.raw, self.left = raw, size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        want = min(len(b), self.left)
        if want <= 0:
            return 0
        got = self.raw.readinto(memoryview(b)[:want])
        self.left -= got
        return got


def range_blocks(path: str | Path, start: int, end: int, block_bytes: int = BLOCK_BYTES):
    """The text of a bgzipped file from virtual offset ``start`` to the end of the BGZF block
    at virtual offset ``end``, whole lines only (see _text_blocks)."""
    with open(path, "rb") as raw:
        raw.seek(end >> 16)
        head = raw.read(18)
        last = struct.unpack("<H", head[16:18])[0] + 1 if len(head) == 18 else 0
        raw.seek(start >> 16)
        stream = _GzipFile(fileobj=io.BufferedReader(_Span(raw, (end >> 16) - (start >> 16)
                                                           + last)))
        skip = start & 0xFFFF
        while skip:
            skip -= len(stream.read(skip))
        yield from _text_blocks(stream, block_bytes, whole_lines=True)


@dataclass
class ContigIndex:
    """A contig's records in a tabix index: virtual offsets of its first and last BGZF
    block, and the linear index ((windows,) uint64: the first record overlapping each 16 kb
    window)."""

    start: int
    end: int
    linear: np.ndarray

    def first(self, pos: int) -> int:
        """Virtual offset to read from for the records at ``pos`` (1-based) and after."""
        if not len(self.linear):
            return self.start
        return max(self.start, int(self.linear[min((pos - 1) >> 14, len(self.linear) - 1)]))


def tabix_index(path: str | Path) -> dict[str, ContigIndex] | None:
    """Contig → ContigIndex of ``path``.tbi; None when there is no .tbi (or it is not one)."""
    tbi = Path(f"{path}.tbi")
    if not tbi.exists():
        return None
    with open(tbi, "rb") as raw:
        data = _GzipFile(fileobj=raw).read()
    if data[:4] != b"TBI\x01":
        return None
    n_ref = struct.unpack_from("<i", data, 4)[0]
    l_nm = struct.unpack_from("<i", data, 32)[0]
    names = data[36:36 + l_nm].split(b"\0")[:n_ref]
    at = 36 + l_nm
    out = {}
    for name in names:
        n_bin = struct.unpack_from("<i", data, at)[0]
        at += 4
        begs, ends = [], []
        for _ in range(n_bin):
            bin_id, n_chunk = struct.unpack_from("<Ii", data, at)
            at += 8
            chunks = np.frombuffer(data, np.uint64, 2 * n_chunk, at)
            at += 16 * n_chunk
            if bin_id != 37450:  # the pseudo-bin holds counts, not records
                begs.append(chunks[0::2])
                ends.append(chunks[1::2])
        n_intv = struct.unpack_from("<i", data, at)[0]
        linear = np.frombuffer(data, np.uint64, n_intv, at + 4).copy()
        at += 4 + 8 * n_intv
        if begs:
            out[name.decode("latin-1")] = ContigIndex(int(np.concatenate(begs).min()),
                                                      int(np.concatenate(ends).max()), linear)
    return out


def region_text(path: str | Path, contig: str, start: int | None, end: int | None,
                block_bytes: int = BLOCK_BYTES):
    """Text holding the records of a bgzipped, tabix-indexed VCF on ``contig`` (from
    ``start``, 1-based, when given): through the .tbi's offsets (the text may hold neighbours
    of the region, for the caller to skip, and the reader may stop once past it), else
    through htslib's query of a .csi, line by line. Nothing when the index has no such
    contig."""
    index = tabix_index(path)
    if index is not None:
        if contig in index:
            where = index[contig]
            yield from range_blocks(path, where.first(start or 1), where.end, block_bytes)
        return
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
                yield np.frombuffer(("\n".join(batch) + "\n").encode("latin-1"), np.uint8)
                batch, size = [], 0
        if batch:
            yield np.frombuffer(("\n".join(batch) + "\n").encode("latin-1"), np.uint8)


def header_text(path: str | Path) -> str:
    """The header lines of a (bgzipped or plain) VCF, up to #CHROM."""
    lines = []
    with open(path, "rb") as raw:
        stream = _GzipFile(fileobj=raw) if _gzipped(Path(path)) else raw
        for line in stream:
            text = line.decode("latin-1")
            if not text.startswith("#"):
                break
            lines.append(text.rstrip("\r\n"))
            if text.startswith("#CHROM"):
                break
    if not lines or not lines[-1].startswith("#CHROM"):
        raise InputError("no #CHROM header line", path=str(path), hint="give a VCF file")
    return "\n".join(lines)


# -- the calls alone (benchmarks, tests) --------------------------------------------------------

@dataclass
class ParsedCalls:
    """Calls of the records of some VCF text, every contig kept.

    Per row (one per kept ALT allele of each parsed record), shape (rows,): record int64
    (index of the record, counting every data line from 0), alt_index int16 (1-based), ac /
    an int32. Per row and sample, shape (rows, n_samples): gt, gq, dp, ad_ref, ad_alt,
    phase, ps with the dtypes of heron.store.CALL_FIELDS. Per record, shape (records,):
    status int8 (PARSED or FALLBACK), n_alts int16 (as the kernel counts them: 0 for '.'),
    line object (the whole line for FALLBACK records, else None).
    """

    samples: list[str]
    record: np.ndarray
    alt_index: np.ndarray
    ac: np.ndarray
    an: np.ndarray
    calls: dict[str, np.ndarray]
    status: np.ndarray
    n_alts: np.ndarray
    line: np.ndarray

    @property
    def fallback(self) -> int:
        return int((self.status == FALLBACK).sum())


def parse_text(buf: np.ndarray, dest: np.ndarray, present: np.ndarray,
               record_offset: int = 0) -> ParsedCalls:
    """The calls of the complete VCF lines in ``buf`` ((bytes,) uint8 ending with a newline;
    header lines are skipped). ``dest``: see sample_columns; ``present``: see format_fields."""
    fields = Fields(present, dest, [], np.zeros(0, np.int64), np.zeros(0, np.int64))
    out = CallMatrices(fields.n_out, 1024)
    block = parse_block(buf, fields, Contigs(""), out, record_offset, ALL_CONTIGS)
    return ParsedCalls([], block.record, block.alt_index, block.ac, block.an, out.taken(),
                       block.status, block.record_alts, block.line)


def iter_blocks(path: str | Path, samples: list[str] | None = None,
                block_bytes: int = BLOCK_BYTES,
                region: tuple[str, int | None, int | None] | None = None):
    """ParsedCalls of a whole VCF (bgzipped or plain), one per block of ~``block_bytes`` of
    text; ``record`` numbers count from the start of the file (of the region's text with
    ``region``: contig, start, end, 1-based inclusive, start/end None for the whole contig;
    then only records in it are kept, the others are SKIPPED). Raises Unsupported when the
    header types rule the reader out."""
    header = header_text(path)
    fields = Fields.from_header(header, samples)
    header_samples = header.rsplit("\n", 1)[-1].split("\t")[9:]
    names = samples if samples is not None else header_samples
    contigs = Contigs(header)
    want, lo, hi = ALL_CONTIGS, 0, 2 ** 31
    if region is None:
        texts = file_blocks(path, block_bytes)
    else:
        texts = region_text(path, *region, block_bytes)
        want, lo, hi = contigs.index(region[0]), region[1] or 0, region[2] or 2 ** 31
    offset = 0
    for buf in texts:
        out = CallMatrices(fields.n_out, 1024)
        block = parse_block(buf, fields, contigs, out, offset, want, lo, hi)
        offset += len(block.status)
        yield ParsedCalls(names, block.record, block.alt_index, block.ac, block.an,
                          out.taken(), block.status, block.record_alts, block.line)


def read_calls(path: str | Path, samples: list[str] | None = None,
               block_bytes: int = BLOCK_BYTES) -> ParsedCalls:
    """Every record of a whole VCF through the compiled reader, as one ParsedCalls.

    FALLBACK records are listed in the result (``line``) for the caller to read with cyvcf2.
    """
    parts = list(iter_blocks(path, samples, block_bytes))
    if not parts:
        return parse_text(np.frombuffer(b"\n", np.uint8), sample_columns(
            header_text(path).rsplit("\n", 1)[-1].split("\t")[9:], samples),
            np.zeros(len(FIELDS), np.int64))
    cat = np.concatenate
    return ParsedCalls(
        parts[0].samples, cat([p.record for p in parts]), cat([p.alt_index for p in parts]),
        cat([p.ac for p in parts]), cat([p.an for p in parts]),
        {k: cat([p.calls[k] for p in parts]) for k in CALL_FIELDS},
        cat([p.status for p in parts]), cat([p.n_alts for p in parts]),
        cat([p.line for p in parts]))
