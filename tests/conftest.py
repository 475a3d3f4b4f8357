"""Shared fixtures: tiny VCFs compressed on the fly, and the real data folder."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real data folder next to the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def vcf_fixture(tmp_path):
    """Compress and index one of tests/data/vcf/*.vcf; returns the .vcf.gz path."""

    def make(name: str, index: bool = True) -> Path:
        source = TESTS / "data" / "vcf" / name
        out = tmp_path / f"{source.stem}.vcf.gz"
        pysam.tabix_compress(str(source), str(out), force=True)
        if index:
            pysam.tabix_index(str(out), preset="vcf", force=True)
        return out

    return make
