rule report:
    """History update, then the JSON, TSV and HTML reports and the run summary."""
    input:
        config=HERON_CONFIG,
        prioritised=WORK / "prioritised",
    output:
        REPORTS,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        WORK / "logs" / "report.log",
    shell:
        "heron report --config {input.config} --prioritised {input.prioritised} "
        "--out {RESULTS} 2> {log} && cat {RESULTS}/summary.txt"
