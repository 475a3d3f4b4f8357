"""Parsing of VEP CSQ strings into the transcripts table (heron.annotate.csq)."""

import numpy as np
import pytest

from heron.annotate.csq import BIT, format_fields, parse_annotations
from heron.annotate.cut import cut_entries

VEP = ("Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|Gene|"
       "Feature|BIOTYPE|HGVSc|HGVSp|Protein_position|CANONICAL|MANE_SELECT|am_pathogenicity")
BCSQ_FIELDS = ["Consequence", "gene", "transcript", "biotype", "strand", "amino_acid_change",
               "dna_change"]


def test_cut_entries_spans_of_the_wanted_fields():
    values = np.array([b"a|b|c,d", b"", b"e|f|g|h|i,,j|k"])
    # positions 0 and 2 wanted, 1 not; position 4 is past the format and ignored
    entries = cut_entries(values, ["x", None, "z"])
    assert entries.owner.tolist() == [0, 0, 2, 2, 2]
    assert entries.column("x").tolist() == [b"a", b"d", b"e", b"", b"j"]
    assert entries.column("z").tolist() == [b"c", b"", b"g", b"", b""]
    assert entries.column("y").tolist() == [b""] * 5  # no such field in the format
    kept = entries.take(np.array([False, True, True, False, False]))
    assert kept.owner.tolist() == [0, 2] and kept.column("x").tolist() == [b"d", b"e"]
    none = cut_entries(np.array([b"", b""]), ["x"])
    assert len(none) == 0 and none.column("x").tolist() == []
    assert len(cut_entries(np.array([], dtype="S1"), ["x"])) == 0


def test_entries_short_of_the_header_fields_read_as_missing():
    strings = np.array([
        b"G|missense_variant|GENE1|ENSG1|ENST1|protein_coding|c.1A>G|p.M1V|1|YES|NM_1.1|0.9,"
        b"G|intron_variant&NMD_transcript_variant|GENE1|ENSG1|ENST2",  # VEP dropped the tail
        b"",
        b"T|stop_gained|GENE2|ENSG2|ENST3|protein_coding|c.9C>T|p.Q3*|3-4|||0.2&0.4,"
        b"C|missense_variant|GENE2|ENSG2|ENST3|protein_coding|c.9C>C|p.Q3P|3||"])  # other ALT
    tx = parse_annotations(strings, VEP, np.array([b"G", b"A", b"T"]),
                           np.array([b"G", b"A", b"T"]), np.array([1, 1, 2], np.int16))
    assert tx["variant"].tolist() == [0, 0, 2]
    assert tx["transcript"].tolist() == [b"ENST1", b"ENST2", b"ENST3"]
    assert tx["consequence"].tolist() == [BIT["missense"], BIT["intron"] | BIT["nmd_transcript"],
                                          BIT["stop_gained"]]
    assert tx["biotype"].tolist() == [b"protein_coding", b"", b"protein_coding"]
    assert tx["protein_pos"].tolist() == [1, -1, 3]
    assert tx["canonical"].tolist() == [True, False, False]
    assert tx["mane_id"].tolist() == [b"NM_1.1", b"", b""]
    # the first of '&'-joined scores counts; a missing one is NaN
    np.testing.assert_array_equal(tx["am_score"], np.array([0.9, np.nan, 0.2], np.float32))


@pytest.mark.parametrize("description, kind, fields", [
    (VEP, "vep", ["Allele", "Consequence", "SYMBOL", "Gene", "Feature", "BIOTYPE", "HGVSc",
                  "HGVSp", "Protein_position", "CANONICAL", "MANE_SELECT", "am_pathogenicity"]),
    ("Local consequence annotation from BCFtools/csq. Format: Consequence|gene|transcript|"
     "biotype|strand|amino_acid_change|dna_change", "bcsq", BCSQ_FIELDS),
    # the optional parts in brackets, as some bcftools versions write the header
    ("Local consequence annotation from BCFtools/csq. Format: '[*]consequence|gene|transcript|"
     "biotype[|strand|amino_acid_change|dna_change]' or, for consequences of variants split "
     "across multiple sites, a pointer to the record storing the consequences '@position'. "
     "'*' prefix indicates a consequence downstream from a stop", "bcsq", BCSQ_FIELDS),
    ("Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name' ", "ann",
     ["Allele", "Annotation", "Annotation_Impact", "Gene_Name"]),
])
def test_format_fields(description, kind, fields):
    assert format_fields(description) == (kind, fields)


def test_bracketed_bcsq_header_reads_consequences():
    description = ("Format: '[*]consequence|gene|transcript|biotype[|strand|amino_acid_change|"
                   "dna_change]'")
    strings = np.array([b"missense|OR4F5|ENST00000335137|protein_coding|+|141T>141A|69511A>G",
                        b"*stop_lost|G2|ENST2|protein_coding"])
    tx = parse_annotations(strings, description, np.array([b"G", b"T"]),
                           np.array([b"G", b"T"]), np.array([1, 1], np.int16))
    assert tx["consequence"].tolist() == [BIT["missense"], BIT["stop_lost"]]
    assert tx["gene_symbol"].tolist() == [b"OR4F5", b"G2"]
    assert tx["protein_pos"].tolist() == [141, -1]


def test_real_bcftools_csq_output_reads_consequences(shared_data):
    import cyvcf2

    vcf = cyvcf2.VCF(str(shared_data / "vcf" / "giab_ashk_trio.b37.first10k.vcf.gz"))
    description = next(h for h in vcf.header_iter()
                       if h.type == "INFO" and h["ID"] == "BCSQ")["Description"]
    records = [r for r in vcf if r.INFO.get("BCSQ")][:2000]
    assert records
    strings = np.array([r.INFO["BCSQ"].encode() for r in records])
    alt = np.array([r.ALT[0].encode() for r in records])
    tx = parse_annotations(strings, description, alt, alt,
                           np.array([len(r.ALT) for r in records], np.int16))
    # every entry's consequence is one heron knows: none empty, none unrecognised
    assert len(tx["variant"]) >= len(records)
    assert (tx["consequence"] != 0).all()
    assert not (tx["consequence"] & BIT["other"]).any()
    assert (tx["gene_symbol"] != b"").mean() > 0.9
