"""Who carries which variant: background, transmission, de novo and the planted causal genotypes.

Founders (parents, singleton probands, controls) get rare backgrounds drawn per individual;
children of trios and duos inherit them (each heterozygous allele with probability 1/2, X by
sex) and get their own homozygous draws (both parents then heterozygous) and de novo variants.
Common sites are shared by the cohort and genotyped per batch (see ``common_dosage``).

Entries are sparse: a DataFrame with columns site (int64 row of the site table), person
(int64), dose (int8 alt-allele count, 2 for hemizygous males on X).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heron.genome import CHROM_X, in_par

from .families import Cohort
from .genes import GeneTable
from .protocol import Protocol
from .sites import SITE_COLUMNS, simulate_sites

PTV_KINDS = np.array(["stop_gained", "frameshift_variant", "splice"], dtype=object)


def _ptv_kinds(rng: np.random.Generator, n: int, protocol: Protocol) -> np.ndarray:
    return PTV_KINDS[rng.choice(3, size=n, p=np.asarray(protocol.ptv_mix))]


def _x_only(chrom: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (chrom == CHROM_X) & ~in_par(chrom, pos, "GRCh38")


class SiteBuilder:
    """Accumulates site tables and hands out global site numbers."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.n = 0

    def add(self, table: pd.DataFrame) -> np.ndarray:
        ids = np.arange(self.n, self.n + len(table), dtype=np.int64)
        self.parts.append(table)
        self.n += len(table)
        return ids

    def table(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True)


def _entries(site, person, dose) -> pd.DataFrame:
    n = len(site)
    return pd.DataFrame({"site": np.asarray(site, dtype=np.int64),
                         "person": np.broadcast_to(np.asarray(person, dtype=np.int64), (n,)).copy(),
                         "dose": np.broadcast_to(np.asarray(dose, dtype=np.int8), (n,)).copy()})


