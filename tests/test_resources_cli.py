"""`heron resources status`, and runs refusing corrupt snapshots and warning on stale ones."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from heron.cli import main
from heron.config import HeronConfig
from heron.errors import ResourceError
from heron.pipeline import prepare_clinvar
from heron.resources.snapshot import create_snapshot

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def snapshot_root(tmp_path) -> Path:
    root = tmp_path / "resources"
    shutil.copy(REPO / "resources/demo/clinvar.vcf.gz", tmp_path / "clinvar.vcf.gz")
    create_snapshot(root, "clinvar_GRCh38", "2026-10-05",
                    {"clinvar.vcf.gz": tmp_path / "clinvar.vcf.gz"},
                    urls=["https://example.org/clinvar.vcf.gz"],
                    retrieved=__import__("datetime").date(2026, 10, 6))
    return root


def config_for(tmp_path, root: Path, run_date: str) -> HeronConfig:
    vcf = root / "clinvar_GRCh38" / "2026-10-05" / "clinvar.vcf.gz"
    return HeronConfig.model_validate({
        "run_date": run_date, "resources": {"root": str(root), "clinvar": {"vcf": str(vcf)}}})


def write_config(tmp_path, config: HeronConfig) -> Path:
    path = tmp_path / "heron.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


def test_status_lists_release_and_age(tmp_path, snapshot_root, capsys):
    path = write_config(tmp_path, config_for(tmp_path, snapshot_root, "2026-11-28"))
    assert main(["resources", "status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "clinvar_GRCh38" in out and "2026-10-05" in out and " ok" in out


def test_status_fails_on_a_corrupt_snapshot(tmp_path, snapshot_root, capsys):
    vcf = snapshot_root / "clinvar_GRCh38" / "2026-10-05" / "clinvar.vcf.gz"
    vcf.write_bytes(vcf.read_bytes()[:-10])
    path = write_config(tmp_path, config_for(tmp_path, snapshot_root, "2026-11-28"))
    assert main(["resources", "status", "--config", str(path)]) == 1
    assert "CORRUPT" in capsys.readouterr().out


def test_run_refuses_a_corrupt_snapshot(tmp_path, snapshot_root):
    vcf = snapshot_root / "clinvar_GRCh38" / "2026-10-05" / "clinvar.vcf.gz"
    vcf.write_bytes(b"not the file that was downloaded")
    with pytest.raises(ResourceError, match="clinvar.vcf.gz"):
        prepare_clinvar(config_for(tmp_path, snapshot_root, "2026-10-07"), tmp_path / "out")


def test_run_warns_on_a_stale_snapshot(tmp_path, snapshot_root, caplog):
    with caplog.at_level(logging.WARNING):
        prepare_clinvar(config_for(tmp_path, snapshot_root, "2027-03-01"), tmp_path / "out")
    assert "days old" in caplog.text and "heron resources download clinvar" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        prepare_clinvar(config_for(tmp_path, snapshot_root, "2026-10-20"), tmp_path / "fresh")
    assert "days old" not in caplog.text
    assert (tmp_path / "fresh" / "table").is_dir()


def test_a_manifest_that_is_not_a_snapshot_is_ignored(tmp_path):
    """A cohort's own manifest.json above a resource file is not a snapshot manifest."""
    (tmp_path / "manifest.json").write_text('{"cases": []}')
    vcf = tmp_path / "knowledge" / "clinvar.vcf.gz"
    vcf.parent.mkdir()
    shutil.copy(REPO / "resources/demo/clinvar.vcf.gz", vcf)
    config = HeronConfig.model_validate({"run_date": "2026-11-28",
                                         "resources": {"clinvar": {"vcf": str(vcf)}}})
    assert (prepare_clinvar(config, tmp_path / "out") / "table").is_dir()
