"""Temporary siblings of outputs, renamed into place when complete.

``tempfile`` makes them private to their creator (folders 0700, files 0600), which would
carry over to the store, the snapshots and the downloads once renamed: on a shared cluster a
lab's other members could not read them. They get the modes an ordinary folder and file get
under the usual umask instead (0755 and 0644, less what the umask removes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def staging_dir(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A new empty folder in ``parent`` (created if missing), readable as ``parent``'s
    ordinary subfolders are."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(path, 0o755 & ~_umask())
    return path


def staging_file(parent: Path, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """(open file descriptor, path) of a new empty file in ``parent`` (created if missing),
    readable as ordinary files are."""
    parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=parent)
    os.chmod(name, 0o644 & ~_umask())
    return fd, Path(name)
