# Refreshing reference snapshots: run on a schedule, e.g.
#   snakemake --cores 1 refresh_clinvar refresh_panelapp refresh_hpo
# Each writes a new dated snapshot under resources.root (an unchanged release is kept as it
# is) and never touches the snapshots a run is using. Point the config at the new snapshot
# to use it; `heron resources status --config ...` lists releases, ages and health.


rule refresh_clinvar:
    input:
        config=HERON_CONFIG,
    log:
        WORK / "logs" / "refresh_clinvar.log",
    shell:
        "heron resources download clinvar --with-tables --config {input.config} 2> {log}"


rule refresh_panelapp:
    input:
        config=HERON_CONFIG,
    log:
        WORK / "logs" / "refresh_panelapp.log",
    shell:
        "heron resources download panelapp --config {input.config} 2> {log}"


rule refresh_hpo:
    input:
        config=HERON_CONFIG,
    log:
        WORK / "logs" / "refresh_hpo.log",
    shell:
        "heron resources download hpo --config {input.config} 2> {log}"
