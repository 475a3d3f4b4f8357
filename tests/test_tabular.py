import numpy as np
import pandas as pd

from heron.tabular import tsv_text


def test_same_text_as_pandas_for_every_column_kind():
    frame = pd.DataFrame({
        "sample": ["a", "b", "c"], "n": [1, -2, 3], "score": [0.1 + 0.2, np.nan, 1e-7],
        "flag": [True, False, True], "text": ["x,y", "", None],
        "obj": pd.Series([0.5, "<=1", None], dtype=object)})
    assert tsv_text(frame) == frame.to_csv(sep="\t", index=False)


def test_empty_table_keeps_its_header():
    frame = pd.DataFrame({"sample": pd.Series(dtype=str), "rank": pd.Series(dtype=int)})
    assert tsv_text(frame) == "sample\trank\n"


def test_cells_that_need_quoting_are_quoted_like_pandas():
    frame = pd.DataFrame({"why": ['say "hi"', "two\tcells", "line\nbreak"], "n": [1, 2, 3]})
    assert tsv_text(frame) == frame.to_csv(sep="\t", index=False)
