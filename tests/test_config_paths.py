"""Config loading: relative paths taken from the base folder, absolute ones kept, bad keys
named."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.config import HeronConfig, load_config
from heron.errors import InputError


def test_relative_paths_resolve_and_absolute_paths_stay(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("cohort:\n  vcfs: [data/a.vcf.gz, /abs/b.vcf.gz]\n  pedigree: p.ped\n"
                    "resources:\n  root: /srv/resources\n  clinvar:\n    vcf: cv.vcf.gz\n")
    config = load_config(path, base=Path("/base"))
    assert config.cohort.vcfs == ["/base/data/a.vcf.gz", "/abs/b.vcf.gz"]
    assert config.cohort.pedigree == "/base/p.ped"
    assert config.resources.root == "/srv/resources"
    assert config.resources.clinvar.vcf == "/base/cv.vcf.gz"
    assert config.resources.clinvar.submission_summary is None


def test_unknown_and_invalid_keys_are_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("prefilter:\n  max_af_anyy: 0.01\ncall_qc:\n  min_depth: -3\n")
    with pytest.raises(InputError) as err:
        load_config(path)
    assert "prefilter.max_af_anyy" in str(err.value) and "call_qc.min_depth" in str(err.value)
    assert str(path) in str(err.value)


def test_digest_changes_with_settings():
    assert HeronConfig().digest() == HeronConfig().digest()
    assert HeronConfig().digest() != HeronConfig.model_validate(
        {"prefilter": {"max_af_any": 0.02}}).digest()
