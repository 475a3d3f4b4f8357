"""Categories: why a row (variant × gene) is interesting, as bits of a uint16 mask.

Row categories come from annotations (rulebook §3); ``de_novo`` is added per call by the
inheritance stage. Each category has a role (primary or support) from the config.

Structural variants get ``sv_lof`` and none of the small-variant categories: VEP calls a
deletion of a whole gene ``transcript_ablation``, which would otherwise read as the
``high_impact`` of a stop-gain, and the per-base scores (SpliceAI, AlphaMissense, PM5) do not
describe an SV.
"""

from __future__ import annotations

import numpy as np

from heron.annotate.csq import BIT
from heron.ingest.sv import SVTYPE

CATEGORY_NAMES = (
    "clinvar_plp", "clinvar_recent_gene", "clinvar_0star", "high_impact", "de_novo", "pm5",
    "spliceai", "alphamissense", "sv_lof",
)
CAT = {name: np.uint16(1 << i) for i, name in enumerate(CATEGORY_NAMES)}


# Consequences that make an SV a loss of function of the gene, per SV type. They follow the
# PREDICTED_LOF rules of GATK-SV's SVAnnotate (which Talos reads): a deletion (or copy loss)
# removing coding sequence, a splice site or the whole transcript; an insertion (mobile
# elements included) into coding sequence or a splice site. Duplications and inversions are
# left out: from CSQ alone a whole-gene duplication (dosage gain) or an inversion holding the
# whole gene cannot be told from one that breaks the coding sequence.
_CODING = ["coding_sequence", "frameshift", "stop_gained", "splice_acceptor", "splice_donor",
           "start_lost", "stop_lost"]
SV_LOF_CONSEQUENCES = {"DEL": ["transcript_ablation", "inframe_deletion", *_CODING],
                       "INS": ["inframe_insertion", *_CODING]}
# categories an SV row never takes (see the module docstring)
SMALL_VARIANT_ONLY = np.uint16(int(CAT["high_impact"]) | int(CAT["pm5"]) | int(CAT["spliceai"])
                               | int(CAT["alphamissense"]))


def sv_lof_rows(*, svtype: np.ndarray, consequence: np.ndarray, callset_ac: np.ndarray,
                callset_af: np.ndarray, gnomad_sv_af: np.ndarray, max_af: float = 0.03,
                callset_min_ac: int = 10,
                lof_consequences: dict[str, list[str]] | None = None) -> np.ndarray:
    """(n_rows,) bool: SV rows with a loss-of-function consequence for their gene that are
    rare enough for ``sv_lof`` (rulebook §3).

    svtype int8 (heron.ingest.sv codes, 0 = small variant), consequence uint32 (OR over the
    row's kept transcripts), callset_ac int32, callset_af float, gnomad_sv_af float32 (NaN =
    not in gnomAD-SV, which passes); all (n_rows,). A value fails when greater than
    ``max_af``; the callset AF counts only when callset AC > ``callset_min_ac``, as for every
    callset limit (rulebook §4), so that a family's own carriers cannot make an SV common in a
    small cohort. ``lof_consequences``: SV type name → consequence names
    (default :data:`SV_LOF_CONSEQUENCES`).
    """
    table = SV_LOF_CONSEQUENCES if lof_consequences is None else lof_consequences
    lof = np.zeros(len(svtype), bool)
    for name, terms in table.items():  # one pass per SV type
        bits = int(np.bitwise_or.reduce([int(BIT[t]) for t in terms])) if terms else 0
        lof |= (svtype == SVTYPE[name]) & ((consequence & np.uint32(bits)) != 0)
    with np.errstate(invalid="ignore"):
        common = (gnomad_sv_af > max_af) | ((callset_ac > callset_min_ac)
                                            & (callset_af > max_af))
    return lof & ~common


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
                   min_stars: int, spliceai_min: float, alphamissense_min: float,
                   is_sv: np.ndarray | None = None,
                   sv_lof: np.ndarray | None = None) -> np.ndarray:
    """(n_rows,) uint16 category mask of each row.

    clinvar_plp bool, clinvar_stars int8, gene_new bool, consequence uint32 (OR over the
    row's kept transcripts), pm5 bool, spliceai float32 (NaN absent), am_score float32 (max
    over missense transcripts, NaN absent), is_sv bool (structural variant rows; None: none),
    sv_lof bool (:func:`sv_lof_rows`; None: none); all (n_rows,).
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
    if is_sv is not None:
        cats[is_sv] &= ~SMALL_VARIANT_ONLY
    if sv_lof is not None:
        cats[sv_lof] |= CAT["sv_lof"]
    return cats
