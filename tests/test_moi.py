"""MOI simplification (rulebook §1 table, row by row) and combination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from heron.resources.moi import LENIENCY, combine_gene_moi, combine_moi, simplify_moi

# (PanelApp string, on chrX, expected) — one row per line of the rulebook table, plus the real
# strings seen in PanelApp API panels and the abbreviations of PanelApp dumps.
ROWS = [
    ("MITOCHONDRIAL", False, "Mitochondrial"),
    ("BIALLELIC, autosomal or pseudoautosomal", False, "Biallelic"),
    ("BIALLELIC, autosomal or pseudoautosomal", True, "Biallelic"),
    ("BOTH monoallelic and biallelic, autosomal or pseudoautosomal", False, "MonoAndBiallelic"),
    ("BOTH monoallelic and biallelic (but BIALLELIC mutations cause a more SEVERE disease form), "
     "autosomal or pseudoautosomal", False, "MonoAndBiallelic"),
    ("MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted", False, "Monoallelic"),
    ("MONOALLELIC, autosomal or pseudoautosomal, imprinted status unknown", False, "Monoallelic"),
    ("MONOALLELIC, autosomal or pseudoautosomal, NOT imprinted", True, "HemiMonoInFemale"),
    ("X-LINKED: hemizygous mutation in males, biallelic mutations in females", True,
     "HemiBiInFemale"),
    ("X-LINKED: hemizygous mutation in males, monoallelic mutations in females may cause "
     "disease (may be less severe, later onset than males)", True, "HemiMonoInFemale"),
    ("Unknown", False, "MonoAndBiallelic"),
    ("Unknown", True, "HemiBiInFemale"),
    ("Other - please specify in evaluation comments", False, "MonoAndBiallelic"),
    ("Other", True, "HemiBiInFemale"),
    ("", False, "MonoAndBiallelic"),
    ("", True, "HemiBiInFemale"),
    (None, False, "MonoAndBiallelic"),
    ("AD", False, "Monoallelic"),
    ("AD", True, "HemiMonoInFemale"),
    ("AR", False, "Biallelic"),
    ("AD/AR", False, "MonoAndBiallelic"),
    ("XL", True, "HemiMonoInFemale"),
    ("XLR", True, "HemiBiInFemale"),
    ("MT", False, "Mitochondrial"),
    ("NA", False, "MonoAndBiallelic"),
    ("Biallelic", False, "Biallelic"),
    ("HemiBiInFemale", True, "HemiBiInFemale"),
]


@pytest.mark.parametrize("raw,on_x,expected", ROWS)
def test_simplify_row(raw, on_x, expected):
    assert simplify_moi([raw], [on_x])[0] == expected


def test_simplify_vectorised_matches_rows():
    raw = [r[0] for r in ROWS]
    on_x = np.array([r[1] for r in ROWS])
    assert list(simplify_moi(raw, on_x)) == [r[2] for r in ROWS]
    assert list(simplify_moi(pd.Series(raw), on_x)) == [r[2] for r in ROWS]


def test_simplify_length_mismatch():
    with pytest.raises(ValueError, match="on_x has 1"):
        simplify_moi(["AD", "AR"], [False])


@pytest.mark.parametrize("values,expected", [
    (["Biallelic", "Monoallelic"], "MonoAndBiallelic"),
    (["Biallelic", "Biallelic"], "Biallelic"),
    (["Mitochondrial", "Biallelic"], "Biallelic"),
    (["HemiBiInFemale", "HemiMonoInFemale"], "HemiMonoInFemale"),
    (["Monoallelic", "HemiMonoInFemale"], "Monoallelic"),
    (["MonoAndBiallelic", "Monoallelic"], "MonoAndBiallelic"),
    (["Mitochondrial"], "Mitochondrial"),
])
def test_combine(values, expected):
    assert combine_moi(values) == expected


def test_leniency_order_pairwise():
    for i, low in enumerate(LENIENCY):
        for high in LENIENCY[i + 1:]:
            expected = "MonoAndBiallelic" if {low, high} == {"Biallelic", "Monoallelic"} else high
            assert combine_moi([high, low]) == expected


def test_combine_gene_frame():
    genes = pd.DataFrame({
        "symbol": ["A", "A", "B", "C", "C", "C"],
        "moi": ["Biallelic", "Monoallelic", "Biallelic", "HemiBiInFemale", "Mitochondrial",
                "HemiBiInFemale"],
    })
    got = combine_gene_moi(genes)
    assert got.to_dict() == {"A": "MonoAndBiallelic", "B": "Biallelic", "C": "HemiBiInFemale"}


def test_combine_rejects_unknown():
    with pytest.raises(ValueError, match="'dominant' is not a simplified MOI"):
        combine_moi(["Biallelic", "dominant"])
    with pytest.raises(ValueError, match="at least one"):
        combine_moi([])
