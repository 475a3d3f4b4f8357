"""Annotation strings cut into entries and fields by a compiled loop.

A VEP CSQ, snpEff ANN or bcftools BCSQ value holds an entry per transcript (``,``), each of
``|``-separated fields. Cutting them is the costly part of reading consequences: a callset
of 100,000 variants holds a few hundred thousand entries. Here one pass over the values' bytes
finds where each wanted field of each entry starts and ends; the caller then takes the few
columns it needs as byte arrays, and converts each distinct value once.

Kept apart from :mod:`heron.annotate.csq` (which every stage imports for its consequence
bits): only ingest cuts annotation strings, and only it should pay for loading numba.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from heron.ingest.fastparse import span_texts

_COMMA, _BAR = 44, 124


@numba.njit(cache=True, nogil=True)
def _count_entries(text):
    """Entries in the values of ``text`` ((n, width) uint8, each row a NUL-padded value): an
    empty value has none; otherwise one more than its commas."""
    total = 0
    for i in range(text.shape[0]):
        if text.shape[1] == 0 or text[i, 0] == 0:
            continue
        total += 1
        for p in range(text.shape[1]):
            b = text[i, p]
            if b == 0:
                break
            total += b == _COMMA
    return total


@numba.njit(cache=True, nogil=True)
def _cut(text, column, n_columns, n_entries):
    """owner (n_entries,) int64 value row of each entry; start, end (n_entries, n_columns)
    int64 spans in the flattened ``text`` of the field that ``column`` (one per field
    position: -1 not wanted) sends to each column (start == end: empty or absent)."""
    n, width = text.shape
    owner = np.empty(n_entries, np.int64)
    start = np.zeros((n_entries, n_columns), np.int64)
    end = np.zeros((n_entries, n_columns), np.int64)
    e = -1
    for i in range(n):
        if width == 0 or text[i, 0] == 0:
            continue
        e += 1
        owner[e] = i
        f, s, p = 0, 0, 0
        while True:
            b = text[i, p] if p < width else 0
            if b == _BAR or b == _COMMA or b == 0:
                if f < len(column) and column[f] >= 0:
                    start[e, column[f]] = i * width + s
                    end[e, column[f]] = i * width + p
                f += 1
                s = p + 1
                if b == 0:
                    break
                if b == _COMMA:
                    e += 1
                    owner[e] = i
                    f = 0
            p += 1
    return owner, start, end


@dataclass
class Entries:
    """The entries of annotation values: owner (n,) int64 value (variant) of each; spans
    start/end (n, n_columns) int64 into ``text`` ((bytes,) uint8) of each wanted column."""

    text: np.ndarray
    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    columns: dict[str, int]

    def __len__(self) -> int:
        return len(self.owner)

    def take(self, rows: np.ndarray, owner: np.ndarray | None = None) -> "Entries":
        """The entries at ``rows`` (an index or a mask), in that order; ``owner``: the
        variants they belong to instead of their own (entries copied to other variants)."""
        return Entries(self.text, self.owner[rows] if owner is None else owner,
                       self.start[rows], self.end[rows], self.columns)

    def column(self, name: str) -> np.ndarray:
        """(n,) bytes of the column; b"" everywhere when the format has no such field."""
        if name not in self.columns:
            return np.zeros(len(self), "S1")
        k = self.columns[name]
        return span_texts(self.text, self.start[:, k], self.end[:, k], False)


def cut_entries(values: np.ndarray, field_columns: list[str | None]) -> Entries:
    """Entries of ``values`` ((n,) bytes, one annotation string per variant; b"": none), with
    the spans of the fields named in ``field_columns`` (per field position, the column it
    fills, or None; each column named once). Fields past the last position are ignored; a
    short entry's missing fields are empty."""
    values = np.ascontiguousarray(np.asarray(values, dtype="S"))
    text = values.view(np.uint8).reshape(len(values), values.dtype.itemsize)
    names = [name for name in field_columns if name is not None]
    columns = {name: k for k, name in enumerate(names)}
    column = np.array([-1 if name is None else columns[name] for name in field_columns],
                      np.int64)
    owner, start, end = _cut(text, column, len(names), _count_entries(text))
    return Entries(text.reshape(-1), owner, start, end, columns)
