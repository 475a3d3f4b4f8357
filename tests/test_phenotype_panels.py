"""Patient → panel matching by HPO term on the tiny ontology."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from heron.phenotype.ontology import Ontology
from heron.phenotype.panels import MATCH_COLUMNS, match_panels

DATA = Path(__file__).parent / "data" / "hpo"

PANELS = pd.DataFrame({
    "panel_id": [1, 2, 3, 4, 5, 6],
    "name": ["Craniosynostosis", "Limb", "Everything", "Seizures", "Old skull", "No terms"],
    "hpo_terms": [["HP:0000102"], ["HP:0000200", "HP:0009999"], ["HP:0000118"], ["HP:0000300"],
                  ["HP:0000900"], None],
})

PATIENTS = {
    "s1": ["HP:0000103", "HP:0000202"],            # sagittal synostosis, broad thumb
    "s2": ["HP:0000102"],
    "s3": ["HP:0000902", "HP:1234567", "junk", "HP:1234567"],  # alt id + unknowns
    "s4": ["HP:0000101"],                           # broader than the panel term
    "s5": ["HP:0000118"],
    "s6": ["HP:0000203"],                           # two parents, one under limbs
}


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return Ontology.from_obo(DATA / "tiny.obo")


def panels_of(table, sample):
    return sorted(table.loc[table["sample"] == sample, "panel_id"])


def test_panel_applies_for_equal_term_or_ancestor_only(onto):
    result = match_panels(onto, PATIENTS, PANELS)
    table = result.table
    assert list(table.columns) == MATCH_COLUMNS
    assert panels_of(table, "s1") == [1, 2, 5]
    assert panels_of(table, "s2") == [1, 5]
    assert panels_of(table, "s3") == [1, 5]
    assert panels_of(table, "s4") == [5]       # a descendant panel term does not apply
    assert panels_of(table, "s5") == []        # root terms never make a panel apply
    assert panels_of(table, "s6") == [2]


def test_reports_which_terms_matched(onto):
    table = match_panels(onto, PATIENTS, PANELS).table.set_index(["sample", "panel_id"])
    assert table.loc[("s1", 1), "matched_terms"] == "HP:0000102"
    assert table.loc[("s1", 1), "patient_terms"] == "HP:0000103"
    assert table.loc[("s1", 2), "patient_terms"] == "HP:0000202"
    assert table.loc[("s1", 5), "matched_terms"] == "HP:0000900"
    assert table.loc[("s3", 1), "patient_terms"] == "HP:0000902"
    assert table.loc[("s1", 2), "name"] == "Limb"


def test_unknown_terms_reported_once_per_sample(onto):
    result = match_panels(onto, PATIENTS, PANELS)
    assert result.unknown_terms == {"s3": ["HP:1234567", "junk"]}
    assert result.unknown_panel_terms == {2: ["HP:0009999"]}


def test_long_table_input_and_custom_ignore_terms(onto):
    long = pd.DataFrame({"sample": ["a", "a", "b"], "hpo_id": ["HP:0000300", " HP:0000104 ", "HP:0000300"]})
    table = match_panels(onto, long, PANELS, ignore_terms=()).table
    assert panels_of(table, "a") == [3, 4]
    assert panels_of(table, "b") == [3, 4]


def test_panel_terms_given_as_text(onto):
    panels = pd.DataFrame({"panel_id": [9], "name": ["Text"], "hpo_terms": ["HP:0000300; HP:0000201"]})
    table = match_panels(onto, {"x": ["HP:0000202"]}, panels).table
    assert table["panel_id"].tolist() == [9] and table["matched_terms"].tolist() == ["HP:0000201"]


def test_no_patients_gives_empty_table(onto):
    result = match_panels(onto, {}, PANELS)
    assert result.table.empty and list(result.table.columns) == MATCH_COLUMNS


def test_panels_table_needs_its_columns(onto):
    with pytest.raises(ValueError, match="hpo_terms"):
        match_panels(onto, PATIENTS, PANELS.drop(columns="hpo_terms"))
