"""The prioritise stage: batches of whole families (their union is the whole run), the number
of batches, and the phenotype bar of AlphaMissense-only candidates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from heron.ingest.pedigree import Individual, Pedigree
from heron.pipeline import prioritise, run_local
from heron.report.build import write_reports
from test_reanalysis import REPO, demo_config


def person(id_, family, affected=2, father=None, mother=None, sex=1):
    return Individual(id=id_, family=family, father=father, mother=mother, sex=sex,
                      affected=affected)


def test_family_batches_keep_families_whole_and_balanced():
    ped = Pedigree([
        person("k1", "F1"), person("d1", "F1", 1), person("m1", "F1", 1, sex=2),
        person("k2", "F2"), person("k3", "F3"), person("s3", "F3"),
        person("u4", "F4", 1),  # no affected member: analysed in no batch
        person("k5", "F5"), person("x5", "F5", 1)])
    samples = ["m1", "k1", "d1", "k2", "k3", "s3", "u4", "k5", "x5", "not_in_ped"]
    batches = ped.family_batches(samples, 2)
    assert sorted(s for b in batches for s in b) == sorted(set(samples) - {"u4", "not_in_ped"})
    family = {s: ped.individuals[s].family for s in samples if s in ped.individuals}
    for batch in batches:  # whole families, store order kept
        fams = {family[s] for s in batch}
        assert all({s for s in family if family[s] == f and s != "u4"} <= set(batch) for f in fams)
        assert batch == [s for s in samples if s in batch]
    assert sorted(len(b) for b in batches) == [4, 4]
    assert ped.family_batches(samples, 2) == batches  # deterministic
    assert [len(b) for b in ped.family_batches(samples, 9)].count(0) == 5


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batches")
    config = demo_config(tmp, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06")
    results = run_local(config)
    return config, tmp / "work" / config.cohort.name, results


def _shards(work: Path) -> tuple[list[Path], list[Path]]:
    classified = sorted(p for p in (work / "classified").iterdir() if not p.name.startswith("."))
    return classified, [work / "store" / p.name for p in classified]


def _rows(folder: Path, columns: list[str]) -> set:
    table = pd.read_csv(folder, sep="\t", keep_default_na=False)
    return set(map(tuple, table[columns].astype(str).to_numpy().tolist()))


def test_batches_together_give_the_whole_run(demo_run, tmp_path):
    config, work, results = demo_run
    classified, stores = _shards(work)
    parts = [prioritise(config, classified, stores, work / "genes.json", tmp_path / f"b{i}", (i, 3))
             for i in (1, 2, 3)]
    whole = work / "prioritised" / "1-of-1"
    cand = ["sample", "variant_id", "symbol", "models", "partners", "categories", "score"]
    assert set().union(*(_rows(p / "candidates.tsv", cand) for p in parts)) == \
        _rows(whole / "candidates.tsv", cand)
    audit = ["sample", "variant_id", "symbol", "model", "rule", "observed"]
    assert set().union(*(_rows(p / "audit.tsv", audit) for p in parts)) == \
        _rows(whole / "audit.tsv", audit)
    # each batch holds only its families' samples, and at least one batch has candidates
    samples = [set(pd.read_csv(p / "candidates.tsv", sep="\t")["sample"]) for p in parts]
    assert all(not (a & b) for i, a in enumerate(samples) for b in samples[i + 1:])
    # the report from the three batches equals the report of the whole run
    batched = config.model_copy(update={"results_dir": str(tmp_path / "results")})
    write_reports(batched, parts, tmp_path / "results" / config.cohort.name)
    report = json.loads((tmp_path / "results" / config.cohort.name / "report.json").read_text())
    expected = json.loads((results / "report.json").read_text())
    assert report["samples"] == expected["samples"]


def test_reports_are_never_older_than_the_history(demo_run, tmp_path, monkeypatch):
    import time

    from heron import history

    config, work, _ = demo_run
    classified, stores = _shards(work)
    part = prioritise(config, classified, stores, work / "genes.json", tmp_path / "b", (1, 1))
    record_run = history.record_run

    def slow_commit(con, *args, **kwargs):
        # the reports are rendered inside the history's transaction; a commit that ends a
        # clock tick after them must still leave them the newer files
        record_run(con, *args, **kwargs)
        time.sleep(0.05)
        Path(con.execute("PRAGMA database_list").fetchone()[2]).touch()

    monkeypatch.setattr(history, "record_run", slow_commit)
    out = tmp_path / "results" / config.cohort.name
    write_reports(config.model_copy(update={"results_dir": str(tmp_path / "results")}),
                  [part], out)
    db = (out / "history.sqlite").stat().st_mtime_ns
    for name in ("report.json", "report.tsv", "report.html", "seqr.json", "summary.json",
                 "summary.txt"):
        assert (out / name).stat().st_mtime_ns >= db, name


def test_a_batch_that_does_not_exist_is_refused(demo_run, tmp_path):
    from heron.errors import InputError

    config, work, _ = demo_run
    classified, stores = _shards(work)
    with pytest.raises(InputError, match="batch 4 of 3"):
        prioritise(config, classified, stores, work / "genes.json", tmp_path / "b", (4, 3))


def test_classified_shards_read_calls_from_their_own_store_only(demo_run, tmp_path):
    from heron.errors import InputError
    from heron.store import Shard

    config, work, _ = demo_run
    classified, stores = _shards(work)
    assert not Shard.load(classified[0]).calls  # the genotypes stay in the store
    other = Shard.load(stores[0])
    other.variants["key"] = other.variants["key"] + 1  # a store of other variants
    other.save(tmp_path / "other")
    with pytest.raises(InputError, match="not made from this store"):
        prioritise(config, classified, [tmp_path / "other"] * len(classified),
                   work / "genes.json", tmp_path / "b")
    with pytest.raises(InputError, match="store shard of every classified shard"):
        prioritise(config, classified, stores[:-1] if len(stores) > 1 else [],
                   work / "genes.json", tmp_path / "b")


def test_an_empty_batch_writes_empty_tables(demo_run, tmp_path):
    config, work, _ = demo_run
    classified, stores = _shards(work)
    out = prioritise(config, classified, stores, work / "genes.json", tmp_path / "b", (40, 40))
    assert pd.read_csv(out / "candidates.tsv", sep="\t").empty
    assert pd.read_csv(out / "audit.tsv", sep="\t").empty


def test_number_of_batches_follows_the_pedigree_size(tmp_path):
    from heron.pipeline import plan_batches

    config = demo_config(tmp_path, REPO / "resources/demo/clinvar.vcf.gz", "2026-10-06")
    ped_samples = 0
    for line in (REPO / "resources/demo/demo.ped").read_text().splitlines():
        ped_samples += bool(line.strip()) and not line.startswith("#")
    assert plan_batches(config) == 1
    small = config.model_copy(update={"jobs": config.jobs.model_copy(
        update={"family_batch_samples": 4})})
    assert plan_batches(small) == -(-ped_samples // 4)
    assert small.digest() == config.digest()  # job layout never changes results


def test_alphamissense_only_bar_is_lower_for_biallelic_models():
    from heron.config import HeronConfig
    from heron.pipeline import phenotype_bar

    config = HeronConfig.model_validate({"phenotype": {"match_threshold": 0.5,
                                                       "biallelic_match_threshold": 0.3}})
    models = pd.Series(["AR_hom", "AR_comphet,AR_hom", "AD", "AD,AR_hom", "XLR_comphet"])
    assert phenotype_bar(models, config).tolist() == [0.3, 0.3, 0.5, 0.5, 0.3]
    assert phenotype_bar(pd.Series([], dtype=str), config).shape == (0,)
