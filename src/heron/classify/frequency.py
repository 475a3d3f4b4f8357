"""Population-frequency filters per mode of inheritance (rulebook §4)."""

from __future__ import annotations

import numpy as np

from heron.audit import Checks
from heron.config import FrequencyLimit


def frequency_checks(limit: FrequencyLimit, *, gnomad_af: np.ndarray, gnomad_ac: np.ndarray,
                     gnomad_hom: np.ndarray, gnomad_hemi: np.ndarray, callset_ac: np.ndarray,
                     callset_af: np.ndarray, on_x: np.ndarray, callset_min_ac: int,
                     prefix: str) -> Checks:
    """Checks of one limit set over n rows; a value fails when it is greater than its limit.

    All inputs (n,): gnomAD values float32 with NaN = absent (absent passes), callset_ac int32,
    callset_af float32, on_x bool (chrX outside the PARs: the hemizygote limit applies there).
    Rule names are ``<prefix>.gnomad_af`` etc.
    """
    checks = Checks(len(gnomad_af))
    with np.errstate(invalid="ignore"):
        checks.add(f"{prefix}.gnomad_af", gnomad_af > limit.af, limit.af, gnomad_af)
        if limit.ac is not None:
            checks.add(f"{prefix}.gnomad_ac", gnomad_ac > limit.ac, limit.ac, gnomad_ac)
        if limit.homozygotes is not None:
            checks.add(f"{prefix}.gnomad_homozygotes", gnomad_hom > limit.homozygotes,
                       limit.homozygotes, gnomad_hom)
        if limit.hemizygotes is not None:
            checks.add(f"{prefix}.gnomad_hemizygotes", on_x & (gnomad_hemi > limit.hemizygotes),
                       limit.hemizygotes, gnomad_hemi)
        checks.add(f"{prefix}.callset_af",
                   (callset_ac > callset_min_ac) & (callset_af > limit.callset_af),
                   limit.callset_af, callset_af)
    return checks
