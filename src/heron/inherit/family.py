"""Family structure as arrays: every sample's sequenced relatives, for segregation checks."""

from __future__ import annotations

import numpy as np

from heron.ingest.pedigree import PedigreeArrays


def relatives(ped: PedigreeArrays) -> np.ndarray:
    """(n_samples, k) int32: columns of each sample's family members other than itself,
    padded with -1; k is the largest family size minus one."""
    n = len(ped.samples)
    order = np.argsort(ped.family, kind="stable")
    fam_sorted = ped.family[order]
    starts = np.r_[0, np.flatnonzero(np.diff(fam_sorted)) + 1]
    sizes = np.diff(np.r_[starts, n])
    k = int(sizes.max()) - 1 if n else 0
    out = np.full((n, max(k, 0)), -1, np.int32)
    if k <= 0:
        return out
    for start, size in zip(starts, sizes):  # one iteration per family
        members = order[start:start + size]
        for j, sample in enumerate(members):
            others = np.delete(members, j)
            out[sample, : len(others)] = others
    return out


def family_genotypes(gt: np.ndarray, variant: np.ndarray, sample: np.ndarray,
                     rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Genotypes of each call's relatives.

    gt: (n_variants, n_samples) int8; variant, sample: (n_calls,) int indices; rel: from
    :func:`relatives`. Returns (genotypes (n_calls, k) int8 with -1 for missing or padding,
    member columns (n_calls, k) int32 with -1 padding).
    """
    members = rel[sample]
    if members.shape[1] == 0:
        return np.zeros((len(sample), 0), np.int8), members
    g = gt[variant[:, None], np.maximum(members, 0)]
    return np.where(members >= 0, g, -1).astype(np.int8), members
