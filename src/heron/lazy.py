"""Modules loaded on first use, for the ones most stages never touch.

Every stage is its own process, and pandas alone takes about a third of a second to import:
more than a shard's annotate or classify spends on its work. Modules that use pandas only in
some of their functions take it from here, so a job imports it only when one of those runs;
likewise requests, which only a download uses.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def load(name: str) -> ModuleType:
    """Module ``name``, executed on first attribute access (the standard library's
    LazyLoader); the module itself when it is already imported."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


pandas = load("pandas")
requests = load("requests")
