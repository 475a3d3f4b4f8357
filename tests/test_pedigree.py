"""PED and phenopacket reading, validation against the VCF, and alignment to the store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heron.errors import InputError
from heron.ingest.pedigree import AFFECTED, FEMALE, MALE, UNKNOWN_STATUS, read_ped


def write(tmp_path, text: str, name: str = "cohort.ped"):
    path = tmp_path / name
    path.write_text(text)
    return path


TRIO = ("#fam\tid\tfather\tmother\tsex\tpheno\thpo\n"
        "F1\tkid\tdad\tmum\t1\t2\tHP:0001250;HP:0001263\n"
        "F1\tdad\t0\t0\t1\t1\n"
        "F1\tmum\t-9\t.\t2\t1\t\n"
        "F1\tsib\tdad\tmum\t2\t-9\tHP:0000001, HP:0000118\n")


def test_reads_columns_hpo_and_missing_codes(tmp_path):
    ped = read_ped(write(tmp_path, TRIO))
    kid, mum, sib = ped.individuals["kid"], ped.individuals["mum"], ped.individuals["sib"]
    assert (kid.father, kid.mother, kid.sex, kid.affected) == ("dad", "mum", MALE, AFFECTED)
    assert kid.hpo == ["HP:0001250", "HP:0001263"]
    assert (mum.father, mum.mother, mum.sex, mum.hpo) == (None, None, FEMALE, [])
    assert sib.affected == UNKNOWN_STATUS and sib.hpo == ["HP:0000001", "HP:0000118"]


def test_space_separated_ped_without_header(tmp_path):
    ped = read_ped(write(tmp_path, "F1 a 0 0 1 2\nF1 b 0 0 2 1\n"))
    assert [i.id for i in ped] == ["a", "b"]


@pytest.mark.parametrize("text,pattern,line", [
    ("F1\tkid\t0\t0\t1\n", "expected at least 6 columns", 1),
    ("F1\tkid\t0\t0\t1\t2\tHP:123\n", "malformed HPO term", 1),
    ("F1\tkid\t0\t0\t1\t2\nF1\tkid\t0\t0\t1\t2\n", "appears again", 2),
    ("F1\tkid\tmum\t0\t1\t2\nF1\tmum\t0\t0\t2\t1\n", "has sex female", 2),
    ("F1\ta\tb\t0\t1\t2\nF1\tb\ta\t0\t1\t1\n", "own ancestor", 1),
    ("F1\tkid\tdad\t0\t1\t2\nF2\tdad\t0\t0\t1\t1\n", "is in family", 1),
])
def test_errors_name_file_and_line(tmp_path, text, pattern, line):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=pattern) as err:
        read_ped(path)
    assert f"{path}:{line}:" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="pedigree file not found"):
        read_ped(tmp_path / "absent.ped")


def test_samples_checked_against_the_vcf(tmp_path):
    ped = read_ped(write(tmp_path, TRIO))
    warnings = ped.check_samples(["kid", "dad", "mum", "extra1"])
    assert any("'sib'" in w and "not in any VCF" in w for w in warnings)
    assert any("extra1" in w and "not analysed" in w for w in warnings)
    with pytest.raises(InputError, match="no affected individual"):
        ped.check_samples(["dad", "mum"])


def test_align_to_store_columns(tmp_path):
    ped = read_ped(write(tmp_path, TRIO))
    arrays = ped.align(["mum", "kid", "stranger", "dad"])
    assert arrays.father.tolist() == [-1, 3, -1, -1]
    assert arrays.mother.tolist() == [-1, 0, -1, -1]
    assert arrays.sex.tolist() == [FEMALE, MALE, 0, MALE]
    assert arrays.affected.tolist() == [1, AFFECTED, 0, 1]
    fam = arrays.family
    assert fam[0] == fam[1] == fam[3] != fam[2]


def test_phenopackets_add_observed_and_excluded_terms(tmp_path):
    ped = read_ped(write(tmp_path, TRIO))
    packet = {"id": "p1", "subject": {"id": "kid"}, "phenotypicFeatures": [
        {"type": {"id": "HP:0001263"}}, {"type": {"id": "HP:0000252"}},
        {"type": {"id": "HP:0001627"}, "excluded": True}]}
    path = write(tmp_path, json.dumps(packet), "kid.json")
    ped.add_phenopackets([str(path)])
    kid = ped.individuals["kid"]
    assert kid.hpo == ["HP:0000252", "HP:0001250", "HP:0001263"]
    assert kid.excluded_hpo == ["HP:0001627"]


def test_real_scout_and_giab_peds(shared_data):
    scout = read_ped(shared_data / "vcf" / "scout_643594_trio.ped")
    arrays = scout.align(["ADM1059A1", "ADM1059A2", "ADM1059A3"])
    assert arrays.affected.tolist() == [1, 2, 1]
    assert (arrays.father[1], arrays.mother[1]) == (0, 2)
    giab = read_ped(shared_data / "vcf" / "giab_ashk_trio.ped")
    assert np.array_equal(giab.align(["HG002", "HG003", "HG004"]).father, [1, -1, -1])
