"""report.tsv: one row per candidate, safe to open in a spreadsheet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heron.tabular import tsv_text

COLUMNS = ["sample", "family", "rank", "score", "variant", "gene", "moi", "categories",
           "new_or_changed", "why", "consequence", "hgvsc", "hgvsp", "clinvar", "clinvar_stars",
           "gnomad_af", "phenotype_score", "matched_terms", "genotypes", "flags", "partners",
           "first_tagged"]

# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value):
    """Prefix text that a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def excel_safe_column(column: pd.Series) -> pd.Series:
    """:func:`excel_safe` of every cell of a column."""
    if column.dtype.kind in "biufcmM":
        return column
    if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
        return column.map(excel_safe)
    # each cell's first character, cut by numpy: ten times pandas' str.startswith
    first = column.fillna("").to_numpy(dtype=object).astype("U1")
    formula = np.isin(first, _FORMULA_START)
    if not formula.any():
        return column
    return column.where(~formula, "'" + column.where(formula, ""))


def _joined(column: pd.Series, sep: str) -> pd.Series:
    """Each list (or dict: its keys) of an object column joined by ``sep``."""
    return pd.Series([sep.join(items) for items in column.tolist()], index=column.index,
                     dtype=object)


def frame(candidates: pd.DataFrame) -> pd.DataFrame:
    """The TSV table of :func:`heron.report.candidates.candidate_table` rows."""
    c = candidates
    out = pd.DataFrame({
        "sample": c["sample"], "family": c["family"], "rank": c["rank"], "score": c["score"],
        "variant": c["variant"], "gene": c["gene"], "moi": c["moi"],
        "categories": _joined(c["categories"], ","), "new_or_changed": c["status"],
        "why": _joined(c["reasons"], "; "), "consequence": _joined(c["consequences"], ","),
        "hgvsc": c["hgvsc"], "hgvsp": c["hgvsp"], "clinvar": c["clinvar"],
        "clinvar_stars": c["clinvar_stars"], "gnomad_af": c["gnomad_af"],
        "phenotype_score": c["phenotype_score"],
        "matched_terms": _joined(c["matched_terms"], ","), "genotypes": c["genotype_text"],
        "flags": _joined(c["flags"], ","), "partners": _joined(c["partners"], ","),
        "first_tagged": c["first_tagged"]}, columns=COLUMNS)
    return pd.DataFrame({name: excel_safe_column(out[name]) for name in COLUMNS})


def render(candidates: pd.DataFrame) -> str:
    return tsv_text(frame(candidates))
