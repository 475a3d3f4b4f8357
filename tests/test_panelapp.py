"""PanelApp client against recorded API pages served on 127.0.0.1, snapshot and readers."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from httpserver import http_server  # noqa: F401 (pytest fixture)

from heron.errors import InputError, ResourceError
from heron.resources.moi import simplify_moi
from heron.resources.panelapp import (
    download_panelapp, fetch_panel, green_dates, list_panels, panel_record, read_gene_list_tsv,
    read_panelapp_dump_tsv, read_panelapp_snapshot)
from heron.resources.snapshot import verify_snapshot

DATA = Path(__file__).resolve().parent / "data" / "resources"
RECORDED_BASE = "https://panelapp.genomicsengland.co.uk/api/v1/"
FAST = dict(backoff=0.01, timeout=2.0)


@pytest.fixture(scope="module")
def panelapp_data():
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "panelapp"
    if not path.is_dir():
        pytest.skip(f"shared PanelApp data not found at {path}")
    return path


@pytest.fixture
def recorded_api(http_server, panelapp_data):
    """The recorded England API pages, their absolute links pointing at the local server."""
    api = panelapp_data / "api_v1_panels"
    local = http_server.url("/api/v1/")
    rewrite = {RECORDED_BASE: local}
    http_server.add_file("/api/v1/panels/", api / "panels_page_1.json.gz", gunzip=True,
                         rewrite=rewrite, content_type="application/json")
    for page in range(2, 6):
        http_server.add_file(f"/api/v1/panels/?page={page}", api / f"panels_page_{page}.json.gz",
                             gunzip=True, rewrite=rewrite, content_type="application/json")
    for file in api.glob("panel_*.json.gz"):
        panel_id = file.name.split("_")[1].split(".")[0]
        http_server.add_file(f"/api/v1/panels/{panel_id}/", file, gunzip=True,
                             content_type="application/json")
    http_server.add_file("/api/v1/panels/123/activities/", DATA / "panelapp_activities_123.json",
                         content_type="application/json")
    return local


def test_green_dates_from_activity_texts():
    activities = json.loads((DATA / "panelapp_activities_123.json").read_text())
    assert green_dates(activities) == {
        "ENG": date(2019, 5, 1),        # earliest of two green ratings
        "SMAD4": date(2023, 11, 20),
        "GDF2": date(2022, 3, 3),       # rating changed to green
        "RASA1": date(2020, 7, 7),      # expert-review-green source added
    }                                   # not: amber, demotion, source removed, plain add


def test_list_panels_follows_pagination(recorded_api, http_server):
    panels = list_panels(recorded_api, **FAST)
    assert len(panels) == 439 and len({p["id"] for p in panels}) == 439
    assert http_server.log == ["/api/v1/panels/"] + [f"/api/v1/panels/?page={n}" for n in range(2, 6)]
    assert panels[0]["name"] == "Acute intermittent porphyria"


def test_panel_record_from_recorded_panel(recorded_api):
    raw = fetch_panel(recorded_api, 123, **FAST)
    record = panel_record(raw, {"ENG": date(2019, 5, 1), "BMPR2": date(2020, 1, 1)})
    assert (record.id, record.name, record.version) == (123, "Hereditary haemorrhagic telangiectasia", "3.7")
    assert record.hpo_terms == []  # England lists R-codes, not HPO terms
    assert len(record.genes) == 15
    acvrl1 = next(g for g in record.genes if g.symbol == "ACVRL1")
    assert (acvrl1.hgnc_id, acvrl1.ensembl_id_grch37, acvrl1.ensembl_id_grch38, acvrl1.confidence) == (
        "HGNC:175", "ENSG00000139567", "ENSG00000139567", 3)
    assert acvrl1.moi.startswith("MONOALLELIC")
    by_symbol = {g.symbol: g for g in record.genes}
    assert by_symbol["ENG"].green_date == date(2019, 5, 1)
    assert by_symbol["BMPR2"].green_date is None  # amber: no green date


def test_panel_record_hpo_terms_and_ensembl_release():
    raw = json.loads((DATA / "panelapp_panel_137_hpo.json").read_text())
    record = panel_record(raw, {})
    assert record.hpo_terms == ["HP:0001249", "HP:0001263"]
    assert [g.symbol for g in record.genes] == ["FGFR2", "MECP2", "ABCA4"]  # STR left out
    assert record.genes[0].ensembl_id_grch38 == "ENSG00000066468"  # release 104 over 90


def test_download_panelapp_snapshot(recorded_api, http_server, tmp_path):
    http_server.add("/api/v1/panels/1141/activities/", "oops", fail_first=100)
    path = download_panelapp(recorded_api, [123, 1141], tmp_path, retrieved=date(2026, 2, 1),
                             retries=1, **FAST)
    assert path == tmp_path / "panelapp" / "2026-02-01" / "panelapp.json"
    verify_snapshot(path.parent)
    raw = json.loads(path.read_text())
    assert (raw["source"], raw["base_url"], raw["retrieved"]) == ("panelapp", recorded_api, "2026-02-01")
    assert [p["id"] for p in raw["panels"]] == [123, 1141]
    gene = raw["panels"][0]["genes"][0]
    assert set(gene) == {"symbol", "hgnc_id", "ensembl_id_grch37", "ensembl_id_grch38", "moi",
                         "confidence", "green_date"}

    data = read_panelapp_snapshot(path)
    assert data.retrieved == date(2026, 2, 1) and data.source == recorded_api
    assert list(data.panels.columns) == ["panel_id", "name", "version", "hpo_terms"]
    assert list(data.genes.columns) == ["panel_id", "symbol", "hgnc_id", "ensembl_id", "moi_raw",
                                        "confidence", "green_date"]
    counts = data.genes.groupby("panel_id").size().to_dict()
    assert counts == {123: 6, 1141: 53}  # green genes only
    eng = data.genes[(data.genes.panel_id == 123) & (data.genes.symbol == "ENG")].iloc[0]
    assert eng.green_date == pd.Timestamp("2019-05-01")
    # activities of 1141 failed: its dates are unknown, the download still succeeded
    assert data.genes.loc[data.genes.panel_id == 1141, "green_date"].isna().all()
    assert http_server.log.count("/api/v1/panels/1141/activities/") == 2


def test_download_all_panels_and_retry(http_server, tmp_path):
    base = http_server.url("/api/v1/")
    page2 = http_server.url("/api/v1/panels/?page=2")
    http_server.add("/api/v1/panels/", json.dumps(
        {"count": 2, "next": page2, "results": [{"id": 137, "name": "Mendeliome"}]}))
    http_server.add("/api/v1/panels/?page=2", json.dumps(  # the same panel listed twice
        {"count": 2, "next": None, "results": [{"id": 137, "name": "Mendeliome"}]}), fail_first=1)
    route = http_server.add_file("/api/v1/panels/137/", DATA / "panelapp_panel_137_hpo.json",
                                 fail_first=2, fail_status=502)
    http_server.add("/api/v1/panels/137/activities/", json.dumps({"count": 1, "next": None, "results": [
        {"created": "2025-10-01T00:00:00Z", "entity_type": "gene", "entity_name": "MECP2",
         "text": "Gene: mecp2 has been classified as Green List (High Evidence)."}]}))
    path = download_panelapp(base, None, tmp_path, retrieved=date(2026, 1, 5), **FAST)
    assert route.hits == 3
    data = read_panelapp_snapshot(path)
    assert data.panels.to_dict("records") == [
        {"panel_id": 137, "name": "Mendeliome", "version": "1.23",
         "hpo_terms": ["HP:0001249", "HP:0001263"]}]
    assert list(data.genes.symbol) == ["FGFR2", "MECP2"]
    assert data.genes.green_date.dt.strftime("%Y-%m-%d").fillna("").tolist() == ["", "2025-10-01"]
    assert read_panelapp_snapshot(path, build="GRCh37").genes.ensembl_id.tolist() == [
        "ENSG00000066468", "ENSG00000169057"]
    assert len(read_panelapp_snapshot(path, min_confidence=2).genes) == 3


def test_failed_download_keeps_previous_snapshot(http_server, tmp_path):
    base = http_server.url("/api/v1/")
    http_server.add_file("/api/v1/panels/137/", DATA / "panelapp_panel_137_hpo.json")
    old = download_panelapp(base, [137], tmp_path, activities=False, retrieved=date(2026, 1, 5))
    before = old.read_bytes()
    http_server.add("/api/v1/panels/137/", "{}", delay=1.0)  # slower than the client waits
    with pytest.raises(ResourceError, match=r"panels/137/ after 2 attempts: .*Timeout"):
        download_panelapp(base, [137], tmp_path, retrieved=date(2026, 2, 5), retries=1,
                          backoff=0.01, timeout=0.2)
    with pytest.raises(ResourceError, match=r"HTTP 404"):
        download_panelapp(base, [999], tmp_path, retrieved=date(2026, 2, 5), **FAST)
    assert [p.name for p in (tmp_path / "panelapp").iterdir()] == ["2026-01-05"]
    assert old.read_bytes() == before
    verify_snapshot(old.parent)


def test_not_a_panel_listing(http_server):
    http_server.add("/api/v1/panels/", json.dumps({"detail": "Not found."}))
    with pytest.raises(ResourceError, match="not a PanelApp panel listing"):
        list_panels(http_server.url("/api/v1/"), **FAST)


def test_snapshot_gz_and_bad_snapshot(tmp_path):
    snapshot = {"source": "panelapp", "base_url": "https://panelapp-aus.org/api/v1/",
                "retrieved": "2025-01-02",
                "panels": [{"id": 137, "name": "Mendeliome", "version": "1.0", "hpo_terms": [],
                            "relevant_disorders": [],
                            "genes": [{"symbol": "FGFR2", "hgnc_id": "HGNC:3689",
                                       "ensembl_id_grch37": None, "ensembl_id_grch38": "ENSG00000066468",
                                       "moi": "MONOALLELIC, autosomal or pseudoautosomal",
                                       "confidence": 3, "green_date": None}]}]}
    gz = tmp_path / "s.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(snapshot).encode()))
    data = read_panelapp_snapshot(gz)
    assert data.genes.iloc[0].to_dict() | {"green_date": None} == {
        "panel_id": 137, "symbol": "FGFR2", "hgnc_id": "HGNC:3689", "ensembl_id": "ENSG00000066468",
        "moi_raw": "MONOALLELIC, autosomal or pseudoautosomal", "confidence": 3, "green_date": None}
    assert data.genes.green_date.isna().all()
    snapshot["panels"][0]["genes"][0]["confidence"] = "green"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(snapshot))
    with pytest.raises(InputError, match=r"bad.json: not a PanelApp snapshot: panels.0.genes.0.confidence"):
        read_panelapp_snapshot(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_panelapp_snapshot(tmp_path / "absent.json")


def test_gene_list_tsv():
    data = read_gene_list_tsv(DATA / "gene_list_with_header.tsv")
    assert data.panels.to_dict("records") == [
        {"panel_id": -1, "name": "gene_list_with_header", "version": "", "hpo_terms": []}]
    genes = data.genes
    assert genes[["symbol", "hgnc_id", "ensembl_id"]].to_numpy().tolist() == [
        ["FGFR2", "", ""], ["", "", "ENSG00000169057"], ["", "HGNC:34", ""]]
    assert (genes.confidence == 3).all() and genes.green_date.isna().all()
    moi = simplify_moi(genes.moi_raw, np.array([False, True, False]))
    assert list(moi) == ["Monoallelic", "HemiBiInFemale", "MonoAndBiallelic"]
    named = read_gene_list_tsv(DATA / "gene_list_with_header.tsv", panel_id=-7, name="lab list")
    assert named.panels.name[0] == "lab list" and (named.genes.panel_id == -7).all()
    with pytest.raises(InputError, match=r"gene_list_bad_line.tsv:2: expected 'gene<TAB>MOI'"):
        read_gene_list_tsv(DATA / "gene_list_bad_line.tsv")


def test_gene_list_without_header(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("GJB2\tAR\nFLG\n")
    assert read_gene_list_tsv(path).genes.symbol.tolist() == ["GJB2", "FLG"]
    path.write_text("# only a comment\n")
    with pytest.raises(InputError, match="no genes listed"):
        read_gene_list_tsv(path)


def test_panelapp_dump_tsv(panelapp_data):
    data = read_panelapp_dump_tsv(panelapp_data / "PanelAppData_combined_core.tsv.gz")
    assert data.panels.panel_id.is_unique and len(data.panels) == 447
    assert (data.genes.confidence == 3).all()
    raw = pd.read_csv(panelapp_data / "PanelAppData_combined_core.tsv.gz", sep="\t", dtype=str,
                      keep_default_na=False)
    assert len(data.genes) == int((raw.confidence_level == "3").sum())
    first = data.genes.iloc[0]
    assert (first.panel_id, first.symbol, first.moi_raw) == (1, "ABL1", "AD")
    assert set(data.genes.moi_raw) <= {"AD", "AR", "AD/AR", "XL", "MT", ""}
    moi = simplify_moi(data.genes.moi_raw, np.zeros(len(data.genes), bool))
    assert set(moi) <= {"Monoallelic", "Biallelic", "MonoAndBiallelic", "HemiMonoInFemale",
                        "Mitochondrial"}


def test_panelapp_dump_errors(tmp_path):
    path = tmp_path / "dump.tsv"
    path.write_text("id\tGene\n1\tABL1\n")
    with pytest.raises(InputError, match=r"dump.tsv:1: missing column\(s\) mode_of_inheritance"):
        read_panelapp_dump_tsv(path)
    path.write_text("id\tmode_of_inheritance\tGene\tconfidence_level\tname\n1\tAD\tABL1\t3\tx\n"
                    "one\tAD\tACTA2\t3\tx\n")
    with pytest.raises(InputError, match=r"dump.tsv:3: panel id or confidence is not a number"):
        read_panelapp_dump_tsv(path)
