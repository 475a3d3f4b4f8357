"""The report's candidates as one flat table, built column by column from prioritise's
candidates.tsv and shards.

A cohort report holds tens of thousands of candidates; every field is gathered with numpy
indexing over all of them at once, and the nested records of report.json are only
assembled at the end (:func:`records`), without per-candidate model validation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from heron import history
from heron.annotate.csq import CONSEQUENCES
from heron.genome import CHROM_X, in_par
from heron.ingest.pedigree import MALE
from heron.inherit.models import FLAGS
from heron.resources.clinvar import ClinSig
from heron.store import Shard

CLINVAR_TEXT = {-1: "not in ClinVar", int(ClinSig.PATHOGENIC): "Pathogenic/Likely pathogenic",
                int(ClinSig.CONFLICTING): "Conflicting", int(ClinSig.UNCERTAIN): "Uncertain",
                int(ClinSig.BENIGN): "Benign/Likely benign", int(ClinSig.OTHER): "Other"}

# Genotype codes of the (n, family width) label matrix, indices into GENOTYPE_LABELS.
GENOTYPE_LABELS = np.array(["missing", "ref", "het", "hom", "hemi"], dtype=object)

GNOMAD_URL = "https://gnomad.broadinstitute.org/variant/"
PANELAPP_URL = "https://panelapp-aus.org/panels/entities/"
CLINVAR_URL = "https://www.ncbi.nlm.nih.gov/clinvar/?term="


def object_array(items: list) -> np.ndarray:
    """(n,) object array holding ``items`` as they are (lists stay lists, never a 2-D array).
    Callers pass distinct values and spread them over candidates by fancy indexing."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def decode_masks(masks: np.ndarray, decode: Callable[[int], list[str]]) -> np.ndarray:
    """(n,) object array of lists: ``decode`` of each (n,) integer mask.

    Candidates share a few dozen distinct masks, so each distinct mask is decoded once and
    equal masks share one (read-only) list.
    """
    uniq, inverse = np.unique(np.asarray(masks, dtype=np.int64), return_inverse=True)
    return object_array([decode(int(u)) for u in uniq])[inverse.reshape(-1)]


