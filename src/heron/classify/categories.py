"""Categories: why a row (variant × gene) is interesting, as bits of a uint16 mask.

Row categories come from annotations (rulebook §3); ``de_novo`` is added per call by the
inheritance stage. Each category has a role (primary or support) from the config.
"""

from __future__ import annotations

import numpy as np

CATEGORY_NAMES = (
    "clinvar_plp", "clinvar_recent_gene", "clinvar_0star", "high_impact", "de_novo", "pm5",
    "spliceai", "alphamissense", "sv_lof",
)
CAT = {name: np.uint16(1 << i) for i, name in enumerate(CATEGORY_NAMES)}


def role_masks(roles: dict[str, str]) -> tuple[np.uint16, np.uint16]:
    """(primary, support) bitmasks from the config's role of each category."""
    primary = support = 0
    for name, role in roles.items():
        if role == "primary":
            primary |= int(CAT[name])
        else:
            support |= int(CAT[name])
    return np.uint16(primary), np.uint16(support)


def names(mask: int) -> list[str]:
    """Category names set in one mask (for reports)."""
    return [name for name in CATEGORY_NAMES if int(mask) & int(CAT[name])]


def row_categories(*, clinvar_plp: np.ndarray, clinvar_stars: np.ndarray, gene_new: np.ndarray,
                   consequence: np.ndarray, high_impact_bits: int, missense_bits: int,
                   pm5: np.ndarray, spliceai: np.ndarray, am_score: np.ndarray,
                   min_stars: int, spliceai_min: float, alphamissense_min: float) -> np.ndarray:
    """(n_rows,) uint16 category mask of each row.

    clinvar_plp bool, clinvar_stars int8, gene_new bool, consequence uint32 (OR over the
    row's kept transcripts), pm5 bool, spliceai float32 (NaN absent), am_score float32 (max
    over missense transcripts, NaN absent); all (n_rows,).
    """
    cats = np.zeros(len(consequence), np.uint16)
    starred = clinvar_plp & (clinvar_stars >= min_stars)
    unstarred = clinvar_plp & ~starred
    cats[starred] |= CAT["clinvar_plp"]
    cats[unstarred & gene_new] |= CAT["clinvar_recent_gene"]
    cats[unstarred & ~gene_new] |= CAT["clinvar_0star"]
    cats[(consequence & np.uint32(high_impact_bits)) != 0] |= CAT["high_impact"]
    cats[pm5] |= CAT["pm5"]
    with np.errstate(invalid="ignore"):
        cats[spliceai >= spliceai_min] |= CAT["spliceai"]
        missense = (consequence & np.uint32(missense_bits)) != 0
        cats[missense & (am_score > alphamissense_min)] |= CAT["alphamissense"]
    return cats
