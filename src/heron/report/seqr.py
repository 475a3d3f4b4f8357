"""seqr.json: the candidates in seqr's bulk-import form.

``{"metadata": {"categories": {name: description}, "projects": [cohort]}, "results":
{individual: {"chrom-pos-ref-alt": {"categories": [...], "support_vars": [...]}}}}`` with
variant ids written without ``chr`` (seqr's convention) and comp-het partners as
``support_vars``.
"""

from __future__ import annotations

import re

import pandas as pd
import pydantic_core

# what json.dumps escapes besides the control characters that every JSON writer escapes
_NON_ASCII = re.compile("[\x7f-\U0010ffff]")

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


def seqr_ids(variant_ids: pd.Series) -> pd.Series:
    """:func:`seqr_id` of a column of variant ids."""
    return variant_ids.str.removeprefix("chr").str.replace(":", "-", regex=False)


def render(candidates: pd.DataFrame, cohort: str) -> str:
    """seqr.json's text for :func:`heron.report.candidates.candidate_table` rows; a variant
    listed for one patient under several genes is one entry with the union of their
    categories and partners."""
    results: dict[str, dict] = {}
    partners = candidates["partners"].tolist()
    support = [sorted({seqr_id(p) for p in ps}) if ps else [] for ps in partners]
    for sample, variant, cats, sup in zip(candidates["sample"].tolist(),
                                         seqr_ids(candidates["variant"]).tolist(),
                                         candidates["categories"].tolist(), support):
        entry = results.setdefault(sample, {}).get(variant)
        if entry is None:
            results[sample][variant] = {"categories": sorted(cats), "support_vars": sup}
        else:  # the same variant under another gene
            entry["categories"] = sorted(set(entry["categories"]) | set(cats))
            entry["support_vars"] = sorted(set(entry["support_vars"]) | set(sup))
    used = set().union(*candidates["categories"].tolist()) if len(candidates) else set()
    metadata = {"categories": {name: DESCRIPTIONS.get(name, name) for name in sorted(used)},
                "projects": [cohort]}
    text = pydantic_core.to_json({"metadata": metadata, "results": results}, indent=1).decode()
    return ascii_json(text) + "\n"


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # outside the basic plane: a UTF-16 surrogate pair, as JSON spells it
        code -= 0x10000
        return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"
    return f"\\u{code:04x}"


def ascii_json(text: str) -> str:
    """JSON text with every character outside printable ASCII written as a ``\\uXXXX``
    escape, as ``json.dumps`` writes it: seqr.json stays the plain ASCII it has always been."""
    return text if text.isascii() and "\x7f" not in text else _NON_ASCII.sub(_escape, text)
