rule classify:
    """Rows, pre-filters, categories and frequency filters for one shard."""
    input:
        config=HERON_CONFIG,
        store=WORK / "store" / "{shard}",
        annotation=WORK / "annotation" / "{shard}",
        genes=WORK / "genes.json",
        knowledge=WORK / "knowledge",
    output:
        directory(WORK / "classified" / "{shard}"),
    group:
        "shard"  # with annotate (see there)
    threads: 1
    resources:
        mem_mb=shard_mem_mb,
        runtime=30,
    log:
        WORK / "logs" / "classify" / "{shard}.log",
    shell:
        "heron classify --config {input.config} --store {input.store} "
        "--annotation {input.annotation} --genes {input.genes} --knowledge {input.knowledge} "
        "--out {output} 2> {log}"


rule prioritise:
    """Inheritance models, phenotype and ranking for one batch of whole families, over the
    cohort's classified shards, with the calls read from the store shards (each job reads
    only its families' calls)."""
    input:
        unpack(classified_with_stores),
        config=HERON_CONFIG,
        genes=WORK / "genes.json",
        pedigree=PEDIGREE,
        phenopackets=PHENOPACKETS,
        hpo=HPO,
    output:
        directory(WORK / "prioritised" / "{batch}"),
    params:
        files=heron_files(pedigree="pedigree", phenopacket="phenopackets", hpo_dir="hpo"),
        batch=lambda wc: wc.batch.replace("-of-", "/"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        WORK / "logs" / "prioritise" / "{batch}.log",
    shell:
        "heron prioritise --config {input.config} --classified {input.classified} "
        "--store {input.store} --genes {input.genes} --batch {params.batch} {params.files} --out {output} 2> {log}"