def _draw_pool(rng, persons: np.ndarray, mean: float, pool: np.ndarray, pool_gene: np.ndarray,
               excluded: pd.DataFrame, max_rounds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(mean) pool variants per person, none in the person's excluded genes.

    pool: (k,) int64 real-variant rows; pool_gene: (k,) object their genes. excluded:
    DataFrame (person, symbol). Draws still in an excluded gene after max_rounds redraws are
    dropped. Returns (person, real-variant row) arrays.
    """
    if len(pool) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    who = np.repeat(persons, rng.poisson(mean, size=len(persons)))
    picked = rng.integers(0, len(pool), size=len(who))
    codes, uniques = pd.factorize(np.concatenate([pool_gene, excluded["symbol"].to_numpy(dtype=object)]))
    width = len(uniques) + 1
    pool_code = codes[: len(pool_gene)]
    banned = excluded["person"].to_numpy(np.int64) * width + codes[len(pool_gene):]
    bad = np.isin(who * width + pool_code[picked], banned)
    for _ in range(max_rounds):
        if not bad.any():
            break
        picked[bad] = rng.integers(0, len(pool), size=int(bad.sum()))
        bad = np.isin(who * width + pool_code[picked], banned)
    return who[~bad], pool[picked[~bad]]


def build_background(cohort: Cohort, genes: GeneTable, real: pd.DataFrame, rng: np.random.Generator,
                     protocol: Protocol) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """All sites and sparse genotype entries of the cohort (common sites: sites only).

    real: the real-variant table (``sites.real_variant_table``). Returns (sites, entries,
    common) where common is (n_common,) int64 site ids of the shared common sites.
    """
    people, fams, causal = cohort.people, cohort.families, cohort.causal
    builder = SiteBuilder()
    entries: list[pd.DataFrame] = []

    # Causal sites first (they win position clashes), one per distinct real variant.
    causal_key = (causal["chrom"].astype(str) + ":" + causal["pos"].astype(str) + ":" + causal["ref"] + ":"
                  + causal["alt"])
    real_key = real["chrom"].astype(str) + ":" + real["pos"].astype(str) + ":" + real["ref"] + ":" + real["alt"]
    real_row = pd.Series(np.arange(len(real)), index=real_key.to_numpy())
    causal_real = real_row.reindex(causal_key.to_numpy()).to_numpy()
    if np.isnan(causal_real.astype(float)).any():
        raise ValueError("a causal variant is missing from the real-variant table")
    causal_real = causal_real.astype(np.int64)
    uniq_real, causal_site_local = np.unique(causal_real, return_inverse=True)
    ctab = real.iloc[uniq_real][SITE_COLUMNS + ["n_pubs"]].copy()
    ctab["source"] = "causal"
    ctab["real"] = uniq_real
    causal_sites = builder.add(ctab)[causal_site_local]
    fam = fams.iloc[causal["family"].to_numpy()]
    for col, who in (("dose_proband", "proband"), ("dose_father", "father"), ("dose_mother", "mother")):
        dose = causal[col].to_numpy()
        person = fam[who].to_numpy()
        keep = (dose > 0) & (person >= 0)
        entries.append(_entries(causal_sites[keep], person[keep], dose[keep]))

    # Pool variants: real pathogenic variants not causal in this cohort.
    cohort_real = set(uniq_real.tolist())
    free = ~np.isin(np.arange(len(real)), list(cohort_real)) & (real["symbol"] != "").to_numpy()
    carrier_pool = np.flatnonzero(free & real["recessive"].to_numpy())
    zero_pool = np.flatnonzero(free & ~real["recessive"].to_numpy())

    child = people["father"].to_numpy() >= 0
    founders = np.flatnonzero(~child & people["simulated"].to_numpy())
    family_genes = causal.assign(symbol=real["symbol"].to_numpy()[causal_real])[["family", "symbol"]]
    person_family = people["case"].to_numpy()
    excl = pd.DataFrame({"person": np.arange(len(people)), "family": person_family}).merge(
        family_genes, on="family")[["person", "symbol"]]

    # Founders: rare PTV / missense, het and hom.
    draws = []
    for mean, kind, dose in ((protocol.het_ptv, "ptv", 1), (protocol.hom_ptv, "ptv", 2),
                             (protocol.het_missense, "missense_variant", 1),
                             (protocol.hom_missense, "missense_variant", 2)):
        who = np.repeat(founders, rng.poisson(mean, size=len(founders)))
        kinds = _ptv_kinds(rng, len(who), protocol) if kind == "ptv" else np.full(len(who), kind, dtype=object)
        draws.append((who, kinds, dose))
    who = np.concatenate([d[0] for d in draws])
    kinds = np.concatenate([d[1] for d in draws])
    doses = np.concatenate([np.full(len(d[0]), d[2], dtype=np.int8) for d in draws])
    ids = builder.add(simulate_sites(genes, rng, kinds, "rare"))
    founder_entries = [_entries(ids, who, doses)]

    site_of_real = np.full(len(real), -1, dtype=np.int64)
    symbols = real["symbol"].to_numpy(dtype=object)
    for mean, pool, source in ((protocol.carriers, carrier_pool, "carrier"), (protocol.zero_star, zero_pool, "zero_star")):
        who, rows = _draw_pool(rng, founders, mean, pool, symbols[pool], excl)
        new = np.unique(rows)
        if len(new):
            tab = real.iloc[new][SITE_COLUMNS + ["n_pubs"]].copy()
            tab["source"] = source
            tab["real"] = new
            site_of_real[new] = builder.add(tab)
        founder_entries.append(_entries(site_of_real[rows], who, 1))
    founder_df = pd.concat(founder_entries, ignore_index=True).drop_duplicates(["site", "person"])

    site_chrom = np.concatenate([p["chrom"].to_numpy() for p in builder.parts])
    site_pos = np.concatenate([p["pos"].to_numpy() for p in builder.parts])
    sex = people["sex"].to_numpy()

    def hemizygous(df: pd.DataFrame) -> pd.DataFrame:
        x = _x_only(site_chrom[df["site"].to_numpy()], site_pos[df["site"].to_numpy()])
        male = sex[df["person"].to_numpy()] == 1
        df.loc[x & male & (df["dose"].to_numpy() > 0), "dose"] = 2
        return df

    founder_df = hemizygous(founder_df)
    entries.append(founder_df)

    # Children: transmission from both (simulated) parents.
    kids = np.flatnonzero(child)
    parent_of = pd.concat([pd.DataFrame({"parent": people["father"].to_numpy()[kids], "child": kids, "from_father": True}),
                           pd.DataFrame({"parent": people["mother"].to_numpy()[kids], "child": kids, "from_father": False})])
    tx = founder_df.merge(parent_of, left_on="person", right_on="parent")
    allele = np.where(tx["dose"].to_numpy() >= 2, 1, (rng.random(len(tx)) < 0.5).astype(np.int8))
    x = _x_only(site_chrom[tx["site"].to_numpy()], site_pos[tx["site"].to_numpy()])
    child_male = sex[tx["child"].to_numpy()] == 1
    father_x = x & tx["from_father"].to_numpy()
    allele = np.where(father_x, np.where(child_male, 0, 1), allele)
    inherited = pd.DataFrame({"site": tx["site"].to_numpy(), "person": tx["child"].to_numpy(),
                              "dose": allele.astype(np.int8)})
    inherited = inherited[inherited["dose"] > 0].groupby(["site", "person"], as_index=False)["dose"].sum()

    # Children's own homozygous variants: both parents heterozygous carriers.
    hom = []
    for mean, kind in ((protocol.hom_ptv, "ptv"), (protocol.hom_missense, "missense_variant")):
        who = np.repeat(kids, rng.poisson(mean, size=len(kids)))
        hom.append((who, _ptv_kinds(rng, len(who), protocol) if kind == "ptv" else np.full(len(who), kind, dtype=object)))
    who = np.concatenate([h[0] for h in hom])
    ids = builder.add(simulate_sites(genes, rng, np.concatenate([h[1] for h in hom]), "rare"))
    new_chrom = np.concatenate([h["chrom"].to_numpy() for h in builder.parts[-1:]])
    new_pos = np.concatenate([h["pos"].to_numpy() for h in builder.parts[-1:]])
    # A son's X comes from his mother only.
    father_ok = ~(_x_only(new_chrom, new_pos) & (sex[who] == 1))
    child_hom = pd.concat([_entries(ids, who, 2),
                           _entries(ids[father_ok], people["father"].to_numpy()[who][father_ok], 1),
                           _entries(ids, people["mother"].to_numpy()[who], 1)], ignore_index=True)

    # True de novo variants: every non-parent individual (visible as such only in trios).
    de_novo_people = np.flatnonzero(people["role"].isin(["proband", "control"]).to_numpy())
    who = np.repeat(de_novo_people, rng.poisson(protocol.de_novo, size=len(de_novo_people)))
    dn_kind = np.array(["missense_variant", "synonymous_variant", "ptv"], dtype=object)[
        rng.choice(3, size=len(who), p=np.asarray(protocol.de_novo_mix))]
    is_ptv = dn_kind == "ptv"
    dn_kind[is_ptv] = _ptv_kinds(rng, int(is_ptv.sum()), protocol)
    ids = builder.add(simulate_sites(genes, rng, dn_kind, "de_novo"))
    de_novo = _entries(ids, who, 1)

    # Common sites.
    n_common = protocol.n_common
    common_kind = np.array(["synonymous_variant", "missense_variant", "splice_region_variant"], dtype=object)[
        rng.choice(3, size=n_common, p=np.asarray(protocol.common_mix))]
    common = builder.add(simulate_sites(genes, rng, common_kind, "common"))

    site_chrom = np.concatenate([p["chrom"].to_numpy() for p in builder.parts])
    site_pos = np.concatenate([p["pos"].to_numpy() for p in builder.parts])
    entries.extend([hemizygous(inherited), hemizygous(child_hom), hemizygous(de_novo)])
    all_entries = pd.concat(entries, ignore_index=True)

    sites = builder.table()
    # One site per position: earlier parts (causal, then pool/rare ...) win.
    dup = (sites.duplicated(["chrom", "pos"], keep="first") & (sites["source"] != "causal")).to_numpy()
    all_entries = all_entries[~dup[all_entries["site"].to_numpy()]]
    # A person appears once per site (a transmitted allele may meet a planted one).
    all_entries = (all_entries.groupby(["site", "person"], as_index=False)["dose"].max())
    sites["drop"] = dup
    return sites, all_entries.reset_index(drop=True), common[~dup[common]]


def common_dosage(af: np.ndarray, x_only: np.ndarray, people: pd.DataFrame, members: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Genotypes of common sites for a batch, with Mendelian transmission inside families.

    af: (m,) float allele frequencies; x_only: (m,) bool non-PAR X sites; members: (k,) person
    ids to simulate (the batch's people, sequenced or not; parents must be included with
    their children). Returns (m, k) int8 alt-allele counts, males hemizygous on X (0 or 2).
    """
    m, k = len(af), len(members)
    col = {p: i for i, p in enumerate(members.tolist())}
    father = people["father"].to_numpy()[members]
    mother = people["mother"].to_numpy()[members]
    male = people["sex"].to_numpy()[members] == 1
    is_child = father >= 0
    hap = np.zeros((m, k, 2), dtype=bool)
    founders = np.flatnonzero(~is_child)
    hap[:, founders, :] = rng.random((m, len(founders), 2)) < af[:, None, None]
    kids = np.flatnonzero(is_child)
    if len(kids):
        fcol = np.array([col[f] for f in father[kids]])
        mcol = np.array([col[mm] for mm in mother[kids]])
        pick_f = rng.integers(0, 2, size=(m, len(kids)))
        pick_m = rng.integers(0, 2, size=(m, len(kids)))
        from_f = np.take_along_axis(hap[:, fcol, :], pick_f[:, :, None], axis=2)[:, :, 0]
        from_m = np.take_along_axis(hap[:, mcol, :], pick_m[:, :, None], axis=2)[:, :, 0]
        # On X a father passes his only X (haplotype 0) to daughters and nothing to sons.
        from_f = np.where(x_only[:, None], hap[:, fcol, 0], from_f)
        hap[:, kids, 0] = from_f
        hap[:, kids, 1] = from_m
    dose = hap.sum(axis=2, dtype=np.int8)
    # Hemizygous males on X: one X; show it as 0 or 2.
    male_x = x_only[:, None] & male[None, :]
    son_x = np.where(is_child[None, :], hap[:, :, 1], hap[:, :, 0])
    dose = np.where(male_x, son_x.astype(np.int8) * 2, dose)
    return dose.astype(np.int8)
