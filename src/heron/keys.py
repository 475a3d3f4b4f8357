"""Stable 64-bit variant keys.

A key packs the chromosome code (6 bits), the position (29 bits) and a 29-bit code of the
alleles, so sorting keys sorts variants in genome order and annotation joins are
``np.searchsorted`` over sorted keys. SNVs get an exact allele code; other alleles a FNV-1a
hash with the top allele bit set. Joins confirm a key match on the full alleles, so a hash
collision can never attach the wrong annotation.
"""

from __future__ import annotations

import numpy as np

POS_BITS = 29
ALLELE_BITS = 29
_ALLELE_MASK = (1 << ALLELE_BITS) - 1
_HASHED = 1 << (ALLELE_BITS - 1)
_BASE = {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def _as_bytes(alleles) -> np.ndarray:
    arr = np.asarray(alleles)
    if arr.dtype.kind == "U":
        arr = np.char.encode(arr, "ascii")
    elif arr.dtype.kind == "O":
        arr = np.array([a.encode() if isinstance(a, str) else a for a in arr], dtype="S")
    return arr.astype("S") if arr.dtype.kind != "S" else arr


def _fnv(matrix: np.ndarray) -> np.ndarray:
    """FNV-1a over the rows of a (n, width) uint8 matrix, zero bytes skipped."""
    h = np.full(matrix.shape[0], _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in matrix.T:
            live = col != 0
            h[live] = (h[live] ^ col[live].astype(np.uint64)) * _FNV_PRIME
    return h


def allele_code(ref, alt) -> np.ndarray:
    """(n,) uint64 code of each (ref, alt) pair; exact for SNVs, hashed otherwise."""
    ref_b, alt_b = _as_bytes(ref), _as_bytes(alt)
    n = len(ref_b)
    code = np.zeros(n, dtype=np.uint64)
    if n == 0:
        return code
    lut = np.full(256, 255, dtype=np.uint8)
    for byte, value in _BASE.items():
        lut[byte] = value
    ref_m = ref_b.view(np.uint8).reshape(n, -1) if ref_b.itemsize else np.zeros((n, 1), np.uint8)
    alt_m = alt_b.view(np.uint8).reshape(n, -1) if alt_b.itemsize else np.zeros((n, 1), np.uint8)
    ref_len = np.char.str_len(ref_b)
    alt_len = np.char.str_len(alt_b)
    r, a = lut[ref_m[:, 0]], lut[alt_m[:, 0]]
    snv = (ref_len == 1) & (alt_len == 1) & (r != 255) & (a != 255)
    code[snv] = r[snv].astype(np.uint64) * 4 + a[snv]
    other = ~snv
    if other.any():
        sep = np.full((int(other.sum()), 1), ord(">"), dtype=np.uint8)
        joined = np.hstack([ref_m[other], sep, alt_m[other]])
        hashed = _fnv(joined) & np.uint64(_ALLELE_MASK)
        code[other] = hashed | np.uint64(_HASHED)
    return code


def variant_keys(chrom: np.ndarray, pos: np.ndarray, ref, alt) -> np.ndarray:
    """(n,) int64 keys of variants; chrom as int codes (see heron.genome), pos 1-based."""
    chrom = np.asarray(chrom, dtype=np.uint64)
    pos = np.asarray(pos, dtype=np.uint64)
    if pos.size and int(pos.max()) >= (1 << POS_BITS):
        raise ValueError(f"position {int(pos.max())} does not fit a variant key")
    key = (chrom << np.uint64(POS_BITS + ALLELE_BITS)) | (pos << np.uint64(ALLELE_BITS))
    return (key | allele_code(ref, alt)).astype(np.int64)


def sorted_join(left_keys: np.ndarray, right_keys: np.ndarray) -> np.ndarray:
    """For each left key, the index of the equal key in sorted ``right_keys``, or -1.

    right_keys must be sorted ascending and unique. Returns (n_left,) int64.
    """
    if len(right_keys) == 0:
        return np.full(len(left_keys), -1, dtype=np.int64)
    idx = np.searchsorted(right_keys, left_keys)
    idx = np.minimum(idx, len(right_keys) - 1)
    found = right_keys[idx] == left_keys
    return np.where(found, idx, -1).astype(np.int64)


def unversioned_ids(ids) -> np.ndarray:
    """(n,) str: the identifiers (transcripts, RefSeq ids) without a trailing version (``.``
    and digits), as joins across sources that disagree on versions need them."""
    ids = np.asarray(ids, dtype=str)
    head, dot, version = np.char.rpartition(ids, ".").T if ids.size else (ids, ids, ids)
    return np.where((dot == ".") & np.char.isdigit(version), head, ids)
