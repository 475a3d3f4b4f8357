"""PanelApp gene panels: API v1 client, snapshot file, and readers of local gene lists.

The client works with any PanelApp instance (Australia ``https://panelapp-aus.org/api/v1/``,
England ``https://panelapp.genomicsengland.co.uk/api/v1/``): ``panels/`` (paginated, ``next``
links followed), ``panels/{id}/`` (genes with confidence, MOI, HGNC and Ensembl ids; relevant
disorders with HPO ids) and ``panels/{id}/activities/`` (the date each gene was rated green).
A download is stored as one snapshot JSON in the "PanelApp snapshot" form of the shared
format contract. Every reader returns the same :class:`PanelData`.
"""

from __future__ import annotations

import gzip
import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ValidationError

from heron.errors import InputError, ResourceError
from heron.resources.download import get_json
from heron.resources.snapshot import create_snapshot

if TYPE_CHECKING:
    import requests  # only in signatures: downloads import it when they run

log = logging.getLogger(__name__)

PANELAPP_AUS = "https://panelapp-aus.org/api/v1/"
PANELAPP_ENGLAND = "https://panelapp.genomicsengland.co.uk/api/v1/"
SNAPSHOT_FILE = "panelapp.json"
GREEN = 3
HPO_TERM = re.compile(r"HP:\d{7}")
# Activity texts that mean "this gene became green": a curator's rating, a rating change
# ending in green, or an expert-review-green source being added (demotions and removals of
# that source say "from Green" / "was removed" and do not match).
GREEN_ACTIVITY = (r"classified as green list|to green list|expert review green was added"
                  r"|was added\b.*\bexpert review green")
GENE_COLUMNS = ["panel_id", "symbol", "hgnc_id", "ensembl_id", "moi_raw", "confidence",
                "green_date"]


class SnapshotGene(BaseModel):
    symbol: str
    hgnc_id: str | None = None
    ensembl_id_grch37: str | None = None
    ensembl_id_grch38: str | None = None
    moi: str | None = None
    confidence: int
    green_date: date | None = None


class SnapshotPanel(BaseModel):
    id: int
    name: str
    version: str
    hpo_terms: list[str] = []
    relevant_disorders: list[str] = []
    genes: list[SnapshotGene]


class PanelAppSnapshot(BaseModel):
    """The PanelApp snapshot JSON (see the shared file-format contract)."""

    source: Literal["panelapp"]
    base_url: str
    retrieved: date
    panels: list[SnapshotPanel]


@dataclass
class PanelData:
    """Panels and their genes, from any source.

    panels: one row per panel — panel_id int64, name str, version str, hpo_terms list[str].
    genes: one row per gene on a panel — panel_id int64, symbol / hgnc_id / ensembl_id /
    moi_raw str ('' when unknown), confidence int8, green_date datetime64 (NaT: unknown).
    """

    panels: pd.DataFrame
    genes: pd.DataFrame
    source: str
    retrieved: date | None = None


# ------------------------------------------------------------------------- client


