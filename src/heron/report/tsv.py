"""report.tsv: one row per candidate, safe to open in a spreadsheet."""

from __future__ import annotations

import pandas as pd

from heron.report.model import Report
from heron.tabular import tsv_text

COLUMNS = ["sample", "family", "rank", "score", "variant", "gene", "moi", "categories",
           "new_or_changed", "why", "consequence", "hgvsc", "hgvsp", "clinvar", "clinvar_stars",
           "gnomad_af", "phenotype_score", "matched_terms", "genotypes", "flags", "partners",
           "first_tagged"]

# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value):
    """Prefix text that a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def frame(report: Report) -> pd.DataFrame:
    rows = []
    for sample, rep in report.samples.items():
        for c in rep.candidates:
            rows.append({
                "sample": sample, "family": rep.family_id, "rank": c.rank, "score": c.score,
                "variant": c.variant_id, "gene": c.gene, "moi": c.moi,
                "categories": ",".join(c.categories), "new_or_changed": c.change.status,
                "why": "; ".join(c.change.reasons),
                "consequence": ",".join(c.consequence.consequences),
                "hgvsc": c.consequence.hgvsc, "hgvsp": c.consequence.hgvsp,
                "clinvar": c.clinvar.classification, "clinvar_stars": c.clinvar.stars,
                "gnomad_af": c.population.gnomad_af, "phenotype_score": c.phenotype.score,
                "matched_terms": ",".join(c.phenotype.matched_terms),
                "genotypes": ",".join(f"{k}={v}" for k, v in c.genotypes.items()),
                "flags": ",".join(c.flags), "partners": ",".join(c.partners),
                "first_tagged": c.first_tagged})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.map(excel_safe) if len(out) else out


def render(report: Report) -> str:
    return tsv_text(frame(report))
