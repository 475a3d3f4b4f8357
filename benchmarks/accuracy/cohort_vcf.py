"""One batch as a joint-called multi-sample VCF: dosages, real-quality calls, artefacts, text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heron.genome import CHROM_X, chrom_label, in_par

from .background import common_dosage
from .genotypes import NO_CALL, FormatPool
from .writers import BgzfWriter, cohort_header, gather_rows, index_vcf

_LABELS = np.array([""] + [chrom_label(c) for c in range(1, 26)], dtype=object)


@dataclass
class BatchResult:
    path: Path
    samples: list[str]
    n_sites: int
    n_mendelian_artefacts: int
    bytes_written: int


def batch_dosage(sites: pd.DataFrame, entries: pd.DataFrame, common: np.ndarray, people: pd.DataFrame,
                 columns: np.ndarray, simulated: np.ndarray, rng: np.random.Generator):
    """Dosage matrix of one batch.

    columns: (s,) person ids written (VCF sample order); simulated: (k,) person ids whose common
    genotypes are drawn (columns plus unsequenced parents). Returns (site_ids (v,) int64 sorted
    by position, dose (v, s) int8) with sites where nobody in the batch carries an allele removed.
    """
    col_of = np.full(len(people), -1, dtype=np.int64)
    col_of[columns] = np.arange(len(columns))
    mine = entries[col_of[entries["person"].to_numpy()] >= 0]
    rare_ids, rare_row = np.unique(mine["site"].to_numpy(), return_inverse=True)
    rare = np.zeros((len(rare_ids), len(columns)), dtype=np.int8)
    rare[rare_row, col_of[mine["person"].to_numpy()]] = mine["dose"].to_numpy()
    chrom = sites["chrom"].to_numpy()[common]
    x_only = (chrom == CHROM_X) & ~in_par(chrom, sites["pos"].to_numpy()[common], "GRCh38")
    sim = common_dosage(sites["af"].to_numpy()[common], x_only, people, simulated, rng)
    sim_col = {p: i for i, p in enumerate(simulated.tolist())}
    common_dose = sim[:, [sim_col[p] for p in columns.tolist()]]
    site_ids = np.concatenate([rare_ids, common])
    dose = np.concatenate([rare, common_dose])
    keep = (dose > 0).any(axis=1)
    site_ids, dose = site_ids[keep], dose[keep]
    order = np.lexsort((sites["pos"].to_numpy()[site_ids], sites["chrom"].to_numpy()[site_ids]))
    return site_ids[order], dose[order]


def plant_mendelian_errors(dose: np.ndarray, protected: np.ndarray, trios: np.ndarray, pool: FormatPool,
                           rng: np.random.Generator):
    """Replace trio calls at a fraction ``pool.me_rate`` of informative sites by real error triples.

    dose: (v, s) int8, changed in place; protected: (v,) bool rows never touched (causal and
    true de novo sites); trios: (t, 3) int64 columns (child, father, mother). Returns
    (rows, cols, entries) int64 arrays of the planted calls (the pool entries to write there).
    """
    rows, cols, entries = [], [], []
    for trio in trios:
        informative = np.flatnonzero((dose[:, trio] > 0).any(axis=1) & ~protected)
        k = rng.binomial(len(informative), pool.me_rate)
        if k == 0:
            continue
        at = rng.choice(informative, size=k, replace=False)
        triple = rng.integers(0, len(pool.me_dosage), size=k)
        dose[at[:, None], trio[None, :]] = pool.me_dosage[triple]
        rows.append(np.repeat(at, 3))
        cols.append(np.tile(trio, k))
        entries.append(pool.me_entries[triple].ravel())
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(entries)


def write_batch(path: Path, sites: pd.DataFrame, site_info: np.ndarray, entries: pd.DataFrame,
                common: np.ndarray, people: pd.DataFrame, columns: np.ndarray, simulated: np.ndarray,
                trios: np.ndarray, protected_site: np.ndarray, pool: FormatPool, rng: np.random.Generator,
                source: str, chunk_rows: int = 2000, compress_level: int = 3) -> BatchResult:
    """Write one batch VCF (bgzipped, tabix-indexed).

    site_info: (n_sites,) str INFO annotation text per global site; trios: (t, 3) columns of
    sequenced (child, father, mother); protected_site: (n_sites,) bool.
    """
    site_ids, dose = batch_dosage(sites, entries, common, people, columns, simulated, rng)
    protected = protected_site[site_ids]
    me_rows, me_cols, me_entries = plant_mendelian_errors(dose, protected, trios, pool, rng)
    order = np.argsort(me_rows, kind="stable")
    me_rows, me_cols, me_entries = me_rows[order], me_cols[order], me_entries[order]

    samples = people["sample_id"].to_numpy()[columns].tolist()
    writer = BgzfWriter(path, level=compress_level)
    writer.write(cohort_header(samples, source).encode())
    total = 0
    s_chrom = sites["chrom"].to_numpy()
    s_pos = sites["pos"].to_numpy()
    s_ref = sites["ref"].to_numpy()
    s_alt = sites["alt"].to_numpy()
    for lo in range(0, len(site_ids), chunk_rows):
        hi = min(lo + chunk_rows, len(site_ids))
        ids = site_ids[lo:hi]
        d = dose[lo:hi]
        cls = np.where(d < 0, NO_CALL, d).astype(np.int8)
        nocall = (d == 0) & ~protected[lo:hi, None] & (rng.random(d.shape) < pool.nocall_rate)
        cls[nocall] = NO_CALL
        calls = pool.draw(cls, rng)
        a, b = np.searchsorted(me_rows, [lo, hi])
        calls[me_rows[a:b] - lo, me_cols[a:b]] = me_entries[a:b]
        called = cls != NO_CALL
        ac = np.where(called, np.maximum(d, 0), 0).sum(axis=1)
        an = 2 * called.sum(axis=1)
        prefix = (_LABELS[s_chrom[ids]] + "\t" + s_pos[ids].astype(str).astype(object) + "\t.\t" + s_ref[ids] + "\t"
                  + s_alt[ids] + "\t.\tPASS\tAC=" + ac.astype(str).astype(object) + ";AN="
                  + an.astype(str).astype(object) + ";" + site_info[ids] + "\tGT:AD:DP:GQ\t")
        block = gather_rows(prefix, calls, pool)
        total += len(block)
        writer.write(block)
    writer.close()
    index_vcf(path)
    return BatchResult(path=path, samples=samples, n_sites=len(site_ids),
                       n_mendelian_artefacts=len(me_rows) // 3, bytes_written=total)
