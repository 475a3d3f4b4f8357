"""PanelApp mode-of-inheritance strings to heron's simplified MOI, and combining them.

The simplified MOIs (rulebook §1) are, from least to most lenient: Mitochondrial, Biallelic,
HemiBiInFemale, HemiMonoInFemale, Monoallelic, MonoAndBiallelic. Besides PanelApp's own
strings, the abbreviations of PanelApp dumps and local gene lists (AD, AR, AD/AR, XL, XLD,
XLR, MT) and the simplified names themselves are understood.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

MITOCHONDRIAL = "Mitochondrial"
BIALLELIC = "Biallelic"
HEMI_BI = "HemiBiInFemale"
HEMI_MONO = "HemiMonoInFemale"
MONOALLELIC = "Monoallelic"
MONO_AND_BI = "MonoAndBiallelic"

# Ascending leniency: when panels disagree, the most lenient MOI wins.
LENIENCY = (MITOCHONDRIAL, BIALLELIC, HEMI_BI, HEMI_MONO, MONOALLELIC, MONO_AND_BI)

# First word of the lower-cased, punctuation-free string -> its family.
_MITO = ["mitochondrial", "mt", "mito"]
_BI = ["biallelic", "ar"]
_BOTH = ["both", "adar", "arad", "monoandbiallelic"]
_MONO = ["monoallelic", "ad"]
_XLINKED = ["xlinked", "xl", "xld", "hemimonoinfemale"]
_XLINKED_BI = ["xlr", "hemibiinfemale"]


def simplify_moi(moi_raw, on_x) -> np.ndarray:
    """Simplified MOI of each gene-panel entry.

    moi_raw: (n,) str (None/NaN = unknown); on_x: (n,) bool, gene on chromosome X.
    Returns (n,) object array of the names in :data:`LENIENCY`. Unknown, ``Other`` and empty
    strings get the lenient default: MonoAndBiallelic on autosomes, HemiBiInFemale on X.
    """
    raw = pd.Series(moi_raw, dtype=object).fillna("").astype(str)
    on_x = np.asarray(on_x, dtype=bool)
    if len(on_x) != len(raw):
        raise ValueError(f"moi_raw has {len(raw)} entries but on_x has {len(on_x)}")
    words = raw.str.lower().str.replace(r"[^\w\s]", "", regex=True).str.strip()
    first = words.str.extract(r"^(\S*)", expand=False).to_numpy(dtype=object)
    mentions_bi = words.str.contains(r"\bbiallelic\b", regex=True).to_numpy()
    x_linked = np.isin(first, _XLINKED)
    mono = np.isin(first, _MONO)
    conditions = [
        np.isin(first, _MITO),
        np.isin(first, _BI),
        np.isin(first, _BOTH),
        mono & ~on_x,
        mono & on_x,
        np.isin(first, _XLINKED_BI) | (x_linked & mentions_bi),
        x_linked,
    ]
    choices = [MITOCHONDRIAL, BIALLELIC, MONO_AND_BI, MONOALLELIC, HEMI_MONO, HEMI_BI, HEMI_MONO]
    default = np.where(on_x, HEMI_BI, MONO_AND_BI)
    return np.select(conditions, choices, default=default).astype(object)


def _ranks(values: pd.Series) -> np.ndarray:
    codes = values.map({name: rank for rank, name in enumerate(LENIENCY)})
    if codes.isna().any():
        bad = values[codes.isna()].iloc[0]
        raise ValueError(f"{bad!r} is not a simplified MOI; expected one of {', '.join(LENIENCY)}")
    return codes.to_numpy(dtype=np.int64)


def combine_gene_moi(genes: pd.DataFrame, gene: str = "symbol", moi: str = "moi") -> pd.Series:
    """Most lenient simplified MOI per gene over all its panels.

    genes: one row per gene-panel entry with columns ``gene`` and ``moi`` (simplified names).
    Biallelic together with Monoallelic gives MonoAndBiallelic. Returns a Series indexed by
    gene, of str.
    """
    values = genes[moi].astype(str)
    frame = pd.DataFrame({
        "gene": genes[gene].to_numpy(),
        "rank": _ranks(values),
        "bi": (values == BIALLELIC).to_numpy(),
        "mono": (values == MONOALLELIC).to_numpy(),
    })
    grouped = frame.groupby("gene", sort=True).agg(rank=("rank", "max"), bi=("bi", "any"),
                                                   mono=("mono", "any"))
    best = np.asarray(LENIENCY, dtype=object)[grouped["rank"].to_numpy()]
    best[(grouped["bi"] & grouped["mono"]).to_numpy()] = MONO_AND_BI
    return pd.Series(best, index=grouped.index, name=moi)


def combine_moi(values: Iterable[str]) -> str:
    """Most lenient of several simplified MOIs of one gene (see :func:`combine_gene_moi`)."""
    values = list(values)
    if not values:
        raise ValueError("combine_moi needs at least one MOI")
    frame = pd.DataFrame({"symbol": 0, "moi": values})
    return str(combine_gene_moi(frame).iloc[0])
