"""Temporary siblings of outputs, renamed into place when complete, and caches written
through them.

``tempfile`` makes them private to their creator (folders 0700, files 0600), which would
carry over to the store, the snapshots and the downloads once renamed: on a shared cluster a
lab's other members could not read them. They get the modes an ordinary folder and file get
under the usual umask instead (0755 and 0644, less what the umask removes).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


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


def through_cache(sources: list[Path], cache: Path | None, build: Callable[[], T],
                  save: Callable[[T, Path], None], load: Callable[[Path], T]) -> T:
    """What ``build`` makes from the files ``sources``, reloaded with ``load`` from ``cache``
    while the cache is at least as new as every source; otherwise built and, with a cache
    path, saved there by ``save`` through a staging file, so that parallel jobs sharing the
    cache never read half of it. ``cache`` None: always built."""
    if cache is not None and cache.exists() and \
            cache.stat().st_mtime >= max(source.stat().st_mtime for source in sources):
        return load(cache)
    made = build()
    if cache is not None:
        fd, tmp = staging_file(cache.parent, prefix=f".{cache.stem}-", suffix=cache.suffix)
        os.close(fd)
        try:
            save(made, tmp)
            os.replace(tmp, cache)
        finally:
            tmp.unlink(missing_ok=True)
    return made