def bit_names(masks: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(n,) object array of lists: the ``names[i]`` of each bit ``i`` set in each mask."""
    return decode_masks(masks, lambda m: [name for i, name in enumerate(names) if m >> i & 1])


def split_lists(values: pd.Series, sep: str = ",") -> np.ndarray:
    """(n,) object array of lists: each string split on ``sep``, empty parts dropped (the
    candidates table's comma-separated partner and term columns)."""
    codes, uniq = pd.factorize(values.astype(str), use_na_sentinel=False)
    return object_array([[p for p in u.split(sep) if p] for u in uniq])[codes]


def _lookup(codes: np.ndarray, mapping: dict[int, str], default: str) -> np.ndarray:
    uniq, inverse = np.unique(np.asarray(codes, dtype=np.int64), return_inverse=True)
    return np.array([mapping.get(int(u), default) for u in uniq], dtype=object)[
        inverse.reshape(-1)]


def _optional(values: pd.Series, missing: np.ndarray | None = None) -> list:
    """``values`` as a list of Python scalars with None where ``missing`` (default: where the
    value is NaN or None), as JSON's null."""
    missing = values.isna().to_numpy() if missing is None else missing
    return np.where(missing, None, values.to_numpy(dtype=object)).tolist()


def _text(values: np.ndarray) -> np.ndarray:
    """(n,) object array of str from a bytes ``S`` array (UTF-8)."""
    return np.char.decode(values, "utf-8").astype(object)


class Families:
    """Family members in pedigree order, as matrices over (n_families, width) with width the
    largest family: ``ids`` lists of member ids, ``sex`` int8 (0 padding), ``index`` family
    name → row, ``of_sample`` individual id → family row."""

    def __init__(self, ped):
        members: dict[str, list] = {}
        for ind in ped:
            members.setdefault(ind.family, []).append(ind)
        self.index = {family: f for f, family in enumerate(members)}
        self.ids = [[m.id for m in ms] for ms in members.values()]
        width = max((len(ms) for ms in members.values()), default=0)
        self.sex = np.zeros((len(members), width), dtype=np.int8)
        for f, ms in enumerate(members.values()):
            self.sex[f, :len(ms)] = [m.sex for m in ms]
        self.of_sample = {ind.id: self.index[ind.family] for ind in ped}

    def columns(self, samples: list[str]) -> np.ndarray:
        """(n_families, width) int64 column of each member in a shard's ``samples``, -1 for
        members not in it and for padding."""
        col = {s: i for i, s in enumerate(samples)}
        out = np.full(self.sex.shape, -1, dtype=np.int64)
        for f, ids in enumerate(self.ids):
            out[f, :len(ids)] = [col.get(i, -1) for i in ids]
        return out


def genotype_codes(gt: np.ndarray, sex: np.ndarray, haploid: np.ndarray) -> np.ndarray:
    """(n, width) int8 codes into GENOTYPE_LABELS for (n, width) int8 genotypes (-1 missing)
    of family members of (n, width) sex; haploid (n,) bool marks variants on X outside the
    pseudo-autosomal regions, where a male's alt call is hemizygous."""
    codes = np.select([gt == 0, gt == 1, gt == 2], [1, 2, 3], 0).astype(np.int8)
    codes[haploid[:, None] & (sex == MALE) & (gt >= 1)] = 4
    return codes


def _part_columns(shard: Shard, part: pd.DataFrame, families: Families) -> dict[str, object]:
    """Columns of the candidates in ``part`` (rows of one batch's candidates table) read from
    that batch's shard."""
    var = part["variant"].to_numpy(dtype=np.int64)
    row = part["row"].to_numpy(dtype=np.int64)
    v, tx = shard.variants, shard.transcripts
    chrom, pos = v["chrom"][var], v["pos"][var]
    haploid = (chrom == CHROM_X) & ~in_par(chrom, pos, shard.build)
    fam = part["sample"].map(families.of_sample).to_numpy(dtype=np.int64)
    cols = families.columns(shard.samples)[fam]
    gt = np.where(cols >= 0, shard.calls["gt"][var[:, None], np.maximum(cols, 0)], -1)
    labels = GENOTYPE_LABELS[genotype_codes(gt, families.sex[fam], haploid)].tolist()
    member_ids = [families.ids[f] for f in fam]

    t = shard.rows["tx"][row].astype(np.int64) if shard.rows else np.full(len(row), -1)
    has = t >= 0
    tt = np.where(has, t, 0)
    if has.any():
        blank = np.full(len(t), "", dtype=object)
        transcript = np.where(has, _text(tx["transcript"][tt]), blank)
        hgvsc = np.where(has, _text(tx["hgvsc"][tt]), blank)
        hgvsp = np.where(has, _text(tx["hgvsp"][tt]), blank)
        bits = np.where(has, tx["consequence"][tt].astype(np.int64), 0)
        mane, canonical = has & tx["mane"][tt].astype(bool), has & tx["canonical"][tt].astype(bool)
    else:
        transcript = hgvsc = hgvsp = np.full(len(t), "", dtype=object)
        bits = np.zeros(len(t), dtype=np.int64)
        mane = canonical = np.zeros(len(t), dtype=bool)

    return {
        "genotypes": [dict(zip(ids, labs)) for ids, labs in zip(member_ids, labels)],
        "genotype_text": [",".join(f"{i}={g}" for i, g in zip(ids, labs))
                          for ids, labs in zip(member_ids, labels)],
        "transcript": transcript, "consequences": bit_names(bits, CONSEQUENCES),
        "hgvsc": hgvsc, "hgvsp": hgvsp, "mane": mane, "canonical": canonical,
        "clinvar": _lookup(v["ann.clinvar"][var], CLINVAR_TEXT, "Other"),
        "clinvar_stars": v["ann.clinvar_stars"][var].astype(np.int64),
        "clinvar_id": v["ann.clinvar_id"][var].astype(np.int64),
        "gnomad_af": v["ann.gnomad_af"][var].astype(np.float64),
        "gnomad_ac": v["ann.gnomad_ac"][var].astype(np.float64),
        "gnomad_hom": v["ann.gnomad_hom"][var].astype(np.float64),
        "gnomad_hemi": v["ann.gnomad_hemi"][var].astype(np.float64),
        "callset_ac": v["ac"][var].astype(np.int64), "callset_an": v["an"][var].astype(np.int64),
        "gnomad_dataset": "gnomad_r4" if shard.build == "GRCh38" else "gnomad_r2_1",
    }


def shown(table: pd.DataFrame, samples: list[str], cap: int | None
          ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows of ``table`` that the report shows, in report order: patients in the order of
    ``samples`` (others left out), each patient's candidates by rank (ties in table order),
    at most ``cap`` per patient. Also returns how many each capped patient lost."""
    order = pd.Series(np.arange(len(samples)), index=pd.Index(samples, dtype=object))
    patient = table["sample"].map(order)
    keep = patient.notna().to_numpy()
    sub = table[keep]
    patient = patient[keep].to_numpy(dtype=np.int64)
    sub = sub.iloc[np.lexsort((np.arange(len(sub)), sub["rank"].to_numpy(), patient))]
    if cap is None:
        return sub, {}
    position = sub.groupby("sample", sort=False).cumcount().to_numpy()
    counts = sub["sample"].value_counts()
    below = {s: int(n) - cap for s, n in counts.items() if n > cap}
    return sub[position < cap], below


def change_table(changes: list[history.Change]) -> pd.DataFrame:
    """The history's changes of a run as columns sample, variant, gene, status (new,
    changed or dropped) and reasons (list of str)."""
    return pd.DataFrame([(c.sample, c.variant, c.gene, c.status, c.reasons) for c in changes],
                        columns=["sample", "variant", "gene", "status", "reasons"])


def candidate_table(table: pd.DataFrame, shards: list[Shard], dated: pd.DataFrame,
                    changes: pd.DataFrame, ped, family_of: dict[str, str]) -> pd.DataFrame:
    """One row per candidate of ``table`` (already in report order, see :func:`shown`).

    table: candidates.tsv rows with ``part`` (index into ``shards``, one per batch of
    families). dated: the history's current findings with first_tagged,
    evidence_last_updated and category_dates ({category: date first seen}). changes: the
    run's :func:`change_table`. family_of: sample → family id.

    Columns: scalars (str, int64, float64, bool; first_tagged and evidence_last_updated
    missing when the history has no date; gnomad_* NaN and clinvar_id -1 when absent) and
    object columns of lists (flags, partners, consequences, matched_terms, reasons) and
    dicts (categories, genotypes), as :func:`records` and the TSV/seqr writers read them.
    """
    keys = ["sample", "variant", "gene"]
    out = pd.DataFrame({
        "sample": table["sample"].astype(str).to_numpy(),
        "variant": table["variant_id"].astype(str).to_numpy(),
        "gene": table["symbol"].astype(str).to_numpy()})
    out["family"] = out["sample"].map(family_of)
    dates = dated[keys + ["first_tagged", "evidence_last_updated", "category_dates"]]
    out = out.merge(dates.drop_duplicates(keys, keep="last"), on=keys, how="left")
    change = changes[changes["status"] != "dropped"].drop_duplicates(keys, keep="last")
    out = out.merge(change, on=keys, how="left")
    for column, empty in (("category_dates", {}), ("status", ""), ("reasons", [])):
        values = out[column].to_numpy(dtype=object, copy=True)
        missing = np.flatnonzero(pd.isna(out[column]).to_numpy())
        values[missing] = object_array([empty])[np.zeros(len(missing), dtype=np.int64)]
        out[column] = values
    out = out.rename(columns={"category_dates": "categories"})

    parts, families = table["part"].to_numpy(), Families(ped)
    per_part = []
    for i, shard in enumerate(shards):  # one step per batch of families
        at = np.flatnonzero(parts == i)
        per_part.append(pd.DataFrame(_part_columns(shard, table.iloc[at], families), index=at))
    fromshards = pd.concat(per_part).sort_index()

    # plain str.split: pandas' string methods cost ~10 µs a value on this column
    chrom, pos, ref, alt = (zip(*[v.split(":", 3) for v in out["variant"].tolist()])
                            if len(out) else ((),) * 4)
    out["chrom"], out["ref"], out["alt"] = list(chrom), list(ref), list(alt)
    out["pos"] = np.array(pos, dtype=np.int64)
    out["moi"] = table["models"].astype(str).to_numpy()
    out["rank"] = table["rank"].to_numpy(dtype=np.int64)
    for column in ("score", "evidence", "phenotype", "penalty", "phenotype_score"):
        out[column] = table[column].to_numpy(dtype=np.float64)
    out["moi_score"] = table["moi"].to_numpy(dtype=np.float64)
    out["flags"] = bit_names(table["flags"].to_numpy(), FLAGS)
    out["partners"] = split_lists(table["partners"].fillna(""))
    out["phenotype_matched"] = table["phenotype_match"].astype(str).eq("True").to_numpy()
    out["matched_terms"] = split_lists(table["matched_terms"].fillna(""))
    for column in fromshards.columns:
        out[column] = fromshards[column].to_numpy()
    bare = pd.Series([c.removeprefix("chr") for c in chrom], dtype=object)
    out["link_gnomad"] = (GNOMAD_URL + bare + "-" + pd.Series(pos, dtype=object) + "-"
                          + out["ref"] + "-" + out["alt"] + "?dataset=" + out["gnomad_dataset"])
    out["link_panelapp"] = PANELAPP_URL + out["gene"]
    out["link_clinvar"] = CLINVAR_URL + out["clinvar_id"].astype(str) + "[alleleid]"
    return out


def records(frame: pd.DataFrame) -> list[dict]:
    """report.json's candidate records of :func:`candidate_table` rows: dicts whose keys
    follow :class:`heron.report.model.Candidate` field by field (nested models too), with the
    value types its validation would give, so the JSON matches the model byte for byte."""
    if not len(frame):
        return []
    no_clinvar = frame["clinvar_id"].to_numpy() < 0
    columns = [frame[c].tolist() for c in (
        "chrom", "pos", "ref", "alt", "variant", "gene", "moi", "categories", "rank", "score",
        "evidence", "phenotype", "moi_score", "penalty", "genotypes", "flags", "partners",
        "transcript", "consequences", "hgvsc", "hgvsp", "mane", "canonical", "clinvar",
        "clinvar_stars")]
    columns.append(_optional(frame["clinvar_id"], no_clinvar))
    columns += [_optional(frame[c]) for c in ("gnomad_af", "gnomad_ac", "gnomad_hom",
                                              "gnomad_hemi")]
    columns += [frame[c].tolist() for c in ("callset_ac", "callset_an", "phenotype_score",
                                            "phenotype_matched", "matched_terms")]
    columns += [_optional(frame[c]) for c in ("first_tagged", "evidence_last_updated")]
    columns += [frame[c].tolist() for c in ("status", "reasons", "link_gnomad",
                                            "link_panelapp")]
    columns.append(_optional(frame["link_clinvar"], no_clinvar))
    return [
        {"variant": {"chrom": chrom, "pos": pos, "ref": ref, "alt": alt}, "variant_id": vid,
         "gene": gene, "moi": moi, "categories": cats, "rank": rank, "score": score,
         "score_parts": {"evidence": ev, "phenotype": ph, "moi": mo, "penalty": pe},
         "genotypes": gts, "flags": flags, "partners": partners,
         "consequence": {"transcript": tr, "consequences": csq, "hgvsc": hc, "hgvsp": hp,
                         "mane": mane, "canonical": canon},
         "clinvar": {"classification": cv, "stars": stars, "allele_id": aid},
         "population": {"gnomad_af": af, "gnomad_ac": ac, "gnomad_homozygotes": hom,
                        "gnomad_hemizygotes": hemi, "callset_ac": cac, "callset_an": can},
         "phenotype": {"score": ps, "matched": pm, "matched_terms": terms},
         "first_tagged": first, "evidence_last_updated": updated,
         "change": {"status": status, "reasons": reasons},
         "links": ({"gnomad": lg, "panelapp": lp} if lc is None
                   else {"gnomad": lg, "panelapp": lp, "clinvar": lc})}
        for (chrom, pos, ref, alt, vid, gene, moi, cats, rank, score, ev, ph, mo, pe, gts, flags,
             partners, tr, csq, hc, hp, mane, canon, cv, stars, aid, af, ac, hom, hemi, cac,
             can, ps, pm, terms, first, updated, status, reasons, lg, lp, lc)
        in zip(*columns)]
