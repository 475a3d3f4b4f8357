"""Reference tables on disk: one ``.npy`` per array plus ``meta.json`` in a folder.

Shared by the ClinVar table, the gnomAD index and the AlphaMissense table, which are built
once per release and memory-mapped by every shard job.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from heron.errors import ResourceError


def save_arrays(folder: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write each array as ``<name>.npy`` and ``meta`` as ``meta.json``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def load_meta(folder: str | Path, what: str, hint: str) -> dict:
    """``meta.json`` of a table folder; ResourceError naming ``what`` when unreadable."""
    folder = Path(folder)
    try:
        return json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise ResourceError(f"{folder}: not a readable {what} ({exc}) — {hint}") from exc


def load_arrays(folder: str | Path, names, mmap: bool, what: str,
                hint: str) -> dict[str, np.ndarray]:
    """The named arrays of a table folder (memory-mapped when ``mmap``)."""
    folder = Path(folder)
    try:
        return {name: np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None,
                              allow_pickle=False) for name in names}
    except (OSError, ValueError) as exc:
        raise ResourceError(f"{folder}: not a readable {what} ({exc}) — {hint}") from exc
