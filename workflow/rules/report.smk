rule history_previous:
    """The cohort's history as it stands before this run (empty before its first run): a copy
    the report starts from, which under a storage provider is how the history reaches the
    report's job. Re-made whenever the history is newer, so the report never starts from an
    old copy; the report ignores this file's date, so re-making it re-runs nothing."""
    input:
        lambda wc: before_update(str(HISTORY)) if exists(str(HISTORY)) else [],
    output:
        HISTORY_PREVIOUS,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "if [ -n '{input}' ]; then cp {input} {output}; else : > {output}; fi"


rule report:
    """History update, then the JSON, TSV and HTML reports and the run summary.

    The history is updated, not replaced: Snakemake keeps it in place while the job runs and
    puts the previous version back if the job fails, and heron adds the run in one transaction
    that also writes the reports, so a failed run never changes it."""
    input:
        config=HERON_CONFIG,
        prioritised=WORK / "prioritised",
        history=ancient(HISTORY_PREVIOUS),
        pedigree=PEDIGREE,
        phenopackets=PHENOPACKETS,
        panelapp=PANELAPP,
        gene_lists=GENE_LISTS,
        hpo=HPO,
    output:
        REPORTS,
        seqr=RESULTS / "seqr.json",
        summary_json=RESULTS / "summary.json",
        summary=RESULTS / "summary.txt",
        history=update(HISTORY),
    params:
        files=heron_files(pedigree="pedigree", phenopacket="phenopackets",
                          panelapp_snapshot="panelapp", gene_list="gene_lists", hpo_dir="hpo"),
        out=lambda wc, output: Path(output.summary).parent,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        WORK / "logs" / "report.log",
    shell:
        "heron report --config {input.config} {params.files} --prioritised {input.prioritised} "
        "--history-from {input.history} --history {output.history} --out {params.out} 2> {log}"
