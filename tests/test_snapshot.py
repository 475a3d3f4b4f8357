"""Versioned snapshots: atomic creation, verification, latest, status."""

from __future__ import annotations

import json
from datetime import date

import pytest

from heron.errors import ResourceError
from heron.resources.snapshot import (
    create_snapshot, latest_snapshot, read_manifest, snapshot_status, verify_snapshot)


@pytest.fixture
def files(tmp_path):
    a = tmp_path / "in" / "a.vcf.gz"
    a.parent.mkdir()
    a.write_bytes(b"alpha" * 100)
    b = tmp_path / "in" / "a.vcf.gz.tbi"
    b.write_bytes(b"index")
    return {"clinvar.vcf.gz": a, "clinvar.vcf.gz.tbi": b}


def test_create_and_verify(tmp_path, files):
    root = tmp_path / "res"
    snap = create_snapshot(root, "clinvar_GRCh38", "2024-01-07", files, ["http://x/a"],
                           retrieved=date(2024, 1, 9))
    assert snap == root / "clinvar_GRCh38" / "2024-01-07"
    manifest = verify_snapshot(snap)
    assert manifest.release == "2024-01-07" and manifest.retrieved == date(2024, 1, 9)
    assert manifest.files["clinvar.vcf.gz"].size == 500
    assert (snap / "clinvar.vcf.gz").read_bytes() == b"alpha" * 100
    raw = json.loads((snap / "manifest.json").read_text())
    assert raw["urls"] == ["http://x/a"] and len(raw["files"]["clinvar.vcf.gz.tbi"]["sha256"]) == 64
    assert files["clinvar.vcf.gz"].exists()  # copied, not moved
    assert [p.name for p in (root / "clinvar_GRCh38").iterdir()] == ["2024-01-07"]
    assert snap.stat().st_mode & 0o055 == 0o055  # the lab's other users can read it


def test_move_and_existing_release(tmp_path, files):
    root = tmp_path / "res"
    create_snapshot(root, "s", "r1", files, [], move=True)
    assert not files["clinvar.vcf.gz"].exists()
    other = tmp_path / "other"
    other.write_bytes(b"new")
    with pytest.raises(ResourceError, match="already exists"):
        create_snapshot(root, "s", "r1", {"x": other}, [])
    snap = create_snapshot(root, "s", "r1", {"x": other}, [], replace=True)
    assert sorted(p.name for p in snap.iterdir()) == ["manifest.json", "x"]
    assert sorted(p.name for p in (root / "s").iterdir()) == ["r1"]


def test_failed_build_leaves_previous_untouched(tmp_path, files):
    root = tmp_path / "res"
    old = create_snapshot(root, "s", "r1", files, [])
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    with pytest.raises(ResourceError, match="missing file"):
        create_snapshot(root, "s", "r2", {"x": tmp_path / "nope"}, [])
    with pytest.raises(ResourceError, match="missing file"):
        create_snapshot(root, "s", "r1", {"x": tmp_path / "nope"}, [], replace=True)
    assert sorted(p.name for p in (root / "s").iterdir()) == ["r1"]
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before


def test_bad_labels(tmp_path, files):
    for source, release in [("s", "../x"), ("s/t", "r"), ("s", ".hidden"), ("s", "")]:
        with pytest.raises(ResourceError, match="cannot name"):
            create_snapshot(tmp_path, source, release, files, [])


def test_verify_names_corrupt_and_missing_file(tmp_path, files):
    snap = create_snapshot(tmp_path, "s", "r", files, [])
    (snap / "clinvar.vcf.gz.tbi").write_bytes(b"indeX")  # same size, different content
    with pytest.raises(ResourceError, match=r"clinvar.vcf.gz.tbi: corrupt"):
        verify_snapshot(snap)
    (snap / "clinvar.vcf.gz").unlink()
    with pytest.raises(ResourceError, match=r"clinvar.vcf.gz: missing"):
        verify_snapshot(snap)
    (snap / "manifest.json").write_text("{}")
    with pytest.raises(ResourceError, match="malformed manifest"):
        read_manifest(snap)


def test_latest_and_status(tmp_path, files):
    root = tmp_path / "res"
    assert latest_snapshot(root, "s") is None
    create_snapshot(root, "s", "2023-12", files, [], retrieved=date(2024, 1, 1))
    newest = create_snapshot(root, "s", "2024-02", files, [], retrieved=date(2024, 2, 3))
    create_snapshot(root, "s", "2023-01", files, [], retrieved=date(2023, 1, 1))
    (root / "s" / "junk").mkdir()  # no manifest: ignored by latest, never fatal
    assert latest_snapshot(root, "s") == newest
    create_snapshot(root, "t", "v1", files, [], retrieved=date(2024, 1, 1))
    (root / "u" / "broken").mkdir(parents=True)

    status = {r.source: r for r in snapshot_status(root, 30, today=date(2024, 2, 20))}
    assert sorted(status) == ["s", "t", "u"]
    s, t, u = status["s"], status["t"], status["u"]
    assert (s.release, s.age_days, s.stale, s.ok, s.problem) == ("2024-02", 17, False, True, None)
    assert (t.age_days, t.stale, t.ok) == (50, True, True)
    assert u.release is None and u.stale and not u.ok and "no snapshot" in u.problem

    (newest / "clinvar.vcf.gz").write_bytes(b"tampered")
    s = {r.source: r for r in snapshot_status(root, 30, today=date(2024, 2, 20))}["s"]
    assert not s.ok and "clinvar.vcf.gz: corrupt" in s.problem
    s = {r.source: r for r in snapshot_status(root, 30, today=date(2024, 2, 20), verify=False)}["s"]
    assert s.ok
    assert snapshot_status(tmp_path / "absent", 30) == []
