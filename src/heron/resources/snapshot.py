"""Versioned snapshots of reference resources.

A snapshot is a folder ``<root>/<source>/<release>/`` holding the resource's files and a
``manifest.json`` (source, release label, source URLs, retrieval date, and each file's sha256
and size). A snapshot is built in a hidden temporary folder beside its final place, verified,
then renamed into place, so a failed refresh never touches any existing snapshot. A run
records which snapshots it read; the history diff cites their release labels.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ValidationError

from heron.errors import ResourceError
from heron.resources.download import sha256_of
from heron.staging import staging_dir

MANIFEST = "manifest.json"
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class FileRecord(BaseModel):
    sha256: str
    size: int


class Manifest(BaseModel):
    """The ``manifest.json`` of one snapshot."""

    source: str
    release: str
    urls: list[str]
    retrieved: date
    created: datetime
    files: dict[str, FileRecord]


@dataclass
class SnapshotStatus:
    """Health of the newest snapshot of one source (see :func:`snapshot_status`)."""

    source: str
    release: str | None
    retrieved: date | None
    age_days: int | None
    stale: bool
    ok: bool
    problem: str | None


def _check_label(kind: str, value: str) -> None:
    if not _LABEL.match(value):
        raise ResourceError(
            f"{kind} {value!r} cannot name a snapshot folder — use letters, digits, '.', '_', "
            "'+' or '-', not starting with a dot"
        )


def create_snapshot(root: str | Path, source: str, release: str, files: dict[str, Path],
                    urls: list[str], retrieved: date | None = None, *, move: bool = False,
                    replace: bool = False) -> Path:
    """Store ``files`` (snapshot file name -> current path) as ``<root>/<source>/<release>/``.

    urls: where the files came from; retrieved: defaults to today. move: move the files in
    (for freshly downloaded temporaries) instead of copying. replace: swap out an existing
    snapshot of the same release; otherwise an existing one is an error. Returns the folder.
    """
    _check_label("source", source)
    _check_label("release", release)
    for name in files:
        _check_label("file name", name)
        if name == MANIFEST:
            raise ResourceError(f"a snapshot file cannot be called {MANIFEST}")
    source_dir = Path(root) / source
    final = source_dir / release
    if final.exists() and not replace:
        raise ResourceError(f"snapshot {final} already exists — remove it or refresh with replace")
    source_dir.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(source_dir, prefix=f".{release}.", suffix=".tmp")
    try:
        records = {}
        for name, path in files.items():
            path = Path(path)
            if not path.is_file():
                raise ResourceError(f"{path}: missing file for snapshot {source}/{release}")
            target = staging / name
            if move:
                shutil.move(path, target)
            else:
                shutil.copyfile(path, target)
            records[name] = FileRecord(sha256=sha256_of(target), size=target.stat().st_size)
        manifest = Manifest(source=source, release=release, urls=list(urls),
                            retrieved=retrieved or date.today(),
                            created=datetime.now(timezone.utc), files=records)
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")
        verify_snapshot(staging)
        _swap_into_place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _swap_into_place(staging: Path, final: Path) -> None:
    if not final.exists():
        os.replace(staging, final)
        return
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of the snapshot folder ``path``; ResourceError if absent or malformed."""
    file = Path(path) / MANIFEST
    try:
        return Manifest.model_validate_json(file.read_bytes())
    except FileNotFoundError as exc:
        raise ResourceError(f"{file}: no manifest — {path} is not a heron snapshot; "
                            "download the resource again") from exc
    except ValidationError as exc:
        raise ResourceError(f"{file}: malformed manifest ({exc.error_count()} problems, first: "
                            f"{exc.errors()[0]['msg']}) — download the resource again") from exc


def verify_snapshot(path: str | Path) -> Manifest:
    """Check every file of a snapshot against its manifest (size, then sha256).

    Raises ResourceError naming the first missing or corrupt file. Returns the manifest.
    """
    path = Path(path)
    manifest = read_manifest(path)
    for name, record in manifest.files.items():
        file = path / name
        if not file.is_file():
            raise ResourceError(f"{file}: missing from snapshot {manifest.source}/"
                                f"{manifest.release} — download the resource again")
        size = file.stat().st_size
        if size != record.size or sha256_of(file) != record.sha256:
            raise ResourceError(
                f"{file}: corrupt (size {size}, manifest says {record.size}, or checksum "
                f"differs) — delete {path} and download the resource again"
            )
    return manifest


def list_snapshots(root: str | Path, source: str) -> list[tuple[Path, Manifest | None]]:
    """Every snapshot folder of ``source`` with its manifest (None if unreadable)."""
    source_dir = Path(root) / source
    if not source_dir.is_dir():
        return []
    found = []
    for folder in sorted(source_dir.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            found.append((folder, read_manifest(folder)))
        except ResourceError:
            found.append((folder, None))
    return found


def latest_snapshot(root: str | Path, source: str) -> Path | None:
    """Folder of the most recently retrieved snapshot of ``source`` (ties: latest created),
    or None when there is none. Folders without a readable manifest are ignored."""
    readable = [(m.retrieved, m.created, folder)
                for folder, m in list_snapshots(root, source) if m is not None]
    return max(readable)[2] if readable else None


def snapshot_status(root: str | Path, max_age_days: int, *, today: date | None = None,
                    verify: bool = True) -> list[SnapshotStatus]:
    """One record per source under ``root``: its newest snapshot, age, staleness and health.

    stale: older than ``max_age_days`` (or no usable snapshot). ok: manifest readable and, when
    ``verify``, every checksum matches. problem: what is wrong, in words, or None.
    """
    root = Path(root)
    today = today or date.today()
    records = []
    sources = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if root.is_dir() else []
    for source in sources:
        latest = latest_snapshot(root, source)
        if latest is None:
            records.append(SnapshotStatus(source, None, None, None, True, False,
                                          f"no snapshot with a readable manifest under {root / source}"))
            continue
        manifest = read_manifest(latest)
        problem = None
        if verify:
            try:
                verify_snapshot(latest)
            except ResourceError as exc:
                problem = str(exc)
        age = (today - manifest.retrieved).days
        records.append(SnapshotStatus(source, manifest.release, manifest.retrieved, age,
                                      age > max_age_days, problem is None, problem))
    return records
