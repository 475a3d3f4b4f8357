"""The classify stage: rows (variant × gene), pre-filters, categories and frequency filters.

Input is an annotated shard; output is a small shard of only the variants that have a row
worth testing — a category, or a consequence that a de novo call could make primary — with
a ``rows`` table and ``variants["store_row"]``, each variant's row in the store. Calls are not
copied: later stages read them from the store (heron.store.attach_calls), so a monthly
reanalysis never rewrites the genotypes. Rows that failed a pre-filter are kept with
the rule that dropped them, so that the audit trail can cite it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from heron.annotate.csq import BIT
from heron.annotate.stage import CLINVAR_BLB, CLINVAR_PLP
from heron.audit import Checks
from heron.classify.categories import row_categories, sv_lof_rows
from heron.classify.frequency import frequency_checks
from heron.classify.genes import GeneSet
from heron.config import HeronConfig
from heron.genome import CHROM_X, in_par
from heron.ingest.sv import DEFAULT_SV_AF_FIELD
from heron.keys import sorted_join, unversioned_ids
from heron.store import Shard


def consequence_mask(names: list[str]) -> int:
    return int(np.bitwise_or.reduce([int(BIT[n]) for n in names])) if names else 0


MISSENSE = consequence_mask(["missense"])
INFRAME = consequence_mask(["inframe_insertion", "inframe_deletion", "protein_altering"])


def build_rows(shard: Shard, genes: GeneSet, biotypes: list[str]) -> dict[str, np.ndarray]:
    """One row per (variant, gene in the gene set) over the kept transcripts.

    Returns (n_rows,) arrays: variant int32, gene int32, consequence uint32 (OR over the
    row's transcripts), am_score float32 (max over missense transcripts), snrna bool, tx int32
    (the transcript shown in reports: MANE, else canonical, else the most severe).
    """
    tx = shard.transcripts
    if not tx or len(tx["variant"]) == 0:
        return _empty_rows()
    biotype = tx["biotype"].astype(str)
    kept = np.isin(biotype, biotypes) | tx["mane"]
    gene = genes.index_of(tx["gene_id"].astype(str), tx["gene_symbol"].astype(str))
    kept &= gene >= 0
    t_idx = np.flatnonzero(kept)
    if len(t_idx) == 0:
        return _empty_rows()
    pair = tx["variant"][t_idx].astype(np.int64) * len(genes.symbol) + gene[t_idx]
    rows_key, row_of = np.unique(pair, return_inverse=True)
    n = len(rows_key)
    consequence = np.zeros(n, np.int64)
    np.bitwise_or.at(consequence, row_of, tx["consequence"][t_idx].astype(np.int64))
    missense = (tx["consequence"][t_idx] & np.uint32(MISSENSE)) != 0
    am = np.where(missense, tx["am_score"][t_idx], np.nan)
    am_score = np.full(n, -np.inf)
    np.fmax.at(am_score, row_of, np.nan_to_num(am, nan=-np.inf))
    snrna = np.zeros(n, bool)
    np.logical_or.at(snrna, row_of, biotype[t_idx] == "snRNA")
    # representative transcript: sort by row, then preference, take the last of each row
    severity = _severity(tx["consequence"][t_idx])
    pref = tx["mane"][t_idx] * 4 + tx["canonical"][t_idx] * 2
    order = np.lexsort((severity, pref, row_of))
    last = np.r_[np.flatnonzero(np.diff(row_of[order])), len(order) - 1]
    rep = np.empty(n, np.int32)
    rep[row_of[order][last]] = t_idx[order][last]
    return {"variant": (rows_key // len(genes.symbol)).astype(np.int32),
            "gene": (rows_key % len(genes.symbol)).astype(np.int32),
            "consequence": consequence.astype(np.uint32),
            "am_score": np.where(np.isfinite(am_score), am_score, np.nan).astype(np.float32),
            "snrna": snrna, "tx": rep}


def _severity(consequence: np.ndarray) -> np.ndarray:
    """Higher for more severe: bit 0 is the most severe consequence."""
    c = consequence.astype(np.uint64)
    lowest = c & (~c + np.uint64(1))  # lowest set bit
    with np.errstate(divide="ignore"):
        bit = np.where(lowest > 0, np.log2(np.maximum(lowest, 1)).astype(np.int64), 63)
    return 64 - bit


def _empty_rows() -> dict[str, np.ndarray]:
    return {"variant": np.zeros(0, np.int32), "gene": np.zeros(0, np.int32),
            "consequence": np.zeros(0, np.uint32), "am_score": np.zeros(0, np.float32),
            "snrna": np.zeros(0, bool), "tx": np.zeros(0, np.int32)}


def _joined(*parts) -> np.ndarray:
    """Element-wise concatenation of str arrays and strings."""
    out = np.asarray(parts[0], dtype=str)
    for part in parts[1:]:
        out = np.char.add(out, np.asarray(part, dtype=str))
    return out


def pm5_flags(shard: Shard, rows: dict, pm5_index) -> np.ndarray:
    """(n_rows,) bool: a missense row at a codon of the same transcript where a *different*
    ClinVar P/LP missense is known (rulebook §3).

    The codon is (gene, transcript, protein position) of the row's reported transcript; a
    ClinVar entry named by RefSeq matches the transcript's MANE Select RefSeq id. Versions are
    ignored. An index entry without a transcript matches on gene symbol. ``pm5_index`` is a
    heron.resources.clinvar.Pm5Index; the row's own ClinVar allele (ann.clinvar_id) does not
    count.
    """
    n = len(rows["variant"])
    if pm5_index is None or len(pm5_index) == 0 or n == 0:
        return np.zeros(n, bool)
    tx = shard.transcripts
    t = rows["tx"]
    missense = (tx["consequence"][t] & np.uint32(MISSENSE)) != 0
    pos = tx["protein_pos"][t].astype(np.int64)
    own_id = shard.variants["ann.clinvar_id"][rows["variant"]]
    mane = tx["mane_id"][t] if "mane_id" in tx else np.full(len(t), b"")
    # each row asks under up to three names of its codon: gene|Ensembl transcript,
    # gene|MANE RefSeq, and gene| (for index entries that name no transcript)
    symbol = _joined(tx["gene_symbol"][t], "|")
    names = [_joined(symbol, unversioned_ids(tx["transcript"][t])),
             _joined(symbol, unversioned_ids(mane)), symbol]
    index_names = _joined(pm5_index.gene, "|", unversioned_ids(pm5_index.transcript))
    # a codon as one integer: the name's number among all names, then the position
    _, name_ids = np.unique(np.concatenate([index_names, *names]), return_inverse=True)
    name_ids = name_ids.reshape(-1).astype(np.int64)
    in_index = len(index_names)

    def codon(ids: np.ndarray, position: np.ndarray) -> np.ndarray:
        return (ids << 32) | (np.asarray(position, np.int64) & 0xFFFFFFFF)

    # the index's distinct (codon, allele) pairs, by codon: a row is flagged when its codon
    # holds more than one allele, or one that is not the row's own
    known = codon(name_ids[:in_index], pm5_index.protein_pos)
    allele = np.asarray(pm5_index.allele_id, np.int64)
    order = np.lexsort((allele, known))
    known, allele = known[order], allele[order]
    distinct_pair = np.r_[True, (known[1:] != known[:-1]) | (allele[1:] != allele[:-1])]
    known, allele = known[distinct_pair], allele[distinct_pair]
    codons, first, alleles = np.unique(known, return_index=True, return_counts=True)
    found = np.zeros(n, bool)
    for k in range(len(names)):
        at = sorted_join(codon(name_ids[in_index + k * n:in_index + (k + 1) * n], pos), codons)
        hit = at >= 0
        found[hit] |= (alleles[at[hit]] > 1) | (allele[first[at[hit]]] != own_id[hit])
    return missense & (pos > 0) & found


def classify_shard(shard: Shard, genes: GeneSet, config: HeronConfig, pm5_index=None, *,
                   sv_af_field: str = DEFAULT_SV_AF_FIELD, sv_max_af: float = 0.03,
                   sv_lof_consequences: dict[str, list[str]] | None = None) -> Shard:
    """Rows, pre-filters, categories and per-MOI frequency verdicts of one annotated shard.

    Structural variants (``svtype`` > 0, heron.ingest.sv) are classified with the small
    variants: their gnomAD frequency is the gnomAD-SV AF of INFO field ``sv_af_field`` (in the
    pre-filters and the per-MOI limits alike), and they take ``sv_lof`` (rare up to
    ``sv_max_af``, loss-of-function consequences per SV type ``sv_lof_consequences``, see
    heron.classify.categories.sv_lof_rows) instead of the small-variant categories.
    """
    v = shard.variants
    rows = build_rows(shard, genes, config.prefilter.biotypes)
    var = rows["variant"]
    clinvar = v["ann.clinvar"][var]
    stars = v["ann.clinvar_stars"][var]
    plp = clinvar == CLINVAR_PLP
    plp_starred = plp & (stars >= config.categories.clinvar_min_stars)
    callset_ac = v["ac"][var]
    callset_af = np.where(v["an"][var] > 0, callset_ac / np.maximum(v["an"][var], 1), 0.0)
    svtype = v["svtype"][var] if "svtype" in v else np.zeros(len(var), np.int8)
    is_sv = svtype > 0
    sv_af = v[f"info.{sv_af_field}"][var] if f"info.{sv_af_field}" in v \
        else np.full(len(var), np.nan, np.float32)
    gnomad_af = np.where(is_sv, sv_af, v["ann.gnomad_af"][var]).astype(np.float32)
    sv_lof = sv_lof_rows(svtype=svtype, consequence=rows["consequence"], callset_ac=callset_ac,
                         callset_af=callset_af, gnomad_sv_af=sv_af, max_af=sv_max_af,
                         callset_min_ac=config.frequency.callset_min_ac,
                         lof_consequences=sv_lof_consequences)
    cats = row_categories(
        clinvar_plp=plp, clinvar_stars=stars, gene_new=genes.new[rows["gene"]],
        consequence=rows["consequence"],
        high_impact_bits=consequence_mask(config.categories.high_impact),
        missense_bits=MISSENSE, pm5=pm5_flags(shard, rows, pm5_index),
        spliceai=v["ann.spliceai"][var], am_score=rows["am_score"],
        min_stars=config.categories.clinvar_min_stars,
        spliceai_min=config.categories.spliceai_min,
        alphamissense_min=config.categories.alphamissense_min, is_sv=is_sv, sv_lof=sv_lof)
    de_novo_eligible = ((rows["consequence"] & np.uint32(
        consequence_mask(config.categories.high_impact) | MISSENSE | INFRAME)) != 0) \
        | rows["snrna"] | plp
    pre = prefilter_checks(config, clinvar=clinvar, stars=stars, plp=plp,
                           filter_pass=v["filter_pass"][var], gnomad_af=gnomad_af,
                           callset_ac=callset_ac, callset_af=callset_af)
    # Rows with a category stay even when a pre-filter drops them (the audit trail cites the
    # rule); rows only a de novo call could lift matter only when they pass the pre-filters.
    keep = (cats != 0) | (de_novo_eligible & pre.passed())
    rule, pre_limit, observed = pre.reasons(np.flatnonzero(keep))
    rows = {k: a[keep] for k, a in rows.items()}
    cats, plp, plp_starred, var = cats[keep], plp[keep], plp_starred[keep], var[keep]
    callset_ac, callset_af, af = callset_ac[keep], callset_af[keep], gnomad_af[keep]
    on_x = (v["chrom"][var] == CHROM_X) & ~in_par(v["chrom"][var], v["pos"][var], shard.build)
    freq = {}
    f = config.frequency
    for model, (clinvar_limit, limit) in {"dominant": (f.clinvar_dominant, f.dominant),
                                          "recessive": (f.clinvar_recessive, f.recessive)}.items():
        verdicts = []
        for lim, prefix in ((clinvar_limit, f"clinvar_{model}"), (limit, model)):
            checks = frequency_checks(
                lim, gnomad_af=af, gnomad_ac=v["ann.gnomad_ac"][var],
                gnomad_hom=v["ann.gnomad_hom"][var], gnomad_hemi=v["ann.gnomad_hemi"][var],
                callset_ac=callset_ac, callset_af=callset_af, on_x=on_x,
                callset_min_ac=f.callset_min_ac, prefix=prefix)
            verdicts.append(checks.reasons())
        # ClinVar P/LP rows with stars are held to the ClinVar limits, the rest to the plain ones
        freq_rule = np.where(plp_starred, verdicts[0][0], verdicts[1][0])
        freq_obs = np.where(plp_starred, verdicts[0][2], verdicts[1][2])
        freq_lim = np.where(plp_starred, verdicts[0][1], verdicts[1][1])
        freq[f"{model}_rule"] = freq_rule.astype("S")
        freq[f"{model}_limit"] = freq_lim.astype("S")
        freq[f"{model}_observed"] = freq_obs.astype(np.float32)
    rows.update(freq)
    rows.update({"categories": cats, "plp_starred": plp_starred, "on_x": on_x,
                 "prefilter_rule": rule.astype("S"), "prefilter_limit": pre_limit.astype("S"),
                 "prefilter_observed": observed})
    selected = np.unique(var)
    # the calls stay in the store: later stages read them through variants["store_row"]
    small = dataclasses.replace(shard, calls={}).take(selected)
    small.variants["store_row"] = selected.astype(np.int32)
    small.transcripts = _take_transcripts(shard.transcripts, selected, rows["tx"])
    rows["variant"] = np.searchsorted(selected, var).astype(np.int32)
    rows["tx"] = small.transcripts.pop("_row_tx")
    small.rows = rows
    small.meta["genes"] = len(genes.symbol)
    return small


def _take_transcripts(tx: dict, selected: np.ndarray, row_tx: np.ndarray) -> dict:
    """Only the rows' representative transcripts, re-indexed; '_row_tx' maps rows to them."""
    uniq, inverse = np.unique(row_tx, return_inverse=True)
    out = {k: a[uniq] for k, a in tx.items()}
    out["variant"] = np.searchsorted(selected, out["variant"]).astype(np.int32)
    out["_row_tx"] = inverse.astype(np.int32)
    return out


def prefilter_checks(config: HeronConfig, *, clinvar, stars, plp, filter_pass, gnomad_af,
                     callset_ac, callset_af) -> Checks:
    """Rulebook §2 as named checks over rows; ClinVar P/LP (any stars) is exempt from the
    FILTER, population and callset checks."""
    p = config.prefilter
    checks = Checks(len(plp))
    checks.add("prefilter.clinvar_benign",
               (clinvar == CLINVAR_BLB) & (stars >= p.benign_min_stars), p.benign_min_stars,
               stars)
    checks.add("prefilter.filter_not_pass", ~filter_pass & ~plp, "PASS")
    with np.errstate(invalid="ignore"):
        checks.add("prefilter.gnomad_af", (np.nan_to_num(gnomad_af) >= p.max_af_any) & ~plp,
                   p.max_af_any, gnomad_af)
    checks.add("prefilter.callset_frequency",
               (callset_ac > p.callset_max_ac) & (callset_af >= p.callset_max_af) & ~plp,
               f"AC>{p.callset_max_ac} and AF>={p.callset_max_af}", callset_af)
    return checks
