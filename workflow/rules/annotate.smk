rule knowledge:
    """Reference sources as arrays for the run: ClinVar table and PM5 index, gnomAD and
    AlphaMissense indexes when configured."""
    input:
        config=HERON_CONFIG,
        clinvar_vcf=CLINVAR_VCF,
        clinvar_submissions=CLINVAR_SUBMISSIONS,
        clinvar_variants=CLINVAR_VARIANTS,
        gnomad=GNOMAD_VCFS,
        alphamissense=ALPHAMISSENSE,
    output:
        directory(WORK / "knowledge"),
    params:
        files=heron_files(clinvar_vcf="clinvar_vcf",
                          clinvar_submission_summary="clinvar_submissions",
                          clinvar_variant_summary="clinvar_variants", gnomad_vcf="gnomad",
                          alphamissense_tsv="alphamissense"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        WORK / "logs" / "knowledge.log",
    shell:
        "heron knowledge --config {input.config} {params.files} --out {output} 2> {log}"


rule annotate:
    """Consequences, ClinVar, population frequencies and scores for one shard."""
    input:
        config=HERON_CONFIG,
        store=WORK / "store" / "{shard}",
        knowledge=WORK / "knowledge",
    output:
        directory(WORK / "annotation" / "{shard}"),
    # on a cluster a shard's annotate and classify go as one job: two short steps of the same
    # shard, one queue wait and one Snakemake start-up on the node instead of two
    group:
        "shard"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        WORK / "logs" / "annotate" / "{shard}.log",
    shell:
        "heron annotate --config {input.config} --store {input.store} --knowledge {input.knowledge} "
        "--out {output} 2> {log}"


rule genes:
    """Every patient's gene set: base, forced and HPO-matched panels, gene lists."""
    input:
        config=HERON_CONFIG,
        pedigree=PEDIGREE,
        phenopackets=PHENOPACKETS,
        panelapp=PANELAPP,
        gene_lists=GENE_LISTS,
        hpo=HPO,
    output:
        WORK / "genes.json",
    params:
        files=heron_files(pedigree="pedigree", phenopacket="phenopackets",
                          panelapp_snapshot="panelapp", gene_list="gene_lists", hpo_dir="hpo"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        WORK / "logs" / "genes.log",
    shell:
        "heron genes --config {input.config} {params.files} --out {output} 2> {log}"
