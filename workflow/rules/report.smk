rule history_init:
    """A new cohort's history (an empty file is an empty history). Needed once per cohort
    under a storage provider, where the report's job is given the history as an input; without
    storage the first report starts it. Never force this rule: it would replace the history."""
    output:
        HISTORY,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        ": > {output}"


rule report:
    """History update, then the JSON, TSV and HTML reports and the run summary.

    The history is updated, not replaced: Snakemake keeps it in place while the job runs and
    puts the previous version back if the job fails, and heron adds the run in one transaction
    that also writes the reports, so a failed run never changes it."""
    input:
        config=HERON_CONFIG,
        prioritised=lambda wc: expand(WORK / "prioritised" / "{batch}", batch=batches()),
        history=history_input,
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
        "--history {output.history} --out {params.out} 2> {log}"