def _endpoint(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path


def _paged(url: str, what: str, **http) -> list[dict]:
    """All ``results`` of a paginated listing (a plain JSON list is one page)."""
    results, seen = [], set()
    while url:
        if url in seen:
            raise ResourceError(f"{url}: the {what} pages link back to themselves — PanelApp "
                                "answered inconsistently; retry later")
        seen.add(url)
        page = get_json(url, **http)
        if isinstance(page, list):
            return results + page
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise ResourceError(f"{url}: not a PanelApp {what} listing — check the PanelApp "
                                "base URL (it should end in /api/v1/)")
        results.extend(page["results"])
        url = page.get("next")
    return results


def list_panels(base_url: str, **http) -> list[dict]:
    """Every panel summary of ``panels/`` (all pages). ``http``: timeout, retries, backoff,
    session as for :func:`heron.resources.download.get_json`."""
    return _paged(_endpoint(base_url, "panels/"), "panel", **http)


def fetch_panel(base_url: str, panel_id: int, **http) -> dict:
    """The raw JSON of ``panels/{panel_id}/``."""
    url = _endpoint(base_url, f"panels/{int(panel_id)}/")
    panel = get_json(url, **http)
    if not isinstance(panel, dict) or "genes" not in panel:
        raise ResourceError(f"{url}: not a PanelApp panel — check the panel id and base URL")
    return panel


def green_dates(activities: list[dict], pattern: str = GREEN_ACTIVITY) -> dict[str, date]:
    """Gene symbol -> date of its earliest green rating found in a panel's activity log.

    The earliest is kept so a later re-confirmation of a green gene does not make it look new.
    """
    found: dict[str, date] = {}
    green = re.compile(pattern, re.IGNORECASE)
    for entry in activities:
        name = entry.get("entity_name")
        if not name or entry.get("entity_type", "gene") != "gene":
            continue
        if not green.search(entry.get("text") or ""):
            continue
        try:
            when = date.fromisoformat(str(entry.get("created", ""))[:10])
        except ValueError:
            continue
        if name not in found or when < found[name]:
            found[name] = when
    return found


def fetch_green_dates(base_url: str, panel_id: int, **http) -> dict[str, date]:
    """Green dates of one panel from ``panels/{id}/activities/``; empty (all unknown) when the
    activity log cannot be had — its absence never blocks a download."""
    url = _endpoint(base_url, f"panels/{int(panel_id)}/activities/")
    try:
        return green_dates(_paged(url, "activity", **http))
    except ResourceError as exc:
        log.warning("no green dates for panel %s: %s", panel_id, exc)
        return {}


def _ensembl_id(gene_data: dict, build_key: str) -> str | None:
    """Ensembl gene id of the newest Ensembl release listed for a build."""
    releases = (gene_data.get("ensembl_genes") or {}).get(build_key) or {}
    best = max(releases, key=lambda r: int(r) if str(r).isdigit() else -1, default=None)
    return (releases[best] or {}).get("ensembl_id") if best is not None else None


def panel_record(panel: dict, dates: dict[str, date]) -> SnapshotPanel:
    """Snapshot form of a ``panels/{id}/`` answer; ``dates`` from :func:`green_dates`."""
    disorders = [str(d) for d in panel.get("relevant_disorders") or []]
    hpo = list(dict.fromkeys(HPO_TERM.findall(" ".join(disorders))))
    genes = []
    for entry in panel.get("genes") or []:
        if entry.get("entity_type", "gene") != "gene":
            continue
        data = entry.get("gene_data") or {}
        symbol = entry.get("entity_name") or data.get("gene_symbol")
        confidence = int(entry.get("confidence_level") or 0)
        genes.append(SnapshotGene(
            symbol=symbol, hgnc_id=data.get("hgnc_id"),
            ensembl_id_grch37=_ensembl_id(data, "GRch37"),
            ensembl_id_grch38=_ensembl_id(data, "GRch38"),
            moi=entry.get("mode_of_inheritance"), confidence=confidence,
            green_date=dates.get(symbol) if confidence == GREEN else None))
    return SnapshotPanel(id=int(panel["id"]), name=panel.get("name") or "",
                         version=str(panel.get("version") or ""), hpo_terms=hpo,
                         relevant_disorders=disorders, genes=genes)


def download_panelapp(base_url: str, panel_ids: list[int] | None, dest_root: str | Path, *,
                      activities: bool = True, retrieved: date | None = None,
                      source: str = "panelapp", timeout: float = 30.0, retries: int = 3,
                      backoff: float = 0.5, session: requests.Session | None = None) -> Path:
    """Download panels into the snapshot ``<dest_root>/<source>/<retrieved date>/``.

    panel_ids: the panels to fetch, or None for every panel of the instance. activities:
    also read each panel's activity log for green dates. A panel that cannot be fetched
    fails the whole download (ResourceError) and leaves existing snapshots untouched; a
    missing activity log only leaves that panel's green dates unknown. Returns the path of
    the snapshot's JSON file.
    """
    http: dict[str, Any] = dict(timeout=timeout, retries=retries, backoff=backoff,
                                session=session)
    if panel_ids is None:
        panel_ids = [int(p["id"]) for p in list_panels(base_url, **http)]
    panels = []
    for panel_id in dict.fromkeys(panel_ids):
        raw = fetch_panel(base_url, panel_id, **http)
        dates = fetch_green_dates(base_url, panel_id, **http) if activities else {}
        panels.append(panel_record(raw, dates))
    retrieved = retrieved or date.today()
    snapshot = PanelAppSnapshot(source="panelapp", base_url=base_url, retrieved=retrieved,
                                panels=panels)
    root = Path(dest_root)
    (root / source).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root / source, prefix=".download-") as tmp:
        file = Path(tmp) / SNAPSHOT_FILE
        file.write_text(snapshot.model_dump_json(indent=1) + "\n")
        folder = create_snapshot(root, source, retrieved.isoformat(), {SNAPSHOT_FILE: file},
                                 [base_url], retrieved=retrieved, move=True, replace=True)
    return folder / SNAPSHOT_FILE


# ------------------------------------------------------------------------ readers


def _frames(panels: list[dict], genes: list[dict], source: str,
            retrieved: date | None) -> PanelData:
    panel_frame = pd.DataFrame(panels, columns=["panel_id", "name", "version", "hpo_terms"])
    gene_frame = pd.DataFrame(genes, columns=GENE_COLUMNS)
    for column in ("symbol", "hgnc_id", "ensembl_id", "moi_raw"):
        gene_frame[column] = gene_frame[column].fillna("").astype(str)
    gene_frame = gene_frame.astype({"panel_id": "int64", "confidence": "int8"})
    gene_frame["green_date"] = pd.to_datetime(gene_frame["green_date"])
    return PanelData(panel_frame.astype({"panel_id": "int64"}), gene_frame, source, retrieved)


