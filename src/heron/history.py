"""The reanalysis history: an SQLite file per cohort, and the run-to-run diff.

One row per (sample, variant, gene) ever reported, with the date each category was first
assigned, whether it is found in the current run and, when it dropped out, why. A run's
changes are written in one transaction at its end: a crashed or interrupted run leaves the
history exactly as the previous run left it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    heron_version TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    resources TEXT NOT NULL,
    patients TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    sample TEXT NOT NULL,
    variant TEXT NOT NULL,
    gene TEXT NOT NULL,
    first_tagged TEXT NOT NULL,
    evidence_last_updated TEXT NOT NULL,
    found_in_current_run INTEGER NOT NULL,
    last_run_id INTEGER NOT NULL,
    models TEXT NOT NULL,
    partners TEXT NOT NULL,
    phenotype_match_date TEXT,
    dropped_reason TEXT,
    PRIMARY KEY (sample, variant, gene)
);
CREATE TABLE IF NOT EXISTS finding_categories (
    sample TEXT NOT NULL,
    variant TEXT NOT NULL,
    gene TEXT NOT NULL,
    category TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (sample, variant, gene, category)
);
"""


@dataclass
class RunInfo:
    """What identifies a run: its date, heron version, config digest, resource versions and
    each patient's HPO terms (to tell when a patient gained terms)."""

    date: str
    heron_version: str
    config_digest: str
    resources: dict
    patients: dict


@dataclass
class Change:
    """Why a finding is new, changed or gone."""

    sample: str
    variant: str
    gene: str
    status: str  # new | changed | dropped
    reasons: list[str]


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating or migrating) a history file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(_SCHEMA)
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"{path}: history schema {version} is newer than this heron "
                           f"({SCHEMA_VERSION}); upgrade heron")
    # migrations from older schema versions go here, one step at a time
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    return con


