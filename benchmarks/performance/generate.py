"""Write a simulated cohort: bgzipped and indexed VCF, PED, ClinVar VCF, PanelApp snapshot and
the heron config that runs them.

Files written into ``out``: cohort.vcf.gz (+ .tbi), cohort.ped, clinvar.vcf.gz (+ .tbi),
panelapp.json, heron.yaml (paths relative to ``out``: run heron with ``out`` as the working
folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import yaml

from .cohort import Sites, Spectrum, simulate_calls, simulate_sites
from .vcftext import GRCH38_CONTIGS, Annotator, format_calls, header, interleave, site_columns

# Real HPO ids given to the simulated patients (1-4 each).
HPO_TERMS = ("HP:0001249", "HP:0001250", "HP:0001263", "HP:0000252", "HP:0001252",
             "HP:0004322", "HP:0001631", "HP:0000729", "HP:0002376", "HP:0000486",
             "HP:0001508", "HP:0000365", "HP:0003198", "HP:0001638", "HP:0000083",
             "HP:0001903")
PANEL_ID = 137
CLINVAR_CLASSES = (  # CLNSIG, CLNREVSTAT, share of the ClinVar records
    ("Pathogenic", "criteria_provided,_multiple_submitters,_no_conflicts", 0.25),
    ("Likely_pathogenic", "criteria_provided,_single_submitter", 0.25),
    ("Pathogenic", "no_assertion_criteria_provided", 0.1),
    ("Uncertain_significance", "criteria_provided,_single_submitter", 0.2),
    ("Benign", "criteria_provided,_multiple_submitters,_no_conflicts", 0.2),
)
SO_TERMS = {"missense_variant": "SO:0001583", "stop_gained": "SO:0001587",
            "frameshift_variant": "SO:0001589", "splice_donor_variant": "SO:0001575",
            "splice_acceptor_variant": "SO:0001574", "inframe_deletion": "SO:0001822"}


@dataclass
class Cohort:
    """Paths of a generated cohort and its size."""

    folder: Path
    vcf: Path
    config: Path
    n_samples: int
    n_variants: int
    vcf_bytes: int
    genes: int


def pedigree(n_samples: int, seed: int, trio_share: float = 0.6) -> pd.DataFrame:
    """PED rows (family, individual, father, mother, sex, phenotype, hpo): trios for about
    ``trio_share`` of the samples, singleton probands for the rest."""
    rng = np.random.default_rng([seed, 4])
    trios = int(n_samples * trio_share) // 3
    singles = n_samples - 3 * trios
    rows = []
    for i in range(trios):
        fam = f"FAM{i + 1:05d}"
        rows += [(fam, f"{fam}_child", f"{fam}_father", f"{fam}_mother", 0, 2),
                 (fam, f"{fam}_father", "0", "0", 1, 1), (fam, f"{fam}_mother", "0", "0", 2, 1)]
    for i in range(singles):
        fam = f"FAM{trios + i + 1:05d}"
        rows.append((fam, f"{fam}_proband", "0", "0", 0, 2))
    ped = pd.DataFrame(rows, columns=["family", "individual", "father", "mother", "sex",
                                      "phenotype"])
    child = ped["sex"] == 0
    ped.loc[child, "sex"] = rng.integers(1, 3, child.sum())
    affected = ped["phenotype"] == 2
    terms = np.array(HPO_TERMS)
    k = rng.integers(1, 5, len(ped))
    ped["hpo"] = [",".join(rng.choice(terms, n, replace=False)) if a else ""
                  for n, a in zip(k, affected)]
    return ped


def write_vcf(path: Path, sites: Sites, samples: list[str], genes: pd.DataFrame, seed: int,
              chunk_rows: int = 1000, spectrum: Spectrum = Spectrum()) -> None:
    """The cohort VCF, bgzipped (htslib BGZF) and tabix-indexed, ``chunk_rows`` records at a
    time so memory stays at one chunk of calls."""
    annotator = Annotator(genes, seed)
    out = pysam.BGZFile(str(path), "wb")
    try:
        out.write(header(samples, "heron performance benchmark").encode())
        for chunk, start in enumerate(range(0, len(sites), chunk_rows)):
            rows = slice(start, min(start + chunk_rows, len(sites)))
            calls = simulate_calls(sites, rows, len(samples), seed, chunk, spectrum)
            body, body_len = format_calls(calls, sites.n_alts[rows])
            prefix = site_columns(sites, rows, calls, annotator.csq(sites, rows, seed, chunk))
            out.write(interleave(prefix, body, body_len))
    finally:
        out.close()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def write_clinvar(path: Path, sites: Sites, genes: pd.DataFrame, seed: int,
                  share: float = 0.01) -> int:
    """A ClinVar-format VCF (contigs without ``chr``) over ``share`` of the coding sites'
    first ALT alleles; returns the number of records."""
    rng = np.random.default_rng([seed, 5])
    coding = np.isin(sites.consequence[:, 0], list(SO_TERMS))
    pick = np.flatnonzero(coding & (rng.random(len(sites)) < share * 3))
    shares = np.array([c[2] for c in CLINVAR_CLASSES])
    cls = rng.choice(len(CLINVAR_CLASSES), len(pick), p=shares / shares.sum())
    chrom = np.char.replace(sites.chrom[pick].astype(str), "chr", "")
    chrom = np.where(chrom == "M", "MT", chrom)
    allele_id = np.arange(len(pick)) + 500_000
    gene = genes["symbol"].to_numpy()[sites.gene[pick]]
    table = pd.DataFrame({
        "chrom": chrom, "pos": sites.pos[pick], "id": allele_id - 100_000,
        "ref": sites.ref[pick], "alt": sites.alt[pick, 0], "qual": ".", "filter": ".",
        "info": ("ALLELEID=" + pd.Series(allele_id).astype(str)
                 + ";CLNSIG=" + pd.Series([CLINVAR_CLASSES[c][0] for c in cls])
                 + ";CLNREVSTAT=" + pd.Series([CLINVAR_CLASSES[c][1] for c in cls])
                 + ";GENEINFO=" + pd.Series(gene) + ":" + pd.Series(np.arange(len(pick)) + 1000)
                 .astype(str) + ";MC=" + pd.Series(sites.consequence[pick, 0]).map(SO_TERMS)
                 + "|" + pd.Series(sites.consequence[pick, 0])).to_numpy()})
    lines = ["##fileformat=VCFv4.1", "##fileDate=2025-05-01", "##source=ClinVar",
             "##reference=GRCh38"]
    lines += [f"##contig=<ID={'MT' if c == 'chrM' else c[3:]},length={n}>"
              for c, n in GRCH38_CONTIGS.items()]
    lines += [
        '##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">',
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance">',
        '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">',
        '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant">',
        '##INFO=<ID=MC,Number=.,Type=String,Description="molecular consequence">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    plain = path.with_suffix("")
    plain.write_text("\n".join(lines) + "\n" + table.to_csv(sep="\t", header=False,
                                                            index=False))
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return len(table)


def write_panelapp(path: Path, genes: pd.DataFrame, seed: int) -> None:
    """A PanelApp snapshot with one panel (id PANEL_ID) holding every gene, green."""
    rng = np.random.default_rng([seed, 6])
    days = rng.integers(0, 9 * 365, len(genes))
    dates = (np.datetime64("2016-01-01") + days).astype(str)
    unknown = rng.random(len(genes)) < 0.05
    snapshot = {"source": "panelapp", "base_url": "https://panelapp.genomicsengland.co.uk/api/v1/",
                "retrieved": "2025-05-01", "panels": [{
                    "id": PANEL_ID, "name": "Mendeliome (benchmark)", "version": "1.0",
                    "hpo_terms": [], "relevant_disorders": [],
                    "genes": [{"symbol": s, "hgnc_id": h or None, "ensembl_id_grch37": e,
                               "ensembl_id_grch38": e, "moi": m, "confidence": 3,
                               "green_date": None if u else d}
                              for s, h, e, m, d, u in zip(genes["symbol"], genes["hgnc_id"],
                                                          genes["gene_id"], genes["moi"], dates,
                                                          unknown)]}]}
    path.write_text(json.dumps(snapshot))


def write_config(path: Path) -> None:
    """heron's config for the cohort, paths relative to the cohort folder."""
    config = {"run_date": "2025-06-01", "work_dir": "work", "results_dir": "results",
              "cohort": {"name": "perf", "vcfs": ["cohort.vcf.gz"], "pedigree": "cohort.ped",
                         "genome_build": "GRCh38"},
              "resources": {"clinvar": {"vcf": "clinvar.vcf.gz"},
                            "panelapp": {"snapshot": "panelapp.json"}, "base_panel": PANEL_ID}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def generate(out: Path, n_samples: int, n_variants: int, genes: pd.DataFrame, seed: int = 1,
             spectrum: Spectrum = Spectrum()) -> Cohort:
    """Write every file of a cohort of ``n_samples`` x ``n_variants`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ped = pedigree(n_samples, seed)
    (out / "cohort.ped").write_text("#" + ped.to_csv(sep="\t", index=False))
    sites = simulate_sites(genes, n_variants, n_samples, seed, spectrum)
    vcf = out / "cohort.vcf.gz"
    write_vcf(vcf, sites, ped["individual"].tolist(), genes, seed, spectrum=spectrum)
    write_clinvar(out / "clinvar.vcf.gz", sites, genes, seed)
    write_panelapp(out / "panelapp.json", genes, seed)
    write_config(out / "heron.yaml")
    return Cohort(out, vcf, out / "heron.yaml", n_samples, len(sites), vcf.stat().st_size,
                  len(genes))
