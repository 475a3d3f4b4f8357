"""HPO ontology arrays, annotations and IC on a tiny made-up ontology; HPO file location and
download against a local HTTP server."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from heron.errors import InputError, ResourceError
from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology, csr_gather, format_hpo_id, load_ontology, parse_hpo_id
from heron.resources.hpo import download_hpo, locate_hpo, obo_release

from httpserver import http_server  # noqa: F401 (pytest fixture)

DATA = Path(__file__).parent / "data" / "hpo"


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return Ontology.from_obo(DATA / "tiny.obo")


@pytest.fixture(scope="module")
def genes(onto) -> Annotations:
    return Annotations.from_genes_to_phenotype(DATA / "tiny_genes_to_phenotype.txt", onto)


def curies(onto, index):
    return sorted(onto.curies(index))


def test_terms_are_sorted_int32_with_names_and_release(onto):
    assert onto.release == "hp/releases/2024-01-01"
    assert onto.ids.dtype == np.int32
    assert onto.n_terms == 17
    assert np.all(np.diff(onto.ids) > 0)
    assert onto.names[onto.index_of([102])[0]] == "Craniosynostosis"
    assert onto.obsolete.sum() == 3


def test_parents_csr_keeps_both_parents_of_a_dag_node(onto):
    i = onto.index_of([203])[0]
    parents = onto.parent_indices[onto.parent_indptr[i]:onto.parent_indptr[i + 1]]
    assert curies(onto, parents) == ["HP:0000104", "HP:0000201"]


def test_ancestors_include_self_and_all_paths(onto):
    i = onto.index_of([203])
    assert curies(onto, onto.ancestors(i)) == [
        "HP:0000001", "HP:0000100", "HP:0000104", "HP:0000118", "HP:0000200", "HP:0000201", "HP:0000203"]
    # a union over several terms, sorted and unique
    both = onto.ancestors(onto.index_of([103, 202]))
    assert np.all(np.diff(both) > 0)
    assert curies(onto, both) == ["HP:0000001", "HP:0000100", "HP:0000101", "HP:0000102", "HP:0000103",
                                  "HP:0000118", "HP:0000200", "HP:0000201", "HP:0000202"]


def test_ancestor_rows_are_sorted_and_obsolete_terms_have_only_themselves(onto):
    for i in range(onto.n_terms):
        row = onto.ancestor_indices[onto.ancestor_indptr[i]:onto.ancestor_indptr[i + 1]]
        assert np.all(np.diff(row) > 0) and i in row
    old = onto.index_of([900])[0]
    assert onto.ancestor_indptr[old + 1] - onto.ancestor_indptr[old] == 1


def test_resolve_maps_alt_and_obsolete_ids_and_reports_unknown(onto):
    got = onto.resolve(["HP:0000902", "HP:0000900", "HP:0000904", "HP:0000901", "HP:0009999",
                        "nonsense", 103, "hp_0000202", "HP:0009999"])
    assert onto.curies(got.index[:3]) == ["HP:0000102", "HP:0000101", "HP:0000101"]
    assert list(got.index[3:6]) == [-1, -1, -1]
    assert onto.curies(got.index[6:8]) == ["HP:0000103", "HP:0000202"]
    assert got.unknown == ["HP:0000901", "HP:0009999", "nonsense"]


def test_id_parsing_round_trip():
    assert parse_hpo_id("HP:0001363") == 1363
    assert parse_hpo_id(" HP:0001363 ") == 1363
    assert parse_hpo_id("OMIM:101600") is None
    assert format_hpo_id(1363) == "HP:0001363"


def test_descends_from(onto):
    mask = onto.descends_from("HP:0000200")
    assert curies(onto, np.flatnonzero(mask)) == ["HP:0000200", "HP:0000201", "HP:0000202", "HP:0000203"]


def test_csr_gather_keeps_row_order_and_repeats():
    indptr = np.array([0, 2, 2, 5])
    indices = np.array([10, 11, 20, 21, 22])
    pos, values = csr_gather(indptr, indices, np.array([2, 1, 0, 2]))
    assert pos.tolist() == [0, 0, 0, 2, 2, 3, 3, 3]
    assert values.tolist() == [20, 21, 22, 10, 11, 20, 21, 22]


def test_save_load_round_trip(onto, tmp_path):
    onto.save(tmp_path / "hpo.npz")
    again = Ontology.load(tmp_path / "hpo.npz")
    assert again.release == onto.release
    assert list(again.names) == list(onto.names)
    for name in ("ids", "obsolete", "replaced_by", "alt_ids", "alt_target", "parent_indptr",
                 "parent_indices", "ancestor_indptr", "ancestor_indices"):
        assert np.array_equal(getattr(again, name), getattr(onto, name)), name


def test_load_ontology_uses_a_fresh_cache_and_reparses_a_stale_one(tmp_path):
    obo = tmp_path / "hp.obo"
    obo.write_bytes((DATA / "tiny.obo").read_bytes())
    cache = tmp_path / "cache" / "hp.npz"
    first = load_ontology(obo, cache)
    assert cache.exists() and first.n_terms == 17
    # A cache newer than the obo is trusted as it is.
    Ontology._from_text("[Term]\nid: HP:0000001\nname: All\n", "x").save(cache)
    assert load_ontology(obo, cache).n_terms == 1
    # An obo edited after the cache was written wins.
    os.utime(obo, (cache.stat().st_mtime + 10, cache.stat().st_mtime + 10))
    assert load_ontology(obo, cache).n_terms == 17


def test_annotations_saved_and_loaded_are_the_same(tmp_path, onto, genes):
    path = tmp_path / "g2p.npz"
    genes.save(path)
    again = Annotations.load(path, onto)
    assert list(again.entity_ids) == list(genes.entity_ids) and again.entity_ids.dtype == object
    assert list(again.names) == list(genes.names)
    assert again.dropped_terms == genes.dropped_terms and again.n_entities == genes.n_entities
    for name in ("direct_indptr", "direct_indices", "prop_indptr", "prop_indices",
                 "term_indptr", "term_indices", "term_count", "ic"):
        assert np.array_equal(getattr(again, name), getattr(genes, name)), name
    assert np.array_equal(again.lookup(list(genes.names)), genes.lookup(list(genes.names)))


def test_annotations_of_another_ontology_are_refused(tmp_path, genes):
    path = tmp_path / "g2p.npz"
    genes.save(path)
    other = Ontology._from_text("[Term]\nid: HP:0000001\nname: All\n", "x")
    with pytest.raises(InputError, match="another ontology"):
        Annotations.load(path, other)


def test_phenotype_scorer_reuses_its_annotation_cache_until_the_file_changes(tmp_path):
    from heron.config import HeronConfig
    from heron.pipeline import load_phenotype_scorer

    hpo = tmp_path / "hpo"
    hpo.mkdir()
    for name in ("hp.obo", "genes_to_phenotype.txt", "phenotype.hpoa"):
        source = {"hp.obo": "tiny.obo", "genes_to_phenotype.txt": "tiny_genes_to_phenotype.txt",
                  "phenotype.hpoa": "tiny_phenotype.hpoa"}[name]
        (hpo / name).write_bytes((DATA / source).read_bytes())
    config = HeronConfig.model_validate({"work_dir": str(tmp_path / "work"),
                                         "phenotype": {"hpo_dir": str(hpo)}})
    first, _ = load_phenotype_scorer(config)
    cached = list((tmp_path / "work" / ".cache").glob("genes_to_phenotype-*.npz"))
    assert len(cached) == 1
    # a cache newer than the file is what the next job reads
    stamp = cached[0].stat().st_mtime
    again, _ = load_phenotype_scorer(config)
    assert list(again.annotations.entity_ids) == list(first.annotations.entity_ids)
    assert cached[0].stat().st_mtime == stamp
    # a file changed after the cache was written is read again: one gene fewer
    g2p = hpo / "genes_to_phenotype.txt"
    g2p.write_text("".join(line for line in g2p.read_text().splitlines(keepends=True)
                           if "\tGENEF\t" not in line))
    os.utime(g2p, (stamp + 10, stamp + 10))
    changed, _ = load_phenotype_scorer(config)
    assert "GENEF" in set(first.annotations.names)
    assert set(changed.annotations.names) == set(first.annotations.names) - {"GENEF"}
    # the cache holds the ontology's term indices: a newer ontology file makes it again
    g2p.write_bytes((DATA / "tiny_genes_to_phenotype.txt").read_bytes())
    os.utime(g2p, (stamp - 10, stamp - 10))
    os.utime(hpo / "hp.obo", (stamp + 20, stamp + 20))
    rebuilt, _ = load_phenotype_scorer(config)
    assert "GENEF" in set(rebuilt.annotations.names)


def test_two_hpo_folders_of_one_release_never_share_a_cache(tmp_path):
    from heron.config import HeronConfig
    from heron.pipeline import load_phenotype_scorer

    folders = []
    for name in ("full", "fewer"):
        hpo = tmp_path / name
        hpo.mkdir()
        for target, source in (("hp.obo", "tiny.obo"),
                               ("genes_to_phenotype.txt", "tiny_genes_to_phenotype.txt"),
                               ("phenotype.hpoa", "tiny_phenotype.hpoa")):
            (hpo / target).write_bytes((DATA / source).read_bytes())
        folders.append(hpo)
    fewer = folders[1] / "genes_to_phenotype.txt"
    fewer.write_text("".join(line for line in fewer.read_text().splitlines(keepends=True)
                             if "\tGENEF\t" not in line))
    os.utime(fewer, (1, 1))  # older than any cache: only the cache's name tells them apart
    work = tmp_path / "work"
    scorers = [load_phenotype_scorer(HeronConfig.model_validate(
        {"work_dir": str(work), "phenotype": {"hpo_dir": str(hpo)}}))[0] for hpo in folders]
    assert "GENEF" in set(scorers[0].annotations.names)
    assert "GENEF" not in set(scorers[1].annotations.names)
    assert len(list((work / ".cache").glob("genes_to_phenotype-*.npz"))) == 2


def test_is_a_cycle_is_an_input_error():
    with pytest.raises(InputError, match="cycle"):
        Ontology.from_obo(DATA / "is_a_cycle.obo")


def test_undefined_parent_names_file_and_line():
    with pytest.raises(InputError, match=r"undefined_parent.obo:10: .*HP:0000777"):
        Ontology.from_obo(DATA / "undefined_parent.obo")


def test_not_an_obo_file_is_an_input_error():
    with pytest.raises(InputError, match="no \\[Term\\]"):
        Ontology.from_obo(DATA / "tiny_genes_to_phenotype.txt")


# -- annotations and information content --------------------------------------------------------

def test_gene_annotations_drop_zero_frequency_unknown_and_non_phenotype_terms(genes, onto):
    assert list(genes.names) == ["GENEA", "GENEB", "GENEC", "GENED", "GENEE", "GENEF"]
    assert genes.entity_ids[0] == "NCBIGene:1"
    direct = {genes.names[g]: curies(onto, genes.direct_indices[genes.direct_indptr[g]:genes.direct_indptr[g + 1]])
              for g in range(genes.n_entities)}
    assert direct["GENEA"] == ["HP:0000102", "HP:0000202"]  # inheritance term dropped, duplicate merged
    assert direct["GENED"] == ["HP:0000102", "HP:0000201"]  # alt id mapped, 0/4 seizure dropped
    assert direct["GENEE"] == ["HP:0000300"]
    assert genes.dropped_terms == {"HP:0009999": 1}


def test_propagated_annotations_and_counts(genes, onto):
    g = 5  # GENEF, annotated with the two-parent term
    row = genes.prop_indices[genes.prop_indptr[g]:genes.prop_indptr[g + 1]]
    assert curies(onto, row) == curies(onto, onto.ancestors(onto.index_of([203])))
    count = dict(zip(onto.curies(np.arange(onto.n_terms)), genes.term_count))
    assert count["HP:0000001"] == 6 and count["HP:0000100"] == 5
    assert count["HP:0000102"] == 3 and count["HP:0000201"] == 3 and count["HP:0000006"] == 0


def test_information_content_by_hand(genes, onto):
    ic = dict(zip(onto.curies(np.arange(onto.n_terms)), genes.ic))
    assert ic["HP:0000118"] == 0.0
    assert ic["HP:0000100"] == pytest.approx(math.log(6 / 5))
    assert ic["HP:0000102"] == pytest.approx(math.log(2))
    assert ic["HP:0000104"] == pytest.approx(math.log(3))
    assert ic["HP:0000103"] == pytest.approx(math.log(6))
    assert ic["HP:0000006"] == 0.0  # unannotated


def test_lookup_by_symbol_or_id(genes):
    assert genes.lookup(["GENEC", "NCBIGene:2", "NOPE"]).tolist() == [2, 1, -1]


def test_disease_annotations_from_hpoa(onto):
    diseases = Annotations.from_phenotype_hpoa(DATA / "tiny_phenotype.hpoa", onto)
    assert list(diseases.entity_ids) == ["OMIM:100001", "OMIM:100003"]
    assert diseases.names[0] == "Skull-thumb syndrome"
    row = diseases.direct_indices[diseases.direct_indptr[1]:diseases.direct_indptr[2]]
    assert curies(onto, row) == ["HP:0000300"]  # 0% and NOT rows dropped, inheritance aspect too


def test_annotation_file_without_expected_columns(onto):
    with pytest.raises(InputError, match="missing column"):
        Annotations.from_genes_to_phenotype(DATA / "tiny_phenotype.hpoa", onto)


# -- locating and downloading HPO files ---------------------------------------------------------

def test_locate_folder_and_explicit_files(tmp_path):
    files = locate_hpo(DATA, obo=DATA / "tiny.obo", genes_to_phenotype=DATA / "tiny_genes_to_phenotype.txt")
    assert files.release == "2024-01-01"
    assert files.phenotype_hpoa is None
    with pytest.raises(InputError, match="hp.obo not found"):
        locate_hpo(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        locate_hpo(tmp_path / "nowhere")


def test_obo_release_without_header_is_unknown():
    assert obo_release(DATA / "is_a_cycle.obo") == "unknown"


def serve_tiny_release(server) -> None:
    server.add_file("/hpo/hp.obo", DATA / "tiny.obo")
    server.add_file("/hpo/genes_to_phenotype.txt", DATA / "tiny_genes_to_phenotype.txt")
    server.add_file("/hpo/phenotype.hpoa", DATA / "tiny_phenotype.hpoa")


def test_download_makes_a_snapshot_named_after_the_release(http_server, tmp_path):
    serve_tiny_release(http_server)
    files = download_hpo(tmp_path, base_url=http_server.url("/hpo/"), timeout=5, retries=0)
    assert files.release == "2024-01-01"
    assert files.obo == tmp_path / "hpo" / "2024-01-01" / "hp.obo"
    assert files.phenotype_hpoa is not None and (files.obo.parent / "manifest.json").exists()
    assert files.genes_to_phenotype.read_bytes() == (DATA / "tiny_genes_to_phenotype.txt").read_bytes()
    # The same release again keeps the existing snapshot.
    again = download_hpo(tmp_path, base_url=http_server.url("/hpo/"), timeout=5, retries=0)
    assert again == files
    assert sorted(p.name for p in (tmp_path / "hpo").iterdir()) == ["2024-01-01"]


def test_download_failure_leaves_no_snapshot(http_server, tmp_path):
    serve_tiny_release(http_server)
    urls = {"phenotype.hpoa": http_server.url("/missing.hpoa")}
    with pytest.raises(ResourceError, match="404"):
        download_hpo(tmp_path, base_url=http_server.url("/hpo/"), urls=urls, timeout=5, retries=0)
    assert not (tmp_path / "hpo").exists()
