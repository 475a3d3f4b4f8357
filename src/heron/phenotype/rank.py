"""One ranked shortlist per patient: evidence, phenotype match, MOI certainty, penalties.

The score is documented in :class:`heron.config.RankConfig` and its parts are kept per
candidate, so the report can show why a variant ranks where it does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heron.classify.categories import CATEGORY_NAMES, CAT
from heron.config import HeronConfig
from heron.inherit.models import FLAG

SCORE_PARTS = ("evidence", "phenotype", "moi", "penalty")


def evidence_score(categories: np.ndarray, stars: np.ndarray, config: HeronConfig) -> np.ndarray:
    """(n,) float: the strongest category weight + a share of the others' (uint16 masks)."""
    weights = config.rank.category_weights
    w = np.stack([np.where((categories & CAT[name]) != 0, weights.get(name, 0.0), 0.0)
                  for name in CATEGORY_NAMES], axis=1) if len(categories) else \
        np.zeros((0, len(CATEGORY_NAMES)))
    best = w.max(axis=1) if len(w) else np.zeros(0)
    rest = w.sum(axis=1) - best
    bonus = np.where((categories & CAT["clinvar_plp"]) != 0,
                     np.maximum(stars.astype(float) - 1, 0) * config.rank.clinvar_star_bonus, 0)
    return best + config.rank.other_category_weight * rest + bonus


def flag_penalty(flags: np.ndarray, config: HeronConfig) -> np.ndarray:
    penalty = np.zeros(len(flags))
    for name, value in config.rank.flag_penalties.items():
        penalty += np.where((flags & FLAG[name]) != 0, value, 0.0)
    return penalty


def rank_candidates(table: pd.DataFrame, config: HeronConfig) -> pd.DataFrame:
    """Add score parts, ``score`` and per-sample ``rank`` (1 = best) to a candidate table.

    table needs columns sample, categories (uint16), clinvar_stars, flags (uint8), phased
    (bool, comp-het phase confirmed), comphet (bool), phenotype_score (0..1 float),
    phenotype_match (bool).
    """
    t = table.copy()
    t["evidence"] = evidence_score(t["categories"].to_numpy(np.uint16),
                                   t["clinvar_stars"].to_numpy(), config)
    t["phenotype"] = config.rank.phenotype_weight * t["phenotype_score"].to_numpy(float) \
        + np.where(t["phenotype_match"], config.rank.phenotype_match_bonus, 0.0)
    t["moi"] = np.where(t["comphet"] & t["phased"], config.rank.phased_comphet_bonus, 0.0)
    t["penalty"] = flag_penalty(t["flags"].to_numpy(np.uint8), config)
    t["score"] = (t["evidence"] + t["phenotype"] + t["moi"] - t["penalty"]).round(3)
    t = t.sort_values(["sample", "score", "variant_id"], ascending=[True, False, True])
    t["rank"] = t.groupby("sample").cumcount() + 1
    return t.reset_index(drop=True)
