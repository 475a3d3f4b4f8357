rule knowledge:
    """Reference sources as arrays for the run: ClinVar table and PM5 index, gnomAD and
    AlphaMissense indexes when configured."""
    input:
        config=HERON_CONFIG,
        sources=KNOWLEDGE_SOURCES,
    output:
        directory(WORK / "knowledge"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        WORK / "logs" / "knowledge.log",
    shell:
        "heron knowledge --config {input.config} --out {output} 2> {log}"


rule annotate:
    """Consequences, ClinVar, population frequencies and scores for one shard."""
    input:
        config=HERON_CONFIG,
        store=WORK / "store" / "{shard}",
        knowledge=WORK / "knowledge",
    output:
        directory(WORK / "annotation" / "{shard}"),
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
        sources=GENE_SOURCES,
    output:
        WORK / "genes.json",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        WORK / "logs" / "genes.log",
    shell:
        "heron genes --config {input.config} --out {output} 2> {log}"
