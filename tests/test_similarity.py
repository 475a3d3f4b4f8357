"""Resnik and best-match-average scores on the tiny ontology, checked against numbers computed
by hand (IC from 6 annotated genes, see tests/data/hpo/tiny_genes_to_phenotype.txt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology
from heron.phenotype.similarity import PhenotypeScorer, resnik

DATA = Path(__file__).parent / "data" / "hpo"
LN2, LN3, LN6, LN65 = math.log(2), math.log(3), math.log(6), math.log(6 / 5)

# Patient: sagittal craniosynostosis + broad thumb.
PATIENT = ["HP:0000103", "HP:0000202"]


@pytest.fixture(scope="module")
def genes() -> Annotations:
    onto = Ontology.from_obo(DATA / "tiny.obo")
    return Annotations.from_genes_to_phenotype(DATA / "tiny_genes_to_phenotype.txt", onto)


def by_gene(table):
    return table.set_index("gene")


def test_resnik_is_ic_of_most_informative_common_ancestor(genes):
    assert resnik(genes, "HP:0000103", "HP:0000203") == pytest.approx(LN65)  # via head
    assert resnik(genes, "HP:0000103", "HP:0000102") == pytest.approx(LN2)
    assert resnik(genes, "HP:0000202", "HP:0000202") == pytest.approx(LN6)
    assert resnik(genes, "HP:0000202", "HP:0000300") == 0.0
    with pytest.raises(ValueError, match="HP:0009999"):
        resnik(genes, "HP:0009999", "HP:0000202")


def test_patient_direction_bma_by_hand(genes):
    table = PhenotypeScorer(genes, direction="patient").score(PATIENT)
    score = by_gene(table)["score"]
    expected = {"GENEA": (LN2 + LN6) / 2, "GENEB": LN6 / 2, "GENEC": LN65 / 2, "GENED": LN2,
                "GENEE": 0.0, "GENEF": (LN65 + LN2) / 2}
    for gene, value in expected.items():
        assert score[gene] == pytest.approx(value), gene
    assert list(table["gene"]) == ["GENEA", "GENEB", "GENED", "GENEF", "GENEC", "GENEE"]
    assert list(table["rank"]) == [1, 2, 3, 4, 5, 6]
    assert table["rank_fraction"].tolist() == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])


def test_normalised_score_divides_by_best_achievable(genes):
    table = by_gene(PhenotypeScorer(genes, direction="patient").score(PATIENT))
    assert table.loc["GENEA", "score_norm"] == pytest.approx((LN2 + LN6) / (2 * LN6))
    # a gene carrying exactly the patient's terms reaches 1
    exact = by_gene(PhenotypeScorer(genes, direction="patient").score(["HP:0000102"]))
    assert exact.loc["GENEA", "score_norm"] == pytest.approx(1.0)
    assert exact.loc["GENEE", "score_norm"] == 0.0


def test_matched_terms_are_patient_terms_the_gene_carries(genes):
    table = by_gene(PhenotypeScorer(genes).score(PATIENT + ["HP:0000100"]))
    assert table.loc["GENEA", "matched_terms"] == "HP:0000100,HP:0000202"
    assert table.loc["GENEB", "matched_terms"] == "HP:0000100,HP:0000103"
    assert table.loc["GENEE", "matched_terms"] == ""
    assert table.loc["GENEA", "n_matched"] == 2


def test_excluded_terms_lower_scores_of_genes_carrying_them(genes):
    table = by_gene(PhenotypeScorer(genes, direction="patient", excluded_weight=0.5).score(
        PATIENT, excluded=["HP:0000300"]))
    assert table.loc["GENEB", "score"] == pytest.approx((LN6 - 0.5 * LN3) / 2)
    assert table.loc["GENEE", "score"] == pytest.approx(-0.5 * LN3 / 2)
    assert table.loc["GENEA", "score"] == pytest.approx((LN2 + LN6) / 2)
    assert table.loc["GENEB", "contradicted_terms"] == "HP:0000300"
    assert table.loc["GENEE", "score_norm"] == 0.0  # clipped


def test_excluded_ancestor_of_a_present_term_is_ignored(genes):
    scorer = PhenotypeScorer(genes, direction="patient", excluded_weight=1.0)
    plain = scorer.score(PATIENT)
    contradictory = scorer.score(PATIENT, excluded=["HP:0000100"])
    assert np.allclose(plain["score"], contradictory["score"])
    assert (contradictory["contradicted_terms"] == "").all()


def test_symmetric_bma_by_hand(genes):
    table = by_gene(PhenotypeScorer(genes).score(PATIENT))  # symmetric by default
    # GENEC: patient→gene (ln(6/5) + 0)/2; gene→patient: its one term reaches the head, ln(6/5)
    assert table.loc["GENEC", "score"] == pytest.approx(0.5 * (LN65 / 2 + LN65))
    assert table.loc["GENEC", "score_norm"] == pytest.approx(0.5 * (LN65 / (2 * LN6) + LN65 / LN3))
    # GENEB: seizure has nothing in common with the patient, so the gene side halves
    assert table.loc["GENEB", "score"] == pytest.approx(0.5 * (LN6 / 2 + LN6 / 2))


def test_requested_genes_in_order_with_unannotated_ones(genes):
    table = PhenotypeScorer(genes, direction="patient").score(PATIENT + ["HP:0009999", "junk"],
                                                              genes=["GENED", "NOPE", "GENEA"])
    assert list(table["gene"]) == ["GENED", "NOPE", "GENEA"]
    assert list(table["annotated"]) == [True, False, True]
    assert table["score"].iloc[1] == 0.0 and table["rank_fraction"].iloc[1] == 1.0
    assert list(table["rank"]) == [3, 6, 1]
    assert table.attrs["unknown_terms"] == ["HP:0009999", "junk"]


def test_alt_ids_score_like_their_term(genes):
    scorer = PhenotypeScorer(genes)
    assert np.allclose(scorer.score(["HP:0000902"])["score"], scorer.score(["HP:0000102"])["score"])


def test_no_usable_terms_gives_zero_scores(genes):
    table = PhenotypeScorer(genes).score(["HP:0009999"])
    assert (table["score"] == 0).all() and (table["rank_fraction"] == 1.0).all()


def test_excluded_terms_are_ignored_by_default(genes):
    scorer = PhenotypeScorer(genes)
    assert np.allclose(scorer.score(PATIENT)["score"], scorer.score(PATIENT, excluded=["HP:0000300"])["score"])


def test_bad_direction_is_rejected(genes):
    with pytest.raises(ValueError, match="direction"):
        PhenotypeScorer(genes, direction="gene")
