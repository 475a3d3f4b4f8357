"""bcftools csq runner: consequences of a made-up gene, both modes, contig naming, the real
chr21 Ensembl GFF3, and heron's BCSQ parsing of the result."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest

from heron.annotate.bcftools_csq import consequence_field, run_bcftools_csq, unify_chr_names
from heron.annotate.csq import BIT, parse_annotations
from heron.errors import InputError
from heron.ingest.vcf import read_region

DATA = Path(__file__).resolve().parent / "data" / "csq"
# One gene TOYG (ENST00000900001, + strand) on a 2 kb contig: exon 1 101-300 (CDS from 151),
# intron 301-500, exon 2 501-900 (CDS to 800). GFF3 names the contig "1", FASTA and VCF "chr1".
EXPECTED = {  # (pos, alt) -> the consequence bcftools csq calls in local mode
    (178, "T"): "stop_gained", (178, "G"): "missense", (208, "C"): "missense",
    (223, "T"): "stop_gained", (225, "C"): "missense", (302, "C"): "splice_donor",
    (400, "A"): "intron", (410, "A"): "intron", (410, "C"): "intron", (599, "G"): "frameshift",
}


@pytest.fixture
def toy(tmp_path):
    """Indexed copies of the toy VCF, FASTA and GFF3 in tmp_path."""
    for name in ("toy_gene.fa", "toy_gene.gff3"):
        shutil.copy(DATA / name, tmp_path / name)
    vcf = tmp_path / "toy_variants.vcf.gz"
    pysam.tabix_compress(str(DATA / "toy_variants.vcf"), str(vcf), force=True)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    pysam.faidx(str(tmp_path / "toy_gene.fa"))
    return {"vcf": vcf, "fasta": tmp_path / "toy_gene.fa", "gff": tmp_path / "toy_gene.gff3"}


def bcsq(path: Path) -> dict[tuple[int, str], list[str]]:
    """(pos, alt) -> BCSQ entries of that record (shared by its ALTs)."""
    out = {}
    with pysam.VariantFile(str(path)) as vcf:
        for rec in vcf:
            for alt in rec.alts:
                out[(rec.pos, alt)] = list(rec.info.get("BCSQ", ()))
    return out


def test_local_mode_consequences(toy, tmp_path):
    assert consequence_field(toy["vcf"]) is None
    out = run_bcftools_csq(toy["vcf"], tmp_path / "out" / "csq.vcf.gz", gff=toy["gff"],
                           fasta=toy["fasta"])
    assert Path(f"{out}.tbi").is_file() and consequence_field(out) == "BCSQ"
    entries = bcsq(out)
    for (pos, alt), term in EXPECTED.items():
        fields = [e.split("|") for e in entries[(pos, alt)]]
        # an entry names its ALT in dna_change (7th field) when it has one
        own = [f[0] for f in fields if len(f) < 7 or f[6].endswith(f">{alt}")]
        assert own == [term], (pos, alt, entries[(pos, alt)])
    assert entries[(178, "T")] == [
        "stop_gained|TOYG|ENST00000900001|protein_coding|+|10Q>10*|178C>T",
        "missense|TOYG|ENST00000900001|protein_coding|+|10Q>10E|178C>G"]
    with pysam.VariantFile(str(out)) as vcf:
        assert "BCSQ" not in vcf.header.formats  # site-level: no per-sample bitmask
        assert [r.chrom for r in vcf] == ["chr1"] * 8  # the VCF's contig names are kept


def test_region_in_either_spelling(toy, tmp_path):
    out = run_bcftools_csq(toy["vcf"], tmp_path / "part.vcf.gz", gff=toy["gff"],
                           fasta=toy["fasta"], region="1:200-450")
    assert sorted(bcsq(out)) == [(208, "C"), (223, "T"), (225, "C"), (302, "C"), (400, "A"),
                                 (410, "A"), (410, "C")]


def test_haplotype_mode_phased_compound_and_unphased_refusal(toy, tmp_path):
    with pytest.raises(InputError, match=r"Unphased heterozygous genotype at chr1:178.*phase"):
        run_bcftools_csq(toy["vcf"], tmp_path / "hap.vcf.gz", gff=toy["gff"],
                         fasta=toy["fasta"], mode="haplotype")
    assert not (tmp_path / "hap.vcf.gz").exists()
    out = run_bcftools_csq(toy["vcf"], tmp_path / "hap.vcf.gz", gff=toy["gff"],
                           fasta=toy["fasta"], mode="haplotype", phase="a")
    entries = bcsq(out)
    # S2 carries 223C>T and 225G>C in cis: CAG -> TAC is Gln>Tyr, not the stop 223C>T alone makes
    assert entries[(223, "T")] == [
        "missense|TOYG|ENST00000900001|protein_coding|+|25Q>25Y|223C>T+225G>C"]
    assert entries[(225, "C")] == ["@223"]
    with pysam.VariantFile(str(out)) as vcf:
        assert "BCSQ" in vcf.header.formats


def test_contig_naming_and_bad_input(toy, tmp_path):
    assert unify_chr_names(toy["vcf"], toy["gff"], toy["fasta"]) == "chr,-,chr"
    with pytest.raises(InputError, match="GFF3 gene models not found"):
        run_bcftools_csq(toy["vcf"], tmp_path / "x.vcf.gz", gff=tmp_path / "no.gff3",
                         fasta=toy["fasta"])
    with pytest.raises(InputError, match="unknown bcftools csq mode"):
        run_bcftools_csq(toy["vcf"], tmp_path / "x.vcf.gz", gff=toy["gff"],
                         fasta=toy["fasta"], mode="greedy")
    other = tmp_path / "other_build.fa"
    other.write_text(">chr2\nACGT\n")
    pysam.faidx(str(other))
    with pytest.raises(InputError, match="bcftools csq failed"):
        run_bcftools_csq(toy["vcf"], tmp_path / "x.vcf.gz", gff=toy["gff"], fasta=other)
    assert not (tmp_path / "x.vcf.gz").exists()


def _transcripts(path: Path):
    shard = read_region(path, None, build="GRCh38", info_string=["BCSQ"])
    v = shard.variants
    tx = parse_annotations(v["info.BCSQ"], shard.meta["info_descriptions"]["BCSQ"],
                           v["vep_allele"], v["alt"], v["n_alts"], chrom=v["chrom"],
                           pos=v["pos"], ref=v["ref"])
    names = [f"{p}:{a}" for p, a in zip(v["pos"], np.char.decode(v["alt"].astype("S"), "ascii"))]
    return names, tx


def test_parse_annotations_reads_local_bcsq(toy, tmp_path):
    out = run_bcftools_csq(toy["vcf"], tmp_path / "csq.vcf.gz", gff=toy["gff"], fasta=toy["fasta"])
    names, tx = _transcripts(out)
    for (pos, alt), term in EXPECTED.items():
        if (pos, alt) in {(410, "A"), (410, "C")}:
            continue  # multi-allelic record without dna_change: tested below
        rows = tx["variant"] == names.index(f"{pos}:{alt}")
        bits = np.bitwise_or.reduce(tx["consequence"][rows])
        assert bits == BIT[term], (pos, alt, bits)  # its own ALT's entry only
    stop = tx["variant"] == names.index("178:T")
    assert tx["transcript"][stop].tolist() == [b"ENST00000900001"]
    assert tx["gene_symbol"][stop].tolist() == [b"TOYG"]
    assert tx["protein_pos"][stop].tolist() == [10]
    assert tx["biotype"][stop].tolist() == [b"protein_coding"]


def test_parse_annotations_keeps_shared_entries_of_multiallelic_records(toy, tmp_path):
    out = run_bcftools_csq(toy["vcf"], tmp_path / "csq.vcf.gz", gff=toy["gff"], fasta=toy["fasta"])
    names, tx = _transcripts(out)
    for name in ("410:A", "410:C"):
        rows = tx["variant"] == names.index(name)
        assert rows.any() and (tx["consequence"][rows] & BIT["intron"]).all()


def test_parse_annotations_follows_compound_pointers(toy, tmp_path):
    out = run_bcftools_csq(toy["vcf"], tmp_path / "hap.vcf.gz", gff=toy["gff"],
                           fasta=toy["fasta"], mode="haplotype", phase="a")
    names, tx = _transcripts(out)
    rows = tx["variant"] == names.index("225:C")
    assert (tx["consequence"][rows] == BIT["missense"]).all() and rows.any()


def test_real_chr21_gff3_parses(shared_data, tmp_path):
    """Ensembl's chr21 GFF3 with a random sequence of chr21's length: the gene models parse
    and CDS / intron positions get coding / intron consequences of the right gene."""
    gff = shared_data / "gene-models" / "ensembl_GRCh38_chr21.gff3.gz"
    length = 46709983
    rng = np.random.default_rng(21)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, length, dtype=np.uint8)]
    fasta = tmp_path / "chr21_random.fa"
    with open(fasta, "wb") as handle:
        handle.write(b">chr21\n" + seq.tobytes() + b"\n")
    pysam.faidx(str(fasta))
    # ENST00000624081 (CH507-9B2.2, + strand): CDS 5011799-5011874 and 5012548-5012687
    sites = {5011830: "coding", 5012600: "coding", 5012000: "intron"}
    vcf = tmp_path / "chr21.vcf"
    lines = ["##fileformat=VCFv4.2", f"##contig=<ID=chr21,length={length}>",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for pos in sorted(sites):
        ref = chr(seq[pos - 1])
        lines.append(f"chr21\t{pos}\t.\t{ref}\t{'A' if ref != 'A' else 'C'}\t.\tPASS\t.")
    vcf.write_text("\n".join(lines) + "\n")
    out = run_bcftools_csq(vcf, tmp_path / "chr21.csq.vcf.gz", gff=gff, fasta=fasta)
    coding = {"missense", "synonymous", "stop_gained", "stop_lost", "stop_retained"}
    with pysam.VariantFile(str(out)) as handle:
        for rec in handle:
            terms = {e.split("|")[0] for e in rec.info["BCSQ"]}
            genes = {e.split("|")[1] for e in rec.info["BCSQ"]}
            assert "CH507-9B2.2" in genes
            if sites[rec.pos] == "intron":
                assert "intron" in terms
            else:
                assert terms & coding, (rec.pos, terms)
