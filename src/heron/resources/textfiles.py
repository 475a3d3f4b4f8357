"""Reading the text files reference sources ship: plain or gzipped, with '#' header lines."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Iterable

from heron.errors import InputError


def open_text(path: str | Path):
    """Open a text file for reading, gunzipping it when it starts with the gzip magic."""
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def tab_header(path: str | Path, required: Iterable[str], *, keep_hash: bool,
               what: str, example: str | None = None) -> tuple[list[str], int]:
    """Column names of a tab file (its last ``#`` line with tabs) and the number of lines
    before the data.

    keep_hash: keep the leading ``#`` in the first name (``#CHROM``) or drop it. what: the
    file as the user knows it, and example the start of its header line, for the error
    messages.
    """
    columns, n = None, 0
    with open_text(path) as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            n += 1
            if "\t" in line:
                columns = (line if keep_hash else line[1:]).rstrip("\r\n").split("\t")
    if columns is None:
        start = f"'{example} ...'" if example else "'#'-prefixed"
        raise InputError(f"no {start} header line with tab-separated column names",
                         path=str(path), hint=f"give the {what} as it is downloaded")
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=str(path), line=n,
                         hint=f"is this the {what}?")
    return columns, n
