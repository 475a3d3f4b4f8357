"""Which gene panels apply to which patient, by HPO term.

A panel applies to a patient when one of the panel's HPO terms equals one of the patient's
terms or an ancestor of one (``is_a`` closure): a panel for "Craniosynostosis" applies to a
patient with "Sagittal craniosynostosis". All patients are matched in one join of
(patient, ancestor term) pairs against (panel, term) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from heron.phenotype.ontology import PHENOTYPIC_ABNORMALITY, ROOT, Ontology, csr_gather

#: Panel terms every patient trivially has; a panel listing them would apply to everyone.
TRIVIAL_TERMS = (ROOT, PHENOTYPIC_ABNORMALITY)

PANEL_COLUMNS = ("panel_id", "name", "hpo_terms")
MATCH_COLUMNS = ["sample", "panel_id", "name", "matched_terms", "patient_terms"]


@dataclass(frozen=True)
class PanelMatches:
    """Result of :func:`match_panels`.

    Attributes:
        table: one row per (sample, panel) that applies, columns :data:`MATCH_COLUMNS`, sorted by
            sample then panel: ``matched_terms`` the panel's HPO ids that matched and
            ``patient_terms`` the patient's HPO ids (as given) that reached them, comma separated.
        unknown_terms: sample → the HPO ids of that sample the ontology does not know (each
            once, in input order); only samples with unknown ids appear.
        unknown_panel_terms: panel_id → panel HPO ids the ontology does not know.
    """

    table: pd.DataFrame
    unknown_terms: dict[str, list[str]]
    unknown_panel_terms: dict[object, list[str]]


def match_panels(ontology: Ontology, patients: Mapping[str, Iterable[str]] | pd.DataFrame,
                 panels: pd.DataFrame, *, ignore_terms: Iterable[str] = TRIVIAL_TERMS) -> PanelMatches:
    """Panels whose HPO terms equal a patient term or an ancestor of one.

    Args:
        ontology: the HPO.
        patients: sample → HPO ids, or a DataFrame with columns ``sample`` and ``hpo_id`` (one row
            per term). Alternative and obsolete ids are mapped to current terms.
        panels: DataFrame with columns ``panel_id``, ``name``, ``hpo_terms`` (a list of HPO ids
            per panel; None or empty for panels without terms).
        ignore_terms: panel terms that never make a panel apply (default: the roots, which every
            patient has).
    """
    missing = [c for c in PANEL_COLUMNS if c not in panels.columns]
    if missing:
        raise ValueError(f"panels table lacks column(s) {', '.join(missing)}; "
                         f"expected {', '.join(PANEL_COLUMNS)}")
    observed = _long_patients(patients)
    codes, uniques = pd.factorize(observed["hpo_id"])
    resolved = ontology.resolve(list(uniques))
    term = resolved.index[codes] if codes.size else np.zeros(0, dtype=np.int32)
    unknown = _group_lists(observed.loc[term < 0, "sample"], observed.loc[term < 0, "hpo_id"])

    known = term >= 0
    pos, ancestor = csr_gather(ontology.ancestor_indptr, ontology.ancestor_indices, term[known])
    reach = pd.DataFrame({"sample": observed["sample"].to_numpy()[known][pos],
                          "patient_term": observed["hpo_id"].to_numpy()[known][pos],
                          "term": ancestor})

    panel_terms = panels[list(PANEL_COLUMNS)].reset_index(drop=True)
    panel_terms["hpo_terms"] = panel_terms["hpo_terms"].map(_as_list)
    panel_terms = panel_terms.explode("hpo_terms").dropna(subset=["hpo_terms"])
    panel_terms = panel_terms.rename(columns={"hpo_terms": "panel_term"})
    panel_terms["panel_term"] = panel_terms["panel_term"].astype(str).str.strip()
    p_codes, p_uniques = pd.factorize(panel_terms["panel_term"])
    p_resolved = ontology.resolve(list(p_uniques))
    panel_terms["term"] = p_resolved.index[p_codes] if p_codes.size else np.zeros(0, dtype=np.int32)
    bad = panel_terms["term"] < 0
    unknown_panel = _group_lists(panel_terms.loc[bad, "panel_id"], panel_terms.loc[bad, "panel_term"])
    ignored = ontology.resolve(list(ignore_terms)).index
    panel_terms = panel_terms[~bad & ~panel_terms["term"].isin(ignored)]

    hits = reach.merge(panel_terms, on="term", how="inner")
    table = (hits.groupby(["sample", "panel_id", "name"], sort=True)
             .agg(matched_terms=("panel_term", _join_unique), patient_terms=("patient_term", _join_unique))
             .reset_index())
    return PanelMatches(table=table[MATCH_COLUMNS], unknown_terms=unknown,
                        unknown_panel_terms=unknown_panel)


def _long_patients(patients: Mapping[str, Iterable[str]] | pd.DataFrame) -> pd.DataFrame:
    """object DataFrame [sample, hpo_id], one row per (sample, given id), ids stripped."""
    if isinstance(patients, pd.DataFrame):
        if not {"sample", "hpo_id"} <= set(patients.columns):
            raise ValueError("patients table needs columns 'sample' and 'hpo_id'")
        table = patients[["sample", "hpo_id"]]
    else:
        rows = [(sample, term) for sample, terms in patients.items() for term in terms]
        table = pd.DataFrame(rows, columns=["sample", "hpo_id"], dtype=object)
    table = table.dropna().astype({"sample": str, "hpo_id": str})
    table["hpo_id"] = table["hpo_id"].str.strip()
    return table[table["hpo_id"] != ""].reset_index(drop=True)


def _as_list(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [v for v in value.replace(";", ",").split(",") if v.strip()]
    return list(value)


def _group_lists(keys: pd.Series, values: pd.Series) -> dict:
    """key → unique values in first-seen order."""
    pairs = pd.DataFrame({"key": keys.to_numpy(), "value": values.to_numpy()}).drop_duplicates()
    return {key: list(group["value"]) for key, group in pairs.groupby("key", sort=False)}


def _join_unique(values: pd.Series) -> str:
    return ",".join(sorted(set(values)))
