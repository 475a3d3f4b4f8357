rule heron_config:
    """The effective config every heron job reads (the validated Snakemake config)."""
    output:
        HERON_CONFIG,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    run:
        Path(output[0]).write_text(HERON_CONFIG_TEXT)


checkpoint plan:
    """The cohort's shards, from the VCF indexes. Only under a storage provider: otherwise the
    shards are planned when the workflow is read (rules/common.smk)."""
    input:
        config=HERON_CONFIG,
        vcfs=VCFS,
        vcf_indexes=VCF_INDEX_FILES,
        pedigree=PEDIGREE,
        phenopackets=PHENOPACKETS,
    output:
        WORK / "plan.json",
    params:
        files=heron_files(vcf="vcfs", pedigree="pedigree", phenopacket="phenopackets"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        WORK / "logs" / "plan.log",
    shell:
        "heron plan --config {input.config} {params.files} --out {output} 2> {log}"


rule ingest:
    """One shard (its regions) of every cohort VCF into a columnar store."""
    input:
        config=HERON_CONFIG,
        vcfs=VCFS,
        vcf_indexes=VCF_INDEX_FILES,
        sv_vcfs=SV_VCFS,
        sv_vcf_indexes=SV_VCF_INDEX_FILES,
        fasta=FASTA,
        fasta_indexes=FASTA_INDEX_FILES,
        gff3=GFF3,
    output:
        directory(WORK / "store" / "{shard}"),
    params:
        regions=lambda wc: shard_regions(wc.shard),
        files=heron_files(vcf="vcfs", sv_vcf="sv_vcfs", reference_fasta="fasta", gff3="gff3"),
    threads: 1
    resources:
        mem_mb=shard_mem_mb,
        runtime=60,
    log:
        WORK / "logs" / "ingest" / "{shard}.log",
    shell:
        "heron ingest --config {input.config} {params.files} --region '{params.regions}' "
        "--out {output} 2> {log}"
