"""Write the bundled demo cohort: VCF, PED, ClinVar VCF and PanelApp snapshot (GRCh38).

Eight families, each built to exercise one route through heron, with decoys that must be
filtered. The files are checked in; run ``python resources/demo/make_demo.py`` to rebuild them
after changing this script. EXPECTED lists what the demo must report; a test holds heron to it.

Gene names, Ensembl ids and MOI strings are real; positions are in the right genes on GRCh38
but the variants are made up except the named ClinVar classics (CFTR F508del, PAH R408W,
MT-ND4 m.11778G>A).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pysam

HERE = Path(__file__).resolve().parent

GENES = {  # symbol: (ensembl id, transcript, MANE NM, chrom)
    "SCN2A": ("ENSG00000136531", "ENST00000375437", "NM_001040142.2", "chr2"),
    "STXBP1": ("ENSG00000136854", "ENST00000373299", "NM_003165.6", "chr9"),
    "CFTR": ("ENSG00000001626", "ENST00000003084", "NM_000492.4", "chr7"),
    "PAH": ("ENSG00000171759", "ENST00000553106", "NM_000277.3", "chr12"),
    "DMD": ("ENSG00000198947", "ENST00000357033", "NM_004006.3", "chrX"),
    "ABCD1": ("ENSG00000101986", "ENST00000218104", "NM_000033.4", "chrX"),
    "FBN1": ("ENSG00000166147", "ENST00000316623", "NM_000138.5", "chr15"),
    "MT-ND4": ("ENSG00000198886", "ENST00000361381", "", "chrM"),
    "GAA": ("ENSG00000171298", "ENST00000302262", "NM_000152.5", "chr17"),
    "FLG": ("ENSG00000143631", "ENST00000368799", "NM_002016.2", "chr1"),
    "OR4F5": ("ENSG00000186092", "ENST00000641515", "NM_001005484.2", "chr1"),
}

PANEL_GENES = {  # symbol: (PanelApp MOI string, date the gene turned green)
    "SCN2A": ("MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown", "2018-03-01"),
    "STXBP1": ("MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown", "2018-03-01"),
    "CFTR": ("BIALLELIC, autosomal or pseudoautosomal", "2017-06-12"),
    "PAH": ("BIALLELIC, autosomal or pseudoautosomal", "2026-06-01"),
    "DMD": ("X-LINKED: hemizygous mutation in males, biallelic mutations in females",
            "2017-06-12"),
    "ABCD1": ("X-LINKED: hemizygous mutation in males, biallelic mutations in females",
              "2019-01-10"),
    "FBN1": ("MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown", "2017-06-12"),
    "MT-ND4": ("MITOCHONDRIAL", "2019-09-01"),
    "GAA": ("BIALLELIC, autosomal or pseudoautosomal", "2017-06-12"),
    "FLG": ("BOTH monoallelic and biallelic, autosomal or pseudoautosomal", "2017-06-12"),
}

# family, individual, father, mother, sex, affected (2/1), HPO terms
PEDIGREE = [
    ("F1", "F1_child", "F1_father", "F1_mother", 1, 2, "HP:0001250,HP:0001263"),
    ("F1", "F1_father", "0", "0", 1, 1, ""),
    ("F1", "F1_mother", "0", "0", 2, 1, ""),
    ("F2", "F2_child", "F2_father", "F2_mother", 2, 2, "HP:0006528;HP:0002150"),
    ("F2", "F2_father", "0", "0", 1, 1, ""),
    ("F2", "F2_mother", "0", "0", 2, 1, ""),
    ("F3", "F3_child", "F3_father", "F3_mother", 1, 2, "HP:0001249,HP:0004923"),
    ("F3", "F3_father", "0", "0", 1, 1, ""),
    ("F3", "F3_mother", "0", "0", 2, 1, ""),
    ("F3", "F3_sib", "F3_father", "F3_mother", 2, 1, ""),  # in the PED, not sequenced
    ("F4", "F4_proband", "0", "0", 1, 2, "HP:0003560,HP:0003236"),
    ("F5", "F5_proband", "0", "0", 2, 2, "HP:0002490"),
    ("F6", "F6_child", "0", "F6_mother", 2, 2, "HP:0001166,HP:0001083"),
    ("F6", "F6_mother", "0", "0", 2, 2, "HP:0001166"),
    ("F7", "F7_proband", "0", "0", 1, 2, "HP:0000648"),
    ("F8", "F8_child1", "F8_father", "F8_mother", 1, 2, "HP:0003198"),
    ("F8", "F8_child2", "F8_father", "F8_mother", 2, 1, ""),
    ("F8", "F8_father", "0", "0", 1, 1, ""),
    ("F8", "F8_mother", "0", "0", 2, 1, ""),
]
SAMPLES = [row[1] for row in PEDIGREE if row[1] != "F3_sib"]

HOM_REF = "0/0:30,0:30:90"


def het(ref=18, alt=16, gq=99):
    return f"0/1:{ref},{alt}:{ref + alt}:{gq}"


def hom(alt=30, gq=90):
    return f"1/1:0,{alt}:{alt}:{gq}"


# Each variant: chrom, pos, ref, alt, gene, consequence, hgvsc, hgvsp, protein position,
# INFO extras, FILTER, genotypes {sample: FORMAT string}, and why it is there.
VARIANTS = [
    # F1: de novo stop_gained in SCN2A (true, AD de novo)
    dict(chrom="chr2", pos=165_310_398, ref="C", alt="T", gene="SCN2A",
         csq="stop_gained", hgvsc="c.1270C>T", hgvsp="p.Arg424Ter", prot=424,
         gt={"F1_child": het(15, 14)}, why="true: de novo stop_gained, AD"),
    # F1: de novo missense in STXBP1, but the father shows 3 alt reads (mosaic/mis-call)
    dict(chrom="chr9", pos=127_663_330, ref="G", alt="A", gene="STXBP1",
         csq="missense_variant", hgvsc="c.704G>A", hgvsp="p.Arg235Gln", prot=235,
         gt={"F1_child": het(20, 18), "F1_father": "0/0:37,3:40:60"},
         why="decoy: de novo rejected, parent alt reads above the ceiling"),
    # F1: FLG stop_gained inherited from the mother; FLG needs a phenotype match
    dict(chrom="chr1", pos=152_312_600, ref="G", alt="T", gene="FLG",
         csq="stop_gained", hgvsc="c.2282G>T", hgvsp="p.Ser761Ter", prot=761,
         gt={"F1_child": het(), "F1_mother": het()},
         why="decoy: FLG only on a phenotype-matched panel"),
    # F2: CFTR F508del homozygous, parents carriers (true, AR hom, ClinVar expert panel)
    dict(chrom="chr7", pos=117_559_590, ref="ATCT", alt="A", gene="CFTR",
         csq="inframe_deletion", hgvsc="c.1521_1523del", hgvsp="p.Phe508del", prot=508,
         info={"gnomad_AF": 0.0068, "gnomad_AC": 1090, "gnomad_nhomalt": 3},
         gt={"F2_child": hom(), "F2_father": het(), "F2_mother": het()},
         why="true: ClinVar P (3 stars) homozygous, AR"),
    # F2: a common CFTR missense, multi-allelic with a rare synonymous allele
    dict(chrom="chr7", pos=117_592_100, ref="C", alt="T,G", gene="CFTR",
         csq="missense_variant", hgvsc="c.2562C>T", hgvsp="p.Thr854Ile", prot=854,
         csq2="synonymous_variant", hgvsc2="c.2562C>G", hgvsp2="p.Thr854=",
         info={"gnomad_AF": "0.03,0.00001", "gnomad_AC": "4800,2",
               "gnomad_nhomalt": "80,0"},
         gt={"F2_child": "1/2:10,9,8:27:80", "F2_father": het()},
         why="decoy: common missense (prefilter) and a synonymous allele"),
    # F3: PAH paternal frameshift + maternal ClinVar LP missense R408W (true, comp-het)
    dict(chrom="chr12", pos=102_840_507, ref="G", alt="A", gene="PAH",
         csq="missense_variant", hgvsc="c.1222C>T", hgvsp="p.Arg408Trp", prot=408,
         info={"gnomad_AF": 0.00021, "gnomad_AC": 33},
         gt={"F3_child": het(), "F3_mother": het()},
         why="true: ClinVar LP, maternal half of a comp-het"),
    dict(chrom="chr12", pos=102_866_632, ref="C", alt="CA", gene="PAH",
         csq="frameshift_variant", hgvsc="c.842dup", hgvsp="p.Pro282AlafsTer7", prot=282,
         gt={"F3_child": het(17, 15), "F3_father": het()},
         why="true: frameshift, paternal half of a comp-het"),
    # F4: DMD stop_gained, haploid call in a male (true, X hemizygous)
    dict(chrom="chrX", pos=31_819_974, ref="G", alt="A", gene="DMD",
         csq="stop_gained", hgvsc="c.3151C>T", hgvsp="p.Arg1051Ter", prot=1051,
         gt={"F4_proband": "1:0,25:25:99"}, why="true: hemizygous stop_gained, X-linked"),
    dict(chrom="chrX", pos=32_364_100, ref="T", alt="C", gene="DMD",
         csq="synonymous_variant", hgvsc="c.1200A>G", hgvsp="p.Lys400=", prot=400,
         gt={"F4_proband": "1:0,22:22:99"}, why="decoy: synonymous, no category"),
    # F5: ABCD1 stop_gained + ClinVar P missense in a female (true, X comp-het)
    dict(chrom="chrX", pos=153_725_100, ref="C", alt="T", gene="ABCD1",
         csq="stop_gained", hgvsc="c.421C>T", hgvsp="p.Gln141Ter", prot=141,
         gt={"F5_proband": het(14, 13)}, why="true: female comp-het, first half"),
    dict(chrom="chrX", pos=153_736_300, ref="G", alt="A", gene="ABCD1",
         csq="missense_variant", hgvsc="c.1415G>A", hgvsp="p.Arg472His", prot=472,
         gt={"F5_proband": het(16, 15)}, why="true: female comp-het, ClinVar P"),
    # F6: FBN1 ClinVar P missense, affected mother and child; a spanning deletion allele
    dict(chrom="chr15", pos=48_505_100, ref="C", alt="T,*", gene="FBN1",
         csq="missense_variant", hgvsc="c.4270C>T", hgvsp="p.Pro1424Ser", prot=1424,
         gt={"F6_child": "1/2:12,14,9:35:99", "F6_mother": het()},
         why="true: ClinVar P inherited from an affected parent, AD"),
    dict(chrom="chr15", pos=48_520_000, ref="A", alt="G", gene="FBN1",
         csq="missense_variant", hgvsc="c.3000T>C", hgvsp="p.Ile1000Thr", prot=1000,
         gt={"F6_child": het()}, why="decoy: ClinVar benign (2 stars)"),
    # F7: MT-ND4 m.11778G>A, 95% heteroplasmy (true, mitochondrial)
    dict(chrom="chrM", pos=11_778, ref="G", alt="A", gene="MT-ND4",
         csq="missense_variant", hgvsc="c.1033G>A", hgvsp="p.Arg340His", prot=340,
         gt={"F7_proband": "1/1:5,95:100:99"}, why="true: ClinVar P mitochondrial"),
    dict(chrom="chr2", pos=165_320_000, ref="A", alt="AT", gene="SCN2A",
         csq="frameshift_variant", hgvsc="c.2000dup", hgvsp="p.Gly668TrpfsTer3", prot=668,
         gt={"F7_proband": "0/1:3,3:6:20"}, why="decoy: depth 6, below the call depth gate"),
    dict(chrom="chr2", pos=165_330_000, ref="G", alt="T", gene="SCN2A",
         csq="stop_gained", hgvsc="c.3000G>T", hgvsp="p.Glu1000Ter", prot=1000,
         filter="LowQual", gt={"F7_proband": het()}, why="decoy: FILTER not PASS"),
    dict(chrom="chr1", pos=69_500, ref="C", alt="A", gene="OR4F5",
         csq="stop_gained", hgvsc="c.410C>A", hgvsp="p.Ser137Ter", prot=137,
         gt={"F7_proband": het()}, why="decoy: gene on no panel"),
    # F8: GAA stop_gained homozygous in the affected child AND the unaffected sibling; the
    # mother's call is missing (never vetoes, never counts)
    dict(chrom="chr17", pos=80_104_600, ref="C", alt="T", gene="GAA",
         csq="stop_gained", hgvsc="c.2560C>T", hgvsp="p.Arg854Ter", prot=854,
         gt={"F8_child1": hom(), "F8_child2": hom(), "F8_father": het(), "F8_mother": "./.:.:.:."},
         why="decoy: unaffected sibling is also homozygous"),
    # F8: STXBP1 stop_gained shared with the unaffected father
    dict(chrom="chr9", pos=127_670_000, ref="C", alt="T", gene="STXBP1",
         csq="stop_gained", hgvsc="c.1000C>T", hgvsp="p.Arg334Ter", prot=334,
         gt={"F8_child1": het(), "F8_father": het()},
         why="decoy: dominant variant carried by an unaffected parent"),
]

CLINVAR = [  # chrom (ClinVar style, no chr), pos, ref, alt, CLNSIG, CLNREVSTAT, gene, allele id
    ("7", 117_559_590, "ATCT", "A", "Pathogenic", "reviewed_by_expert_panel", "CFTR", 22214),
    ("12", 102_840_507, "G", "A", "Likely_pathogenic", "criteria_provided,_single_submitter",
     "PAH", 15662),
    ("15", 48_505_100, "C", "T", "Pathogenic", "criteria_provided,_single_submitter", "FBN1",
     90001),
    ("15", 48_520_000, "A", "G", "Benign", "criteria_provided,_multiple_submitters,_no_conflicts",
     "FBN1", 90002),
    ("MT", 11_778, "G", "A", "Pathogenic", "reviewed_by_expert_panel", "MT-ND4", 24471),
    ("X", 153_736_300, "G", "A", "Pathogenic",
     "criteria_provided,_multiple_submitters,_no_conflicts", "ABCD1", 90003),
]

EXPECTED = {  # sample: sorted list of (chrom:pos:ref:alt, gene, model)
    "F1_child": [("chr2:165310398:C:T", "SCN2A", "AD")],
    "F2_child": [("chr7:117559590:ATCT:A", "CFTR", "AR_hom")],
    "F3_child": [("chr12:102840507:G:A", "PAH", "AR_comphet"),
                 ("chr12:102866632:C:CA", "PAH", "AR_comphet")],
    "F4_proband": [("chrX:31819974:G:A", "DMD", "X_male")],
    "F5_proband": [("chrX:153725100:C:T", "ABCD1", "XLR_comphet"),
                   ("chrX:153736300:G:A", "ABCD1", "XLR_comphet")],
    "F6_child": [("chr15:48505100:C:T", "FBN1", "AD")],
    "F6_mother": [("chr15:48505100:C:T", "FBN1", "AD")],
    "F7_proband": [("chrM:11778:G:A", "MT-ND4", "mito")],
    "F8_child1": [],
}

CONTIGS = {"chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555,
           "chr5": 181538259, "chr6": 170805979, "chr7": 159345973, "chr8": 145138636,
           "chr9": 138394717, "chr10": 133797422, "chr11": 135086622, "chr12": 133275309,
           "chr13": 114364328, "chr14": 107043718, "chr15": 101991189, "chr16": 90338345,
           "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
           "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415,
           "chrM": 16569}

CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
              "HGVSc|HGVSp|Protein_position|Amino_acids|CANONICAL|MANE_SELECT|am_class|"
              "am_pathogenicity|REVEL")
IMPACT = {"stop_gained": "HIGH", "frameshift_variant": "HIGH", "missense_variant": "MODERATE",
          "inframe_deletion": "MODERATE", "synonymous_variant": "LOW", "intron_variant": "MODIFIER"}


def vep_alleles(ref: str, alts: list[str]) -> list[str]:
    alleles = [ref, *alts]
    if len({len(a) for a in alleles}) > 1 and len({a[0] for a in alleles}) == 1:
        return [a[1:] or "-" for a in alts]
    return alts


def csq_entry(allele, gene, consequence, hgvsc, hgvsp, prot):
    gene_id, tx, mane, _ = GENES[gene]
    biotype = "protein_coding"
    return "|".join([allele, consequence, IMPACT.get(consequence, "MODIFIER"), gene, gene_id,
                     "Transcript", tx, biotype, "", "", f"{tx}:{hgvsc}",
                     f"{tx.replace('ENST', 'ENSP')}:{hgvsp}" if hgvsp else "",
                     str(prot) if prot else "", "", "YES", mane, "", "", ""])


def background(rng: random.Random) -> list[dict]:
    """Synonymous and intronic calls in panel genes: realistic noise with no category."""
    out = []
    for i in range(120):
        gene = rng.choice(sorted(PANEL_GENES))
        chrom = GENES[gene][3]
        if chrom == "chrM":
            continue
        base = {"chr2": 165_200_000, "chr9": 127_650_000, "chr7": 117_500_000,
                "chr12": 102_830_000, "chrX": 31_000_000 if gene == "DMD" else 153_720_000,
                "chr15": 48_480_000, "chr17": 80_100_000, "chr1": 152_300_000}[chrom]
        pos = base + rng.randrange(1, 9000) * 7 + i
        ref, alt = rng.choice([("A", "G"), ("C", "T"), ("G", "A"), ("T", "C")])
        csq = rng.choice(["synonymous_variant", "intron_variant"])
        carriers = rng.sample(SAMPLES, rng.randint(1, 6))
        gts = {}
        for s in carriers:
            male = next(r[4] for r in PEDIGREE if r[1] == s) == 1
            if chrom == "chrX" and male:
                gts[s] = "1:0,20:20:99"
            else:
                gts[s] = het() if rng.random() < 0.8 else hom()
        out.append(dict(chrom=chrom, pos=pos, ref=ref, alt=alt, gene=gene, csq=csq,
                        hgvsc=f"c.{pos % 5000}{ref}>{alt}", hgvsp="", prot=None,
                        info={"gnomad_AF": round(rng.uniform(0.02, 0.4), 4)}, gt=gts,
                        why="background"))
    return out


def write_vcf(path: Path, variants: list[dict]) -> None:
    header = ["##fileformat=VCFv4.2", "##source=heron demo cohort (make_demo.py)",
              "##reference=GRCh38"]
    header += [f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()]
    header += [
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="Low quality">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        f'Ensembl VEP. Format: {CSQ_FORMAT}">',
        '##INFO=<ID=gnomad_AF,Number=A,Type=Float,Description="gnomAD v4.1 joint AF">',
        '##INFO=<ID=gnomad_AC,Number=A,Type=Integer,Description="gnomAD v4.1 joint AC">',
        '##INFO=<ID=gnomad_nhomalt,Number=A,Type=Integer,Description="gnomAD homozygotes">',
        '##INFO=<ID=gnomad_nhemi,Number=A,Type=Integer,Description="gnomAD hemizygotes">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                         "FORMAT", *SAMPLES]),
    ]
    order = {c: i for i, c in enumerate(CONTIGS)}
    lines = []
    for v in sorted(variants, key=lambda v: (order[v["chrom"]], v["pos"])):
        alts = v["alt"].split(",")
        alleles = vep_alleles(v["ref"], alts)
        entries = [csq_entry(alleles[0], v["gene"], v["csq"], v["hgvsc"], v["hgvsp"], v["prot"])]
        if len(alts) > 1 and alts[1] != "*":
            entries.append(csq_entry(alleles[1], v["gene"], v["csq2"], v["hgvsc2"], v["hgvsp2"],
                                     v["prot"]))
        info = [f"CSQ={','.join(entries)}"]
        info += [f"{k}={val}" for k, val in v.get("info", {}).items()]
        male = {r[1]: r[4] == 1 for r in PEDIGREE}
        calls = []
        for s in SAMPLES:
            if s in v["gt"]:
                calls.append(v["gt"][s])
            elif v["chrom"] in ("chrX", "chrM") and (male[s] or v["chrom"] == "chrM"):
                calls.append("0:30,0:30:90")
            else:
                calls.append(HOM_REF)
        lines.append("\t".join([v["chrom"], str(v["pos"]), ".", v["ref"], v["alt"], "500",
                                v.get("filter", "PASS"), ";".join(info), "GT:AD:DP:GQ",
                                *calls]))
    plain = path.with_suffix("")
    plain.write_text("\n".join(header + lines) + "\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def write_clinvar(path: Path) -> None:
    header = ["##fileformat=VCFv4.1", "##fileDate=2026-10-05", "##source=ClinVar (heron demo)",
              "##reference=GRCh38"]
    header += [f"##contig=<ID={c.removeprefix('chr').replace('M', 'MT')},length={n}>"
               for c, n in CONTIGS.items()]
    header += [
        '##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">',
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance">',
        '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">',
        '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    order = {c.removeprefix("chr").replace("M", "MT"): i for i, c in enumerate(CONTIGS)}
    lines = []
    for chrom, pos, ref, alt, sig, status, gene, allele in sorted(
            CLINVAR, key=lambda r: (order[r[0]], r[1])):
        lines.append(f"{chrom}\t{pos}\t{allele}\t{ref}\t{alt}\t.\t.\tALLELEID={allele};"
                     f"CLNSIG={sig};CLNREVSTAT={status};GENEINFO={gene}:{allele}")
    plain = path.with_suffix("")
    plain.write_text("\n".join(header + lines) + "\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def write_panelapp(path: Path) -> None:
    def gene(symbol):
        moi, green = PANEL_GENES[symbol]
        return {"symbol": symbol, "hgnc_id": None, "ensembl_id_grch37": GENES[symbol][0],
                "ensembl_id_grch38": GENES[symbol][0], "moi": moi, "confidence": 3,
                "green_date": green}

    panels = [
        {"id": 137, "name": "Mendeliome", "version": "1.2180", "hpo_terms": [],
         "relevant_disorders": [], "genes": [gene(g) for g in sorted(PANEL_GENES)]},
        {"id": 3101, "name": "Ichthyosis and erythrokeratoderma", "version": "2.4",
         "hpo_terms": ["HP:0008064"], "relevant_disorders": ["Ichthyosis HP:0008064"],
         "genes": [gene("FLG")]},
    ]
    path.write_text(json.dumps({"source": "panelapp", "base_url": "https://panelapp-aus.org/api/v1/",
                                "retrieved": "2026-11-01", "panels": panels}, indent=1) + "\n")


def write_ped(path: Path) -> None:
    lines = ["#family\tindividual\tfather\tmother\tsex\tphenotype\thpo"]
    lines += ["\t".join(str(c) for c in row) for row in PEDIGREE]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    rng = random.Random(20261128)
    write_vcf(HERE / "demo.vcf.gz", VARIANTS + background(rng))
    write_clinvar(HERE / "clinvar.vcf.gz")
    write_panelapp(HERE / "panelapp.json")
    write_ped(HERE / "demo.ped")
    (HERE / "expected.json").write_text(json.dumps(EXPECTED, indent=1) + "\n")


if __name__ == "__main__":
    main()
