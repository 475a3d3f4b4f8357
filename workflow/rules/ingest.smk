rule ingest:
    """One region of every cohort VCF into a columnar shard."""
    input:
        config=HERON_CONFIG,
        sources=INGEST_SOURCES,
    output:
        directory(WORK / "store" / "{shard}"),
    params:
        region=lambda wc: REGIONS[wc.shard],
    threads: 1
    resources:
        mem_mb=shard_mem_mb,
        runtime=60,
    log:
        WORK / "logs" / "ingest" / "{shard}.log",
    shell:
        "heron ingest --config {input.config} --region '{params.region}' --out {output} 2> {log}"
