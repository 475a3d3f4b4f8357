"""Simulated families around the chosen published patients, and negative controls.

Per case: trio / duo (one parent) / singleton at fixed proportions. The causal genotype model
follows the packet's zygosity and variant count: two different heterozygous variants are
compound heterozygous; homozygous is recessive; hemizygous (or any genotype) on X in a male is
X-linked with a heterozygous unaffected mother; a heterozygous X variant in a female is treated
as X-linked dominant; a single heterozygous autosomal variant is dominant — de novo in trios,
inherited from an affected parent in duos; chrM variants are maternal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from heron.genome import CHROM_M, CHROM_X, chrom_code, in_par

FAMILY_TYPES = ("trio", "duo", "singleton")
FAMILY_PROPORTIONS = (0.5, 0.1, 0.4)

# Genotype models (alt-allele counts of proband / father / mother are set per model below).
AD_DE_NOVO, AD_INHERITED, AR_HOM, AR_COMPHET, XL_MALE, XL_FEMALE_HET, XL_FEMALE_HOM, MITO = (
    "de_novo", "inherited_dominant", "homozygous", "compound_het", "x_hemizygous",
    "x_heterozygous", "x_homozygous", "mitochondrial")
MOI_OF_MODEL = {AD_DE_NOVO: "autosomal_dominant", AD_INHERITED: "autosomal_dominant",
                AR_HOM: "autosomal_recessive", AR_COMPHET: "autosomal_recessive",
                XL_MALE: "x_linked", XL_FEMALE_HET: "x_linked", XL_FEMALE_HOM: "x_linked",
                MITO: "mitochondrial"}


@dataclass
class Cohort:
    """Who is in the simulated cohort.

    people: one row per simulated person, index = person id (0..p-1). Columns: sample_id,
    family_id (str), father, mother (int person ids, -1 none), sex (1 male / 2 female),
    affected (2 affected / 1 unaffected), hpo (tuple of str), role (proband / father / mother /
    control), case (int row of ``families``, -1 for controls), sequenced (bool: written to the
    VCF and PED), simulated (bool: genotypes drawn — the sequenced plus the absent parent of a
    duo, whose alleles the child inherits), batch (int),
    hpo_from_case (str: case id whose terms a control borrows, else empty).
    families: one row per chosen case, index 0..n-1. Columns: case_row (row of the case set),
    case_id, family_id, family_type, proband, father, mother (person ids, -1 for a singleton's
    parents), model (genotype
    model), moi, sex_assigned (1/2), batch.
    causal: one row per (case, causal variant). Columns: family (row of ``families``), chrom
    (int8 code), pos, ref, alt, dose_proband, dose_father, dose_mother (int8 alt counts).
    """

    people: pd.DataFrame
    families: pd.DataFrame
    causal: pd.DataFrame


def _model(variants: pd.DataFrame, sex: str) -> str:
    codes = variants["chrom"].map(chrom_code).to_numpy()
    zyg = variants["zygosity"].to_numpy()
    on_x = (codes == CHROM_X) & ~in_par(codes, variants["pos"].to_numpy(), "GRCh38")
    if (codes == CHROM_M).any():
        return MITO
    if on_x.all():
        if sex == "MALE":
            return XL_MALE
        return XL_FEMALE_HOM if (zyg == "hom").all() else XL_FEMALE_HET
    if len(variants) >= 2:
        return AR_COMPHET
    if zyg[0] in ("hom", "hemi"):
        return AR_HOM
    return AD_DE_NOVO


def _parent_doses(model: str, n_var: int, family_type: str, rng: np.random.Generator):
    """(proband, father, mother) dose arrays (n_var,) and the affected flags of the parents."""
    proband = np.ones(n_var, dtype=np.int8)
    father = np.zeros(n_var, dtype=np.int8)
    mother = np.zeros(n_var, dtype=np.int8)
    affected = [False, False]
    if model == AR_HOM:
        proband[:] = 2
        father[:] = 1
        mother[:] = 1
    elif model == AR_COMPHET:
        which = rng.random() < 0.5
        father[0 if which else 1] = 1
        mother[1 if which else 0] = 1
    elif model == XL_MALE:
        proband[:] = 2
        mother[:] = 1
    elif model == XL_FEMALE_HOM:
        proband[:] = 2
        father[:] = 2
        mother[:] = 1
        affected[0] = True
    elif model == MITO:
        mother[:] = 1
    elif model in (AD_DE_NOVO, XL_FEMALE_HET) and family_type == "duo":
        # Inherited from the (affected) parent who is sequenced; chosen by the caller.
        pass
    return proband, father, mother, affected


def build_cohort(case_set, chosen: np.ndarray, rng: np.random.Generator, batch_size: int = 100,
                 proportions=FAMILY_PROPORTIONS, control_fraction: float = 0.10) -> Cohort:
    """Families for the chosen case rows, plus negative controls.

    chosen: (n,) int64 rows of ``case_set.cases``. control_fraction: share of the whole cohort
    (all sequenced individuals) that are background-only affected controls.
    """
    cases = case_set.cases.iloc[chosen].reset_index(drop=True)
    variants = case_set.variants
    n = len(cases)
    ftype = np.array(FAMILY_TYPES, dtype=object)[rng.choice(3, size=n, p=np.asarray(proportions))]
    duo_has_father = rng.random(n) < 0.5
    random_sex = np.where(rng.random(n) < 0.5, "MALE", "FEMALE")
    n_batches = max(1, int(np.ceil(n / batch_size)))
    people, families, causal = [], [], []
    by_case = {k: g for k, g in variants.groupby("case")}

    def person(**kw):
        people.append(kw)
        return len(people) - 1

    for i in range(n):
        row = cases.iloc[i]
        fam_id = f"F{i + 1:05d}"
        batch = i // batch_size
        vs = by_case.get(int(chosen[i]), pd.DataFrame(columns=variants.columns))
        usable = bool(row["has_vcf"]) and len(vs) > 0
        sex = row["sex"]
        if sex not in ("MALE", "FEMALE"):
            on_x = usable and (vs["chrom"].map(chrom_code) == CHROM_X).all()
            hemi = usable and (vs["zygosity"] == "hemi").any()
            sex = "MALE" if (on_x and hemi) else random_sex[i]
        model = _model(vs, sex) if usable else ""
        kind = ftype[i]
        has_f = kind == "trio" or (kind == "duo" and duo_has_father[i])
        has_m = kind == "trio" or (kind == "duo" and not duo_has_father[i])
        if usable and model == AD_DE_NOVO and kind == "duo":
            model = AD_INHERITED
        sex_code = 1 if sex == "MALE" else 2
        proband_hpo = tuple(row["hpo_observed"])
        if usable:
            pd_, fd, md, affected = _parent_doses(model, len(vs), kind, rng)
            if model == AD_INHERITED or (model == XL_FEMALE_HET and kind == "duo"):
                (fd if has_f else md)[:] = 2 if (has_f and model == XL_FEMALE_HET) else 1
                affected = [has_f, has_m]
        else:
            affected = [False, False]
        half = proband_hpo[: max(1, len(proband_hpo) // 2)] if proband_hpo else ()
        father = mother = -1
        if kind != "singleton":
            father = person(sample_id=f"{fam_id}-F", family_id=fam_id, father=-1, mother=-1, sex=1,
                            affected=2 if affected[0] else 1, hpo=half if affected[0] else (),
                            role="father", case=i, sequenced=has_f, simulated=True, batch=batch,
                            hpo_from_case="")
            mother = person(sample_id=f"{fam_id}-M", family_id=fam_id, father=-1, mother=-1, sex=2,
                            affected=2 if affected[1] else 1, hpo=half if affected[1] else (),
                            role="mother", case=i, sequenced=has_m, simulated=True, batch=batch,
                            hpo_from_case="")
        proband = person(sample_id=f"{fam_id}-P", family_id=fam_id, father=father, mother=mother,
                         sex=sex_code, affected=2, hpo=proband_hpo, role="proband", case=i,
                         sequenced=True, simulated=True, batch=batch, hpo_from_case="")
        families.append({"case_row": int(chosen[i]), "case_id": row["case_id"], "family_id": fam_id,
                         "family_type": kind, "proband": proband, "father": father, "mother": mother,
                         "model": model, "moi": MOI_OF_MODEL.get(model, ""), "sex_assigned": sex_code,
                         "batch": batch})
        if usable:
            for j, v in enumerate(vs.itertuples()):
                causal.append({"family": i, "chrom": chrom_code(v.chrom), "pos": v.pos, "ref": v.ref,
                               "alt": v.alt, "dose_proband": pd_[j], "dose_father": fd[j],
                               "dose_mother": md[j]})
    people_df = pd.DataFrame(people)
    n_seq = int(people_df["sequenced"].sum())
    n_ctrl = int(round(n_seq * control_fraction / (1.0 - control_fraction)))
    donors = rng.integers(0, n, size=n_ctrl)
    ctrl_sex = np.where(rng.random(n_ctrl) < 0.5, 1, 2)
    controls = pd.DataFrame({
        "sample_id": [f"C{k + 1:05d}" for k in range(n_ctrl)],
        "family_id": [f"C{k + 1:05d}" for k in range(n_ctrl)],
        "father": -1, "mother": -1, "sex": ctrl_sex, "affected": 2,
        "hpo": [tuple(cases["hpo_observed"].iloc[d]) for d in donors],
        "role": "control", "case": -1, "sequenced": True, "simulated": True,
        "batch": np.arange(n_ctrl) % n_batches,
        "hpo_from_case": cases["case_id"].to_numpy()[donors],
    })
    people_df = pd.concat([people_df, controls], ignore_index=True)
    causal_df = pd.DataFrame(causal, columns=["family", "chrom", "pos", "ref", "alt", "dose_proband",
                                              "dose_father", "dose_mother"])
    causal_df = causal_df.astype({"family": np.int64, "chrom": np.int8, "pos": np.int64,
                                  "dose_proband": np.int8, "dose_father": np.int8, "dose_mother": np.int8})
    return Cohort(people=people_df, families=pd.DataFrame(families), causal=causal_df)
