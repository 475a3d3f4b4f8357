"""seqr.json: the candidates in seqr's bulk-import form.

``{"metadata": {"categories": {name: description}, "projects": [cohort]}, "results":
{individual: {"chrom-pos-ref-alt": {"categories": [...], "support_vars": [...]}}}}`` with
variant ids written without ``chr`` (seqr's convention) and comp-het partners as
``support_vars``.
"""

from __future__ import annotations

import json

from heron.report.model import Report

DESCRIPTIONS = {
    "clinvar_plp": "ClinVar pathogenic or likely pathogenic, at least one star",
    "clinvar_recent_gene": "ClinVar P/LP without stars in a gene newly rated green",
    "clinvar_0star": "ClinVar P/LP without stars",
    "high_impact": "predicted loss of function (frameshift, stop, splice site, start/stop lost)",
    "de_novo": "de novo in a trio, parental reads checked",
    "pm5": "missense at a codon with a different ClinVar P/LP missense",
    "spliceai": "SpliceAI delta score at or above the threshold",
    "alphamissense": "AlphaMissense likely pathogenic",
    "sv_lof": "structural variant predicted to cause loss of function",
}


def seqr_id(variant_id: str) -> str:
    chrom, pos, ref, alt = variant_id.split(":")
    return "-".join((chrom.removeprefix("chr"), pos, ref, alt))


def render(report: Report, cohort: str) -> str:
    results: dict[str, dict] = {}
    used: set[str] = set()
    for sample, rep in report.samples.items():
        for c in rep.candidates:
            entry = results.setdefault(sample, {}).setdefault(
                seqr_id(c.variant_id), {"categories": [], "support_vars": []})
            entry["categories"] = sorted(set(entry["categories"]) | set(c.categories))
            entry["support_vars"] = sorted(set(entry["support_vars"])
                                           | {seqr_id(p) for p in c.partners})
            used |= set(c.categories)
    metadata = {"categories": {name: DESCRIPTIONS.get(name, name) for name in sorted(used)},
                "projects": [cohort]}
    return json.dumps({"metadata": metadata, "results": results}, indent=1) + "\n"
