"""Optional knowledge wired through a run: gnomAD sites VCFs, AlphaMissense scores and
consequences computed by bcftools csq."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from heron.annotate.csq import BIT
from heron.annotate.stage import annotate_shard
from heron.config import HeronConfig
from heron.pipeline import ingest, run_local
from heron.store import Shard

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def demo(tmp_path: Path, **resources) -> HeronConfig:
    return HeronConfig.model_validate({
        "run_date": "2026-11-28", "results_dir": str(tmp_path / "results"),
        "work_dir": str(tmp_path / "work"),
        "cohort": {"vcfs": [str(REPO / "resources/demo/demo.vcf.gz")],
                   "pedigree": str(REPO / "resources/demo/demo.ped")},
        "resources": {"clinvar": {"vcf": str(REPO / "resources/demo/clinvar.vcf.gz")},
                      "panelapp": {"snapshot": str(REPO / "resources/demo/panelapp.json")},
                      **resources}})


def bgzip(text: str, path: Path) -> Path:
    plain = path.with_suffix("")
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    return path


def test_gnomad_sites_vcf_replaces_info_frequencies(tmp_path):
    """A gnomAD sites VCF that knows the SCN2A de novo stop as a variant seen 40 times makes
    it fail the dominant frequency filter, with the rule in the audit trail."""
    header = ("##fileformat=VCFv4.2\n##contig=<ID=chr2,length=242193529>\n"
              '##INFO=<ID=AC_joint,Number=A,Type=Integer,Description="ac">\n'
              '##INFO=<ID=AF_joint,Number=A,Type=Float,Description="af">\n'
              '##INFO=<ID=nhomalt_joint,Number=A,Type=Integer,Description="hom">\n'
              '##INFO=<ID=nhomalt_joint_XY,Number=A,Type=Integer,Description="xy">\n'
              '##INFO=<ID=AF_grpmax_joint,Number=A,Type=Float,Description="grpmax">\n'
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
              "chr2\t165310398\t.\tC\tT\t.\tPASS\tAC_joint=40;AF_joint=0.00003;nhomalt_joint=0;"
              "nhomalt_joint_XY=0;AF_grpmax_joint=0.0001\n")
    sites = bgzip(header, tmp_path / "gnomad.chr2.vcf.gz")
    results = run_local(demo(tmp_path, gnomad={"vcfs": [str(sites)]}))
    table = pd.read_csv(results.parent.parent / "work" / "demo" / "prioritised" / "1-of-1" /
                        "audit.tsv",
                        sep="\t")
    scn2a = table[(table["sample"] == "F1_child") & (table["variant_id"] == "chr2:165310398:C:T")]
    assert scn2a["rule"].tolist() == ["AD.frequency"]
    assert "dominant.gnomad_af" in scn2a["threshold"].iloc[0]
    # the CFTR variant's INFO AF (0.0068) is not used any more: gnomAD now says absent
    work = results.parent.parent / "work" / "demo"
    shard = next(p.name for p in (work / "annotation").iterdir() if not p.name.startswith("."))
    ann = Shard.load(work / "annotation" / shard)
    on_chr7 = Shard.load(work / "store" / shard, tables=("variants",)).variants["chrom"] == 7
    assert on_chr7.any() and np.isnan(ann.variants["ann.gnomad_af"][on_chr7]).all()


def test_alphamissense_fills_unscored_missense(tmp_path):
    tsv = tmp_path / "am.tsv"
    tsv.write_text("# AlphaMissense\n#CHROM\tPOS\tREF\tALT\tgenome\tuniprot_id\ttranscript_id\t"
                   "protein_variant\tam_pathogenicity\tam_class\n"
                   "chr9\t127663330\tG\tA\thg38\tP61764\tENST00000373299.5\tR235Q\t0.91\t"
                   "likely_pathogenic\n")
    config = demo(tmp_path, alphamissense={"tsv": str(tsv)})
    run_local(config)
    folder = tmp_path / "work" / "demo" / "classified"
    classified = Shard.load(next(p for p in folder.iterdir() if not p.name.startswith(".")))
    from heron.classify.categories import CAT

    v = classified.variants
    row = np.flatnonzero((v["pos"][classified.rows["variant"]] == 127663330)
                         & (v["chrom"][classified.rows["variant"]] == 9))
    assert len(row) == 1
    assert classified.rows["categories"][row[0]] & CAT["alphamissense"]
    assert classified.rows["am_score"][row[0]] == np.float32(0.91)


def test_bcftools_csq_consequences(tmp_path):
    fasta = tmp_path / "toy.fa"
    fasta.write_text((DATA / "csq" / "toy_gene.fa").read_text())
    pysam.faidx(str(fasta))
    vcf = bgzip((DATA / "csq" / "toy_variants.vcf").read_text(), tmp_path / "toy.vcf.gz")
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    config = HeronConfig.model_validate({"cohort": {
        "vcfs": [str(vcf)], "reference_fasta": str(fasta)},
        "ingest": {"gff3": str(DATA / "csq" / "toy_gene.gff3")}})
    store = Shard.load(ingest(config, "chr1", tmp_path / "store"), mmap=True)
    ann = annotate_shard(store, config, None)
    tx = ann.transcripts
    stop = np.flatnonzero((store.variants["pos"] == 178) & (store.variants["alt"] == b"T"))[0]
    assert (tx["consequence"][tx["variant"] == stop] & BIT["stop_gained"]).all()
    assert set(tx["gene_symbol"].tolist()) == {b"TOYG"}
