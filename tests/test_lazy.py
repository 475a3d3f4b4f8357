"""Modules loaded on first use: a shard job's start-up never pays for pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_pandas_is_loaded_on_first_use():
    out = _fresh("import sys\n"
                 "from heron.lazy import pandas as pd\n"
                 "print('pandas.core.frame' in sys.modules)\n"
                 "print(pd.DataFrame({'a': [1, 2]}).shape)\n"
                 "print('pandas.core.frame' in sys.modules)\n"
                 "import pandas\n"
                 "print(pandas is pd)")
    assert out.split("\n") == ["False", "(2, 1)", "True", "True"]


def test_shard_stages_import_without_pandas_or_requests():
    out = _fresh("import sys\n"
                 "import heron.cli, heron.pipeline, heron.annotate.stage, heron.classify.stage\n"
                 "import heron.resources.gnomad, heron.resources.alphamissense\n"
                 "print(sorted(m for m in sys.modules\n"
                 "             if m.startswith(('pandas.', 'requests.', 'urllib3'))))")
    assert out == "[]"


def test_an_imported_module_is_returned_as_it_is():
    import numpy

    from heron.lazy import load

    assert load("numpy") is numpy
    with pytest.raises(ModuleNotFoundError):
        load("no_such_module_here")
