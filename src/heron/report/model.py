"""The report as typed models: the JSON schema of ``report.json`` (versioned).

Version history: 1 — first release. A reader of an older version upgrades it with
:func:`load_report`; fields are only ever added, never renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pydantic_core
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1


class Variant(BaseModel):
    chrom: str
    pos: int
    ref: str
    alt: str


class Consequence(BaseModel):
    """The transcript shown: MANE, else canonical, else the most severe kept one."""

    transcript: str = ""
    consequences: list[str] = Field(default_factory=list)
    hgvsc: str = ""
    hgvsp: str = ""
    mane: bool = False
    canonical: bool = False


class ClinVar(BaseModel):
    classification: str = "not in ClinVar"
    stars: int = 0
    allele_id: int | None = None


class Population(BaseModel):
    gnomad_af: float | None = None
    gnomad_ac: float | None = None
    gnomad_homozygotes: float | None = None
    gnomad_hemizygotes: float | None = None
    callset_ac: int = 0
    callset_an: int = 0


class Phenotype(BaseModel):
    score: float = 0.0
    matched: bool = False
    matched_terms: list[str] = Field(default_factory=list)


class ScoreParts(BaseModel):
    """The parts of the ranking score (heron.config.RankConfig documents the formula)."""

    evidence: float
    phenotype: float
    moi: float
    penalty: float


class Change(BaseModel):
    status: str = Field(description="new, changed, or empty when unchanged since the last run")
    reasons: list[str] = Field(default_factory=list)


class Candidate(BaseModel):
    variant: Variant
    variant_id: str
    gene: str
    moi: str = Field(description="Comma-separated MOI models satisfied")
    categories: dict[str, str | None] = Field(description="Category → date first seen")
    rank: int
    score: float
    score_parts: ScoreParts
    genotypes: dict[str, str] = Field(description="Family member → het|hom|hemi|ref|missing")
    flags: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list, description="Comp-het partner variants")
    consequence: Consequence = Field(default_factory=Consequence)
    clinvar: ClinVar = Field(default_factory=ClinVar)
    population: Population = Field(default_factory=Population)
    phenotype: Phenotype = Field(default_factory=Phenotype)
    first_tagged: str | None = None
    evidence_last_updated: str | None = None
    change: Change = Field(default_factory=lambda: Change(status=""))
    links: dict[str, str] = Field(default_factory=dict)


class SampleReport(BaseModel):
    family_id: str
    affected: bool
    sex: str
    phenotypes: list[str] = Field(default_factory=list)
    phenotype_names: dict[str, str] = Field(default_factory=dict,
                                            description="HPO id → term name")
    candidates: list[Candidate] = Field(default_factory=list)
    below_the_line: int = Field(0, description="Candidates left out by "
                                               "report.max_candidates_per_patient")


class Dropped(BaseModel):
    sample: str
    variant_id: str
    gene: str
    reason: str


class RunInfo(BaseModel):
    date: str
    heron_version: str
    config_digest: str
    genome_build: str
    resources: dict[str, str | None]


class Summary(BaseModel):
    patients: int
    patients_with_candidates: int
    candidates: int
    candidates_per_patient_mean: float
    candidates_per_patient_median: float
    candidates_per_patient_max: int
    per_category: dict[str, int]
    new_since_last_run: int
    changed_since_last_run: int
    dropped_since_last_run: int
    patients_without_candidates: list[str]


class Report(BaseModel):
    schema_version: int = SCHEMA_VERSION
    run: RunInfo
    summary: Summary
    samples: dict[str, SampleReport]
    dropped_since_last_run: list[Dropped] = Field(default_factory=list)


@dataclass
class ReportData:
    """A run's report as plain data in the shape of :class:`Report`, as the report stage
    builds it.

    Validating one model per candidate, nested parts included, costs more than everything
    else the report does, so candidates are plain dicts whose keys follow :class:`Candidate`
    field by field; :meth:`json` writes what ``Report.model_dump_json(indent=1)`` writes for
    the same report, and reads back with :func:`load_report`.

    samples: sample → :class:`SampleReport` fields, "candidates" a list of Candidate-shaped
    dicts. dropped: :class:`Dropped`-shaped dicts. candidates: the flat table of
    :func:`heron.report.candidates.candidate_table`, one row per shown candidate in report
    order, which the TSV and seqr writers read.
    """

    run: RunInfo
    summary: Summary
    samples: dict[str, dict]
    dropped: list[dict]
    candidates: "pd.DataFrame"

    def document(self) -> dict:
        """The report as the plain JSON-ready data of a :class:`Report`."""
        return {"schema_version": SCHEMA_VERSION, "run": self.run.model_dump(),
                "summary": self.summary.model_dump(), "samples": self.samples,
                "dropped_since_last_run": self.dropped}

    def json(self) -> str:
        """report.json's text."""
        return pydantic_core.to_json(self.document(), indent=1).decode()


def load_report(path: str | Path) -> Report:
    """Read a report.json of this or an older schema version."""
    data = json.loads(Path(path).read_text())
    version = data.get("schema_version", 1)
    if version > SCHEMA_VERSION:
        raise ValueError(f"{path}: report schema {version} is newer than this heron reads "
                         f"({SCHEMA_VERSION})")
    return Report.model_validate(data)