def previous_run(con: sqlite3.Connection) -> RunInfo | None:
    row = con.execute("SELECT date, heron_version, config_digest, resources, patients "
                      "FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return RunInfo(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]))


def findings(con: sqlite3.Connection) -> pd.DataFrame:
    return pd.read_sql_query("SELECT * FROM findings", con)


def categories(con: sqlite3.Connection) -> pd.DataFrame:
    return pd.read_sql_query("SELECT * FROM finding_categories", con)


def record_run(con: sqlite3.Connection, run: RunInfo, current: pd.DataFrame,
               dropped_reasons: dict[tuple[str, str, str], str],
               before_commit=None) -> tuple[pd.DataFrame, list[Change]]:
    """Write one run into the history in a single transaction; return the current findings
    with their first-seen dates, and the changes since the previous run.

    ``before_commit(findings, changes)`` runs inside the transaction, after every write: the
    caller writes its outputs there, so that if they fail the history is rolled back.

    current: one row per (sample, variant, gene) reported now, with columns sample, variant,
    gene, categories (list of names), models (str), partners (str), phenotype_match (bool).
    dropped_reasons: (sample, variant, gene) → why a finding is not reported now (from the
    audit trail). Solved samples are recorded like any other; the report hides them.
    """
    before = previous_run(con)
    # a dict lookup per finding: pandas .loc per row costs ~1 ms, seconds for a cohort
    query = con.execute("SELECT * FROM findings")
    names = [d[0] for d in query.description]
    old = {tuple(r[:3]): dict(zip(names, r)) for r in query.fetchall()}
    seen = {tuple(r[:4]): r[4] for r in con.execute(
        "SELECT sample, variant, gene, category, first_seen FROM finding_categories")}
    changes: list[Change] = []
    date = run.date
    rows = []
    cat_rows = []
    # the dates each current finding is reported with, as written below
    tagged, last_updated, category_dates = [], [], []
    con.execute("BEGIN IMMEDIATE")
    try:
        cur = con.execute("INSERT INTO runs (date, heron_version, config_digest, resources, "
                          "patients) VALUES (?, ?, ?, ?, ?)",
                          (date, run.heron_version, run.config_digest,
                           json.dumps(run.resources, sort_keys=True),
                           json.dumps(run.patients, sort_keys=True)))
        run_id = cur.lastrowid
        current_keys = set()
        for item in current.itertuples(index=False):
            key = (item.sample, item.variant, item.gene)
            current_keys.add(key)
            first_dates = {}
            for cat in item.categories:
                first_dates[cat] = seen.get((*key, cat), date)
                cat_rows.append((*key, cat, first_dates[cat]))
            # new: never recorded before (a second run on the same date adds none)
            new_cats = [c for c in item.categories if (*key, c) not in seen]
            prev = old.get(key)
            known = prev is not None
            reasons = _why(item, prev, sorted(first_dates), new_cats, before, run)
            if not known:
                status = "new"
            elif not prev["found_in_current_run"]:
                status = "new"
                reasons.insert(0, f"reported again (was dropped: {prev['dropped_reason']})")
            elif reasons:
                status = "changed"
            else:
                status = ""
            if status:
                changes.append(Change(*key, status, reasons))
            first_tagged = min(first_dates.values()) if first_dates else date
            if known:
                first_tagged = min(first_tagged, prev["first_tagged"])
            updated = max(first_dates.values()) if first_dates else date
            if status == "changed" or (known and not prev["found_in_current_run"]):
                updated = date
            elif known:
                updated = max(updated, prev["evidence_last_updated"])
            match_date = (prev["phenotype_match_date"] if known and prev["phenotype_match_date"]
                          else (date if item.phenotype_match else None))
            rows.append((*key, first_tagged, updated, 1, run_id, item.models, item.partners,
                         match_date, None))
            tagged.append(first_tagged)
            last_updated.append(updated)
            category_dates.append(first_dates)
        for key, prev in old.items():
            if key in current_keys or not prev["found_in_current_run"]:
                continue
            reason = dropped_reasons.get(key, "no longer passes the filters")
            changes.append(Change(*key, "dropped", [reason]))
            con.execute("UPDATE findings SET found_in_current_run=0, last_run_id=?, "
                        "dropped_reason=? WHERE sample=? AND variant=? AND gene=?",
                        (run_id, reason, *key))
        con.executemany("INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        con.executemany("INSERT OR IGNORE INTO finding_categories VALUES (?,?,?,?,?)", cat_rows)
        dated = current.assign(first_tagged=tagged, evidence_last_updated=last_updated,
                               category_dates=category_dates)
        if before_commit is not None:
            before_commit(dated, changes)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return dated, changes


def _why(item, prev, cats: list[str], new_cats: list[str], before: RunInfo | None,
         run: RunInfo) -> list[str]:
    """Reasons a finding is new or changed, citing resource releases where they moved;
    ``cats`` its categories, ``new_cats`` those the history has not seen for it before."""
    reasons = []
    if before is None:
        return [f"first run; categories {', '.join(cats)}"] if prev is None else []
    for cat in sorted(new_cats):
        text = f"new category {cat}"
        if cat.startswith("clinvar"):
            a, b = before.resources.get("clinvar"), run.resources.get("clinvar")
            if a != b:
                text += f" (ClinVar {a} → {b})"
        if cat == "clinvar_recent_gene" or (prev is None and _panels_moved(before, run)):
            a, b = before.resources.get("panelapp"), run.resources.get("panelapp")
            if a != b:
                text += f" (PanelApp {a} → {b})"
        reasons.append(text)
    if prev is not None:
        old_partners = set(filter(None, str(prev["partners"]).split(",")))
        new_partners = set(filter(None, item.partners.split(",")))
        for partner in sorted(new_partners - old_partners):
            reasons.append(f"new comp-het partner {partner}")
        if item.phenotype_match and not prev["phenotype_match_date"]:
            reasons.append("newly phenotype-matched")
    old_terms = set(before.patients.get(item.sample, []))
    new_terms = set(run.patients.get(item.sample, [])) - old_terms
    if new_terms and (prev is None or reasons):
        reasons.append(f"new HPO terms {', '.join(sorted(new_terms))}")
    if prev is None and not reasons:
        if before.config_digest != run.config_digest:
            reasons.append("configuration changed")
        moved = [f"{k} {before.resources.get(k)} → {v}" for k, v in run.resources.items()
                 if before.resources.get(k) != v]
        if moved:
            reasons.append("resources changed: " + "; ".join(moved))
    if prev is None and item.sample not in before.patients:
        reasons.insert(0, "new patient")
    return reasons


def _panels_moved(before: RunInfo, run: RunInfo) -> bool:
    return before.resources.get("panelapp") != run.resources.get("panelapp")
