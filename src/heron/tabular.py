"""Tab-separated text of a table, as ``DataFrame.to_csv(sep="\\t", index=False)`` writes it
(missing values as empty cells) but built column by column: the audit trail of a
1,000-patient cohort is half a million rows, which pandas' row-chunked writer takes several
times longer to format."""

from __future__ import annotations

import numpy as np

from heron.lazy import pandas as pd


def _cells(column: pd.Series) -> list[str]:
    # each distinct value is formatted once: audit columns repeat a few rules, samples and
    # thresholds over hundreds of thousands of rows
    codes, distinct = pd.factorize(column.to_numpy(), use_na_sentinel=True)
    distinct = np.asarray(distinct)
    if distinct.dtype.kind == "f":
        text = distinct.astype(str).astype(object)
    else:
        text = np.array([str(v) for v in distinct.tolist()], dtype=object)
    return np.append(text, "")[codes].tolist()  # code -1 (missing) is the last cell, ""


def tsv_text(frame: pd.DataFrame) -> str:
    """The table as TSV text with a header line (quoted by pandas when a cell needs it)."""
    columns = [_cells(frame[c]) for c in frame.columns]
    lines = ["\t".join(map(str, frame.columns))]
    lines.extend(map("\t".join, zip(*columns)))
    text = "\n".join(lines) + "\n"
    # more separators than the grid has, or a quote: some cell needs quoting
    if (text.count("\t") != len(lines) * (len(frame.columns) - 1)
            or text.count("\n") != len(lines) or '"' in text or "\r" in text):
        return frame.to_csv(sep="\t", index=False)
    return text