def read_panelapp_snapshot(path: str | Path, *, build: str = "GRCh38",
                           min_confidence: int = GREEN) -> PanelData:
    """Read a PanelApp snapshot JSON (optionally .gz), keeping genes rated at least
    ``min_confidence`` (3 = green). ensembl_id is that of ``build``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        snapshot = PanelAppSnapshot.model_validate_json(
            gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except OSError as exc:
        raise InputError(f"cannot read ({exc})", path=str(path),
                         hint="download PanelApp again or fix the path") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"not a PanelApp snapshot: {where}: {first['msg']}", path=str(path),
                         hint="download PanelApp again") from exc
    id_field = "ensembl_id_grch37" if build == "GRCh37" else "ensembl_id_grch38"
    panels, genes = [], []
    for panel in snapshot.panels:
        panels.append({"panel_id": panel.id, "name": panel.name, "version": panel.version,
                       "hpo_terms": list(panel.hpo_terms)})
        genes.extend({"panel_id": panel.id, "symbol": g.symbol, "hgnc_id": g.hgnc_id,
                      "ensembl_id": getattr(g, id_field), "moi_raw": g.moi,
                      "confidence": g.confidence, "green_date": g.green_date}
                     for g in panel.genes if g.confidence >= min_confidence)
    return _frames(panels, genes, snapshot.base_url, snapshot.retrieved)


def read_gene_list_tsv(path: str | Path, *, panel_id: int = -1,
                       name: str | None = None) -> PanelData:
    """A local gene list as one pseudo panel (default id -1, named after the file).

    Tab-separated: a gene (symbol, ``ENSG…`` or ``HGNC:…`` id) and optionally a MOI string;
    an optional header line (first column ``gene``, ``symbol``, ``gene_symbol``, ``id``,
    ``ensembl_id`` or ``hgnc_id``), ``#`` comments and blank lines are skipped. Genes count as
    green with an unknown green date.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", path=str(path)) from exc
    header_words = {"gene", "symbol", "gene_symbol", "id", "ensembl_id", "hgnc_id"}
    genes = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if not genes and number == 1 and fields[0].lower() in header_words:
            continue
        gene = fields[0]
        if not gene or " " in gene or len(fields) > 2:
            raise InputError(f"expected 'gene<TAB>MOI' (MOI optional), got {line!r}",
                             path=str(path), line=number,
                             hint="one gene symbol, ENSG or HGNC id per line")
        ident = {"symbol": "", "hgnc_id": "", "ensembl_id": ""}
        if gene.upper().startswith("ENSG"):
            ident["ensembl_id"] = gene.upper().split(".")[0]
        elif gene.upper().startswith("HGNC:"):
            ident["hgnc_id"] = "HGNC:" + gene[5:]
        else:
            ident["symbol"] = gene
        genes.append({"panel_id": panel_id, **ident,
                      "moi_raw": fields[1] if len(fields) > 1 else "",
                      "confidence": GREEN, "green_date": None})
    if not genes:
        raise InputError("no genes listed", path=str(path), hint="one gene per line")
    panels = [{"panel_id": panel_id, "name": name or path.stem, "version": "",
               "hpo_terms": []}]
    return _frames(panels, genes, str(path), None)


def read_panelapp_dump_tsv(path: str | Path, *, min_confidence: int = GREEN) -> PanelData:
    """A PanelApp dump table (tab-separated, optionally gzipped) with columns ``id``,
    ``mode_of_inheritance``, ``Gene``, ``confidence_level`` and ``name``, as published with
    PanelAppRex. MOIs there are abbreviations (AD, AR, AD/AR, XL, MT, NA), which
    :func:`heron.resources.moi.simplify_moi` understands."""
    path = Path(path)
    required = ["id", "mode_of_inheritance", "Gene", "confidence_level", "name"]
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                            compression="infer")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read ({exc})", path=str(path)) from exc
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=str(path), line=1,
                         hint="expected a PanelApp dump with id, mode_of_inheritance, Gene, "
                              "confidence_level, name")
    numbers = table[["id", "confidence_level"]].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise InputError(f"panel id or confidence is not a number: {table.iloc[row, :4].tolist()}",
                         path=str(path), line=row + 2)
    table = table.assign(panel_id=numbers["id"].astype("int64"),
                         confidence=numbers["confidence_level"].astype("int8"))
    kept = table[table["confidence"] >= min_confidence]
    panels = table.drop_duplicates("panel_id")[["panel_id", "name"]].assign(version="")
    panels["hpo_terms"] = [[] for _ in range(len(panels))]
    genes = pd.DataFrame({
        "panel_id": kept["panel_id"].to_numpy(), "symbol": kept["Gene"].to_numpy(),
        "hgnc_id": "", "ensembl_id": "",
        "moi_raw": kept["mode_of_inheritance"].replace({"NA": ""}).to_numpy(),
        "confidence": kept["confidence"].to_numpy(), "green_date": None,
    })
    return _frames(panels.to_dict("records"), genes.to_dict("records"), str(path), None)

