"""Accuracy-benchmark cohort generator: cases, consequences, families, VCF batches, knowledge."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import cyvcf2
import numpy as np
import pandas as pd
import pytest

from benchmarks.accuracy.__main__ import main
from benchmarks.accuracy.cases import load_cases, pmid_year
from benchmarks.accuracy.families import build_cohort
from benchmarks.accuracy.genes import load_gene_table, sample_exonic, sample_intronic_near_exon
from benchmarks.accuracy.generate import generate
from benchmarks.accuracy.hgvs import annotate_hgvs
from benchmarks.accuracy.knowledge import MOI_TEXT, _union_panel
from benchmarks.accuracy.protocol import DEFAULT
from benchmarks.accuracy.writers import BgzfWriter
from heron.errors import InputError

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "data" / "accuracy"
CASES = FIXTURES / "phenopackets_mixed_cases.jsonl"
GENES = FIXTURES / "gene_exons_small.txt"
CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|"
              "Protein_position|Amino_acids|CANONICAL|MANE_SELECT|am_class|am_pathogenicity|REVEL")
SMALL = dataclasses.replace(DEFAULT, n_common=1500)


@pytest.fixture(scope="module")
def shared_data() -> Path:
    path = HERE.parent.parent / "shared" / "data"
    if not (path / "vcf").is_dir() or not (path / "panelapp").is_dir():
        pytest.skip(f"shared real data not found at {path}")
    return path


@pytest.fixture(scope="module")
def cohort_dir(shared_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    generate(CASES, 21, 7, out, shared_data, GENES, batch_size=10, cut_year=2015, protocol=SMALL,
             log=lambda msg: None)
    return out


@pytest.fixture(scope="module")
def manifest(cohort_dir) -> dict:
    return json.loads((cohort_dir / "manifest.json").read_text())


def test_consequence_from_hgvs():
    rows = [
        ("NM_1.1:c.1861C>T", "NP_1.1:p.(Gln621Ter)", "C", "T", "stop_gained", 621),
        ("NM_1.1:c.174del", "NP_1.1:p.(Asn59IlefsTer51)", "TG", "T", "frameshift_variant", 59),
        ("NM_1.1:c.870+1G>A", "NP_1.1:p.?", "C", "T", "splice_donor_variant", 0),
        ("NM_1.1:c.664-2A>G", "", "T", "C", "splice_acceptor_variant", 0),
        ("NM_1.1:c.478+5G>C", "", "C", "G", "splice_region_variant", 0),
        ("NM_1.1:c.478+15G>C", "", "C", "G", "intron_variant", 0),
        ("NM_1.1:c.1A>G", "NP_1.1:p.(Met1?)", "A", "G", "start_lost", 1),
        ("NM_1.1:c.1672T>G", "NP_1.1:p.(Ter558GlyextTer23)", "T", "G", "stop_lost", 558),
        ("NM_1.1:c.607_615del", "NP_1.1:p.(Glu203_Glu205del)", "GCTCTTCTTC", "G", "inframe_deletion", 203),
        ("NM_1.1:c.654_656dup", "", "G", "GTTA", "inframe_insertion", 218),
        ("NM_1.1:c.495G>A", "NP_1.1:p.(Glu165=)", "G", "A", "synonymous_variant", 165),
        ("NM_1.1:c.743G>A", "NP_1.1:p.(Arg248Gln)", "G", "A", "missense_variant", 248),
        ("NM_1.1:c.-10G>T", "NP_1.1:p.?", "G", "T", "5_prime_UTR_variant", 0),
        ("NM_1.1:c.*45G>C", "", "G", "C", "3_prime_UTR_variant", 0),
        ("NR_1.1:n.24A>G", "", "A", "G", "non_coding_transcript_exon_variant", 0),
    ]
    df = pd.DataFrame(rows, columns=["c", "p", "ref", "alt", "expected", "position"])
    out = annotate_hgvs(df["c"], df["p"], pd.Series([""] * len(df)), df["ref"], df["alt"])
    assert out["consequence"].tolist() == df["expected"].tolist()
    assert out["protein_position"].tolist() == df["position"].tolist()
    assert out.loc[11, "amino_acids"] == "R/Q"
    assert out.loc[2, "intron_offset"] == 1 and out.loc[5, "intron_offset"] == 15


def test_pmid_year_is_monotone_and_dates_known_papers():
    years = pmid_year(np.array([15266616, 28698159, 37342957, 100, 0]))
    assert years.tolist() == [2004, 2017, 2023, 1995, 0]


def test_load_cases_parses_variants_scope_and_contigs():
    cs = load_cases(CASES)
    cases, var = cs.cases, cs.variants
    assert len(cases) == 21
    sv = cases.set_index("case_id").loc["PMID_15266616_100"]
    assert not sv["has_vcf"] and "structural" in sv["scope_reason"]
    assert set(var["chrom"]) >= {"chr11", "chrM", "chrX"}  # "11" and "MT" renamed
    comphet = var[var["case"] == cases.index[cases["case_id"] == "PMID_28830446_Patient_1"][0]]
    assert len(comphet) == 2 and set(comphet["zygosity"]) == {"het"}
    hemi = var[var["symbol"] == "ABCB7"]
    assert set(hemi["zygosity"]) == {"hemi"} and (hemi["transcript"].str.startswith("NM_")).all()
    assert cases["publication"].str.match(r"^PMID:\d+$").all()


def test_load_cases_reports_bad_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(CASES.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        load_cases(bad)


def test_family_type_mix_and_controls():
    cs = load_cases(CASES)
    chosen = np.arange(1500) % len(cs.cases)
    cohort = build_cohort(cs, chosen, np.random.default_rng(3))
    share = cohort.families["family_type"].value_counts(normalize=True)
    assert abs(share["trio"] - 0.5) < 0.04 and abs(share["duo"] - 0.1) < 0.03 and abs(share["singleton"] - 0.4) < 0.04
    people = cohort.people
    seq = people[people["sequenced"]]
    assert abs((seq["role"] == "control").mean() - 0.10) < 0.01
    duo = cohort.families[cohort.families["family_type"] == "duo"]
    parents = people.loc[np.concatenate([duo["father"], duo["mother"]]), "sequenced"]
    assert parents.sum() == len(duo)  # exactly one parent per duo


def test_gene_table_positions_fall_in_exons_and_near_splice_sites():
    genes = load_gene_table(GENES)
    rng = np.random.default_rng(0)
    p = sample_exonic(genes, rng, 500)
    assert ((p.pos > genes.exon_start[p.exon]) & (p.pos <= genes.exon_end[p.exon])).all()
    q = sample_intronic_near_exon(genes, rng, 300, 1, 2)
    inside = (q.pos > genes.exon_start[q.exon]) & (q.pos <= genes.exon_end[q.exon])
    assert not inside.any()
    dist = np.minimum(np.abs(q.pos - genes.exon_end[q.exon]), np.abs(genes.exon_start[q.exon] + 1 - q.pos))
    assert ((dist >= 1) & (dist <= 2)).all()
    plus = genes.strand[q.gene] > 0
    right = q.pos > genes.exon_end[q.exon]
    assert (q.donor == (plus == right)).all()


def test_bgzf_writer_round_trip(tmp_path):
    data = b"".join(f"chr1\t{i}\t.\tA\tC\t.\tPASS\t.\n".encode() for i in range(1, 30000))
    w = BgzfWriter(tmp_path / "x.gz", level=1)
    w.write(data[:1000])
    w.write(data[1000:])
    w.close()
    assert gzip.decompress((tmp_path / "x.gz").read_bytes()) == data


def _vcf_text(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def test_generation_is_deterministic_per_seed(shared_data, tmp_path, cohort_dir, manifest):
    again = tmp_path / "again"
    generate(CASES, 21, 7, again, shared_data, GENES, batch_size=10, cut_year=2015, protocol=SMALL,
             log=lambda msg: None)
    assert json.loads((again / "manifest.json").read_text()) == manifest
    for rel in manifest["files"]["vcfs"] + [manifest["files"]["clinvar"]]:
        assert _vcf_text(again / rel) == _vcf_text(cohort_dir / rel)
    other = tmp_path / "other"
    generate(CASES, 21, 8, other, shared_data, GENES, batch_size=10, protocol=SMALL, log=lambda msg: None)
    first = manifest["files"]["vcfs"][0]
    assert _vcf_text(other / first) != _vcf_text(cohort_dir / first)


def test_manifest_layout(cohort_dir, manifest):
    files = manifest["files"]
    assert len(files["vcfs"]) == len(manifest["batches"]) == 3  # 21 cases, 10 per batch
    for rel in files["vcfs"] + [files["clinvar"], files["clinvar_old"]]:
        assert (cohort_dir / rel).exists() and (cohort_dir / (rel + ".tbi")).exists()
    assert manifest["counts"]["cases"] == 21
    case = manifest["cases"][0]
    for key in ("case_id", "proband_id", "family_id", "family_type", "genes", "moi", "variant_class", "route",
                "in_scope", "scope_reason", "batch", "variants"):
        assert key in case
    controls = manifest["negative_controls"]
    assert controls and all(c["hpo_observed"] for c in controls)
    case_ids = {c["case_id"] for c in manifest["cases"]}
    assert all(c["hpo_from_case"] in case_ids for c in controls)


def test_vcf_is_readable_with_csq_and_grch38_contigs(cohort_dir, manifest):
    reader = cyvcf2.VCF(str(cohort_dir / manifest["files"]["vcfs"][0]))
    assert reader.get_header_type("CSQ")["Description"].strip('"').endswith(CSQ_FORMAT)
    assert dict(zip(reader.seqnames, reader.seqlens))["chr1"] == 248956422
    n = 0
    for record in reader:
        csq = record.INFO["CSQ"].split("|")
        assert len(csq) == 19 and csq[1] and csq[14] == "YES"
        assert record.FORMAT == ["GT", "AD", "DP", "GQ"]
        n += 1
    assert n > 1000


def _genotype(reader: cyvcf2.VCF, chrom: str, pos: int, alt: str, sample: str) -> str:
    idx = reader.samples.index(sample)
    for record in reader(f"{chrom}:{pos}-{pos}"):
        if record.POS == pos and record.ALT == [alt]:
            a, b, _ = record.genotypes[idx]
            return f"{a}/{b}"
    return "absent"


def test_planted_causal_genotypes(cohort_dir, manifest):
    checked = 0
    for case in manifest["cases"]:
        if not case["variants"]:
            continue
        reader = cyvcf2.VCF(str(cohort_dir / manifest["files"]["vcfs"][case["batch"]]))
        for v in case["variants"]:
            for who in ("proband", "father", "mother"):
                sample = case[f"{who}_id"]
                if sample is None:
                    continue
                got = _genotype(reader, v["chrom"], v["pos"], v["alt"], sample)
                assert got == v["genotype"][who], (case["case_id"], who)
                checked += 1
        if case["genotype_model"] == "de_novo" and case["family_type"] == "trio":
            assert all(v["genotype"]["father"] == "0/0" == v["genotype"]["mother"] for v in case["variants"])
    assert checked >= 25
    models = {c["genotype_model"] for c in manifest["cases"]}
    assert {"homozygous", "compound_het", "x_hemizygous"} <= models


def test_clinvar_is_leave_publication_out(cohort_dir, manifest):
    cs = load_cases(CASES)
    var = cs.variants.merge(cs.cases[["publication"]], left_on="case", right_index=True)
    var["key"] = var["chrom"] + ":" + var["pos"].astype(str) + ":" + var["ref"] + ":" + var["alt"]
    pubs = var.groupby("key")["publication"].agg(set)
    in_clinvar = set()
    for record in cyvcf2.VCF(str(cohort_dir / manifest["files"]["clinvar"])):
        assert not record.CHROM.startswith("chr")
        chrom = "chrM" if record.CHROM == "MT" else f"chr{record.CHROM}"
        in_clinvar.add(f"{chrom}:{record.POS}:{record.REF}:{record.ALT[0]}")
        assert record.INFO["CLNREVSTAT"] in ("criteria_provided,_single_submitter",
                                             "criteria_provided,_multiple_submitters,_no_conflicts",
                                             "no_assertion_criteria_provided")
    for case in manifest["cases"]:
        for v in case["variants"]:
            key = f"{v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"
            others = pubs[key] - {case["publication"]}
            assert v["in_clinvar"] == (key in in_clinvar)
            assert v["in_clinvar"] == bool(others), case["case_id"]
            if v["in_clinvar"]:
                assert v["clinvar_stars"] == (2 if len(pubs[key]) >= 3 else 1)
    fbxl4 = [c for c in manifest["cases"] if c["genes"] == ["FBXL4"]]
    assert fbxl4 and all(c["route"] == "clinvar" for c in fbxl4)


def test_older_snapshot_is_a_subset(cohort_dir, manifest):
    def keys(rel):
        return {(r.CHROM, r.POS, r.REF, r.ALT[0]) for r in cyvcf2.VCF(str(cohort_dir / rel))}
    old, new = keys(manifest["files"]["clinvar_old"]), keys(manifest["files"]["clinvar"])
    assert old < new
    with gzip.open(cohort_dir / manifest["files"]["panelapp"], "rt") as handle:
        panelapp = json.load(handle)
    with gzip.open(cohort_dir / manifest["files"]["panelapp_old"], "rt") as handle:
        panelapp_old = json.load(handle)
    union = panelapp["panels"][0]
    assert union["id"] == 0 and union["name"] == "All green genes"
    assert all(g["confidence"] == 3 for g in union["genes"])
    n_new = sum(len(p["genes"]) for p in panelapp["panels"])
    n_old = sum(len(p["genes"]) for p in panelapp_old["panels"])
    dated = [g for p in panelapp["panels"] for g in p["genes"] if g["green_date"]]
    assert n_new - n_old == len(dated) > 0


def _panel(pid: int, genes: dict[str, str]) -> dict:
    return {"id": pid, "genes": [{"symbol": g, "hgnc_id": None, "ensembl_id_grch37": None,
                                  "ensembl_id_grch38": None, "moi": MOI_TEXT[code],
                                  "confidence": 3, "green_date": None}
                                 for g, code in genes.items()]}


@pytest.mark.parametrize("codes, union_code", [
    (["AR", "AR", "AD"], "AD/AR"),  # biallelic on most panels, monoallelic on one: both
    (["AD", "AR"], "AD/AR"),
    (["AD/AR", "AR"], "AD/AR"),
    (["AD", "AD"], "AD"),
    (["AR", "NA"], "AR"),           # an unknown MOI adds nothing
    (["XL", "AR"], "XL"),
])
def test_union_panel_moi_combines_like_heron(codes, union_code):
    panels = [_panel(i + 1, {"GENE": code}) for i, code in enumerate(codes)]
    union = _union_panel(panels)
    assert [g["moi"] for g in union["genes"]] == [MOI_TEXT[union_code]]


def test_off_panel_and_structural_cases_out_of_scope(manifest):
    by_id = {c["case_id"]: c for c in manifest["cases"]}
    rab32 = by_id["PMID_38614108_CAN1_III_2"]
    assert not rab32["in_scope"] and "RAB32" in rab32["scope_reason"]
    sv = by_id["PMID_15266616_100"]
    assert not sv["in_scope"] and sv["variants"] == []
    assert by_id["PMID_28830446_Patient_1"]["in_scope"]
    assert manifest["counts"]["out_of_scope_reasons"]["structural variant without a VCF record"] == 1


def test_ped_lists_sequenced_people_with_hpo(cohort_dir, manifest):
    ped = pd.read_csv(cohort_dir / manifest["files"]["ped"], sep="\t", dtype=str).fillna("")
    samples = [s for b in manifest["batches"] for s in b["samples"]]
    assert sorted(ped["individual"]) == sorted(samples)
    probands = ped[ped["individual"].isin([c["proband_id"] for c in manifest["cases"]])]
    assert (probands["phenotype"] == "2").all() and probands["hpo"].str.startswith("HP:").all()


def test_cli_generate(shared_data, tmp_path, capsys):
    code = main(["generate", "--cases", str(CASES), "--n-cases", "3", "--seed", "1", "--out", str(tmp_path),
                 "--data", str(shared_data), "--gene-table", str(GENES), "--quiet"])
    assert code == 0
    assert "3 cases" in capsys.readouterr().out
    assert json.loads((tmp_path / "manifest.json").read_text())["counts"]["cases"] == 3


def test_cli_missing_gene_table_is_a_clear_error(tmp_path, capsys):
    code = main(["generate", "--n-cases", "3", "--seed", "1", "--out", str(tmp_path),
                 "--cache-dir", str(tmp_path / "empty")])
    assert code == 2
    assert "--download-gene-table" in capsys.readouterr().err
