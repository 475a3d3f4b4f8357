"""Build small classified cases for the classification and inheritance tests.

A case is described compactly — variants (gene, consequence, ClinVar, gnomAD, FILTER and one
genotype string per sample), a pedigree and a gene table — and run through the real stages:
the store arrays ingest would write, :func:`heron.annotate.stage.annotate_shard` (with a real
ClinVar table, so consequences go through ``parse_annotations``), ``combine``,
:func:`heron.classify.stage.classify_shard` and :func:`heron.inherit.models.evaluate`.

A structural variant is a V with a symbolic ALT (``alt="<DEL>"``) and its ``end``; it is
keyed, typed and annotated as heron.ingest.sv writes it.

Genotype strings are ``GT:AD:DP:GQ[:PS]`` as in a VCF: ``"0/1:20,18:38:99"``, phased
``"0|1:20,18:38:99:1000"``, haploid ``"1:0,20:20:99"``, missing ``"./."``; any field may be
``.``. A sample without a string is hom-ref with good quality (:data:`HOM_REF`).

Example::

    case = build_case(
        [V("chr2", 1000, "SCN2A", "stop_gained", gt={"kid": HET})],
        trio(), {"SCN2A": "MONOALLELIC, autosomal or pseudoautosomal"})
    assert case.passes() == {("kid", "SCN2A:1000", "AD")}
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from heron.annotate.stage import annotate_shard, combine
from heron.classify.categories import names as category_names
from heron.classify.genes import build_gene_set
from heron.classify.stage import classify_shard
from heron.config import HeronConfig
from heron.genome import chrom_code, chrom_label
from heron.ingest.pedigree import AFFECTED, FEMALE, MALE, UNAFFECTED, UNKNOWN_SEX, \
    UNKNOWN_STATUS, Individual, Pedigree
from heron.ingest.sv import DEFAULT_SV_AF_FIELD, SVTYPE, VEP_ALLELE, join_sv_shard, sv_keys, \
    sv_type
from heron.ingest.vcf import vep_allele
from heron.inherit.models import FLAGS, evaluate
from heron.keys import variant_keys
from heron.resources.clinvar import ClinSig, ClinVarTable
from heron.resources.moi import simplify_moi
from heron.store import CALL_FIELDS, Shard, attach_calls

HOM_REF = "0/0:30,0:30:99"
HET = "0/1:20,18:38:99"
HOM = "1/1:0,30:30:99"
HEMI = "1:0,25:25:99"
MISSING = "./."

BUILD = "GRCh38"
RUN_DATE = dt.date(2026, 1, 1)
OLD_GREEN = "2015-01-01"  # green long before RUN_DATE: not a new gene
BASE_PANEL = 137

CSQ_FORMAT = ("Allele|Consequence|SYMBOL|Gene|Feature|BIOTYPE|HGVSc|HGVSp|Protein_position|"
              "CANONICAL|MANE_SELECT|am_pathogenicity")
CSQ_DESCRIPTION = f"Consequence annotations from Ensembl VEP. Format: {CSQ_FORMAT}"
CLINVAR = {"P": ClinSig.PATHOGENIC, "B": ClinSig.BENIGN, "VUS": ClinSig.UNCERTAIN,
           "C": ClinSig.CONFLICTING}


@dataclass
class Tx:
    """One extra transcript of a variant (the variant's own fields describe the first)."""

    gene: str
    csq: str
    biotype: str = "protein_coding"
    mane: bool = False
    protein_pos: int | None = None
    am: float | None = None


@dataclass
class V:
    """One biallelic variant, labelled ``GENE:pos`` in a case's lookups.

    csq: VEP consequence terms ('&'-joined); gt: sample → genotype string; clinvar: 'P'
    (P/LP), 'B' (B/LB), 'VUS', 'C' (conflicting) or None (not in ClinVar); clinvar_id: its
    ClinVar allele id (default 1000 + its place among the case's ClinVar variants);
    af/ac/hom/hemi: gnomAD values, None = absent; spliceai: max delta score, None = not
    scored; am: AlphaMissense score of the transcript; others: (AC, AN) of the cohort samples
    not listed in the case, added to the callset counts (default: 1000 hom-ref samples, so a
    family's own calls do not make a variant common). SVs (symbolic ``alt``): end is the last
    reference base (required), sv_af the gnomAD-SV AF (None = absent).
    """

    chrom: str
    pos: int
    gene: str
    csq: str = "missense_variant"
    gt: dict[str, str] = field(default_factory=dict)
    ref: str = "C"
    alt: str = "T"
    clinvar: str | None = None
    stars: int = 0
    clinvar_id: int | None = None
    af: float | None = None
    ac: float | None = None
    hom: float | None = None
    hemi: float | None = None
    filter: str = "PASS"
    spliceai: float | None = None
    am: float | None = None
    protein_pos: int | None = None
    biotype: str = "protein_coding"
    mane: bool = True
    others: tuple[int, int] = (0, 2000)
    extra_tx: list[Tx] = field(default_factory=list)
    end: int | None = None
    sv_af: float | None = None

    @property
    def is_sv(self) -> bool:
        return self.alt.startswith("<")

    @property
    def svtype(self) -> int:
        if not self.is_sv:
            return 0
        if self.end is None:
            raise ValueError(f"{self.label}: an SV needs its end")
        return int(SVTYPE[sv_type(self.alt)])

    @property
    def last_base(self) -> int:
        return self.end if self.is_sv else self.pos + len(self.ref) - 1

    @property
    def label(self) -> str:
        return f"{self.gene}:{self.pos}"


@dataclass
class P:
    """One pedigree member; sex 'M'/'F'/None, affected True/False/None (unknown)."""

    family: str
    id: str
    father: str | None = None
    mother: str | None = None
    sex: str | None = None
    affected: bool | None = None
    sequenced: bool = True


# -- pedigree shapes -------------------------------------------------------------------------

def singleton(sex: str = "M", id: str = "kid") -> list[P]:
    return [P("F", id, sex=sex, affected=True)]


def duo(sex: str = "M", parent: str = "mum", parent_affected: bool = False) -> list[P]:
    """Affected child with one sequenced parent (``mum`` or ``dad``)."""
    return [P("F", "kid", father="dad" if parent == "dad" else None,
              mother="mum" if parent == "mum" else None, sex=sex, affected=True),
            P("F", parent, sex="F" if parent == "mum" else "M", affected=parent_affected)]


def trio(sex: str = "M", dad_affected: bool = False, mum_affected: bool = False) -> list[P]:
    return [P("F", "kid", "dad", "mum", sex, True), P("F", "dad", sex="M", affected=dad_affected),
            P("F", "mum", sex="F", affected=mum_affected)]


def quad(sex: str = "M", sib_sex: str = "F", sib_affected: bool = False) -> list[P]:
    """Trio plus a full sibling ``sib``."""
    return trio(sex) + [P("F", "sib", "dad", "mum", sib_sex, sib_affected)]


def three_generations() -> list[P]:
    """Affected grandfather ``gp`` → affected mother ``mum`` (married to unaffected ``dad``)
    → affected ``kid`` and unaffected ``sib``; grandmother ``gm`` unaffected."""
    return [P("F", "gp", sex="M", affected=True), P("F", "gm", sex="F", affected=False),
            P("F", "mum", "gp", "gm", "F", True), P("F", "dad", sex="M", affected=False),
            P("F", "kid", "dad", "mum", "M", True), P("F", "sib", "dad", "mum", "F", False)]


# -- configuration -----------------------------------------------------------------------------

def config(**overrides) -> HeronConfig:
    """The default configuration with dotted overrides, e.g.
    ``config(**{"de_novo.min_child_gq": 30})``."""
    data = HeronConfig().model_dump()
    for path, value in overrides.items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return HeronConfig.model_validate(data)


DEFAULT_CONFIG = HeronConfig()


# -- genotype strings ----------------------------------------------------------------------------

def _int(text: str) -> int:
    return -1 if text in (".", "") else int(text)


def parse_genotype(text: str) -> dict:
    """One ``GT:AD:DP:GQ[:PS]`` string → the store's call values plus AC/AN contributions,
    following heron.ingest.vcf: a haploid alt counts 2, a partly missing call without the ALT
    is missing, phase is 1/2 for the haplotype holding the alt."""
    parts = text.split(":") + ["."] * 4
    gt_text, ad_text, dp_text, gq_text, ps_text = parts[:5]
    phased = "|" in gt_text
    alleles = [_int(a) for a in gt_text.replace("|", "/").split("/")]
    called = [a for a in alleles if a >= 0]
    count = sum(a == 1 for a in alleles)
    haploid = len(alleles) == 1
    if not called or (len(called) < len(alleles) and count == 0):
        gt = -1
    else:
        gt = 2 if haploid and count == 1 else count
    het = gt == 1 and phased and not haploid
    ad = [_int(a) for a in ad_text.split(",")] if ad_text != "." else [-1, -1]
    return {"gt": gt, "gq": _int(gq_text), "dp": _int(dp_text), "ad_ref": ad[0],
            "ad_alt": ad[1] if len(ad) > 1 else -1,
            "phase": (1 if alleles[0] == 1 else 2) if het else 0,
            "ps": (max(_int(ps_text), 0) if ps_text != "." else 1) if het else 0,
            "ac": count, "an": len(called)}


# -- the case ------------------------------------------------------------------------------------

def gene_set(genes: dict, patients: list[str]):
    """A GeneSet of one base panel holding every gene. ``genes``: symbol → MOI string, or
    symbol → (MOI string, green date 'YYYY-MM-DD'); 'new' is judged at :data:`RUN_DATE`."""
    return _gene_set(tuple(genes.items()), tuple(patients))


@functools.lru_cache(maxsize=64)
def _gene_set(genes: tuple, patients: tuple):
    # cached: the GeneSet is only read downstream, and building it dominates a small case
    table = []
    for symbol, value in genes:
        moi, green = value if isinstance(value, tuple) else (value, OLD_GREEN)
        table.append({"panel_id": BASE_PANEL, "symbol": symbol, "gene_id": "", "moi_raw": moi,
                      "green_date": green})
    return build_gene_set(
        pd.DataFrame(table), {BASE_PANEL: "base"}, {p: set() for p in patients},
        base_panel=BASE_PANEL, forced_panels=[], custom_panels=[], forbidden=[],
        require_match=[], new_gene_months=24, run_date=RUN_DATE,
        simplify=simplify_moi)


def _store(variants: list[V], samples: list[str]) -> Shard:
    """The arrays ingest writes for these variants, sorted by key."""
    n, s = len(variants), len(samples)
    calls = {k: np.full((n, s), -1, t) for k, t in CALL_FIELDS.items()}
    ac = np.zeros(n, np.int32)
    an = np.zeros(n, np.int32)
    for i, v in enumerate(variants):
        unknown = set(v.gt) - set(samples)
        if unknown:
            raise ValueError(f"{v.label}: genotypes for samples not in the case: {unknown}")
        for j, sample in enumerate(samples):
            call = parse_genotype(v.gt.get(sample, HOM_REF))
            for k in CALL_FIELDS:
                calls[k][i, j] = call[k]
            ac[i] += call["ac"]
            an[i] += call["an"]
        ac[i] += v.others[0]
        an[i] += v.others[1]

    def floats(values):
        return np.array([np.nan if x is None else x for x in values], np.float32)

    chrom = np.array([chrom_code(v.chrom) for v in variants], np.int8)
    pos = np.array([v.pos for v in variants], np.int32)
    ref = np.array([v.ref for v in variants], dtype="S")
    alt = np.array([v.alt for v in variants], dtype="S")
    key = case_keys(variants)
    if len(np.unique(key)) != n:
        raise ValueError("two variants of the case share chrom, pos, ref and alt")
    spliceai = [f"{v.alt}|{v.gene}|{v.spliceai}|0.00|0.00|0.00|1|-2|3|4"
                if v.spliceai is not None else "" for v in variants]
    store = Shard(list(samples), BUILD, {
        "chrom": chrom, "pos": pos, "ref": ref, "alt": alt, "key": key,
        "filter_pass": np.array([v.filter in ("PASS", ".") for v in variants]),
        "ac": ac, "an": an, "alt_index": np.ones(n, np.int16), "n_alts": np.ones(n, np.int16),
        "vep_allele": np.array([_vep_allele(v) for v in variants], dtype="S"),
        "qual": np.full(n, 50, np.float32),
        "info.gnomad_AF": floats([v.af for v in variants]),
        "info.gnomad_AC": floats([v.ac for v in variants]),
        "info.gnomad_nhomalt": floats([v.hom for v in variants]),
        "info.gnomad_nhemi": floats([v.hemi for v in variants]),
        "info.SpliceAI": np.char.encode(np.array(spliceai, dtype=str), "utf-8"),
        "info.CSQ": np.char.encode(np.array([_csq(v) for v in variants], dtype=str), "utf-8"),
        f"info.{DEFAULT_SV_AF_FIELD}": floats([v.sv_af for v in variants]),
        "svtype": np.array([v.svtype for v in variants], np.int8),
        "end": np.array([v.last_base for v in variants], np.int32),
    }, calls, {}, {"info_descriptions": {"CSQ": CSQ_DESCRIPTION}, "region": "*"})
    return store.take(np.argsort(key, kind="stable"))


def _vep_allele(v: V) -> str:
    # VEP names the variant class, not the ALT, as the allele of an SV
    return VEP_ALLELE[sv_type(v.alt)] if v.is_sv else vep_allele(v.ref, [v.alt], v.alt)


def case_keys(variants: list[V]) -> np.ndarray:
    """(n,) int64 store keys of described variants: small-variant keys, SV keys for SVs."""
    chrom = np.array([chrom_code(v.chrom) for v in variants], np.int8)
    pos = np.array([v.pos for v in variants], np.int32)
    key = variant_keys(chrom, pos, [v.ref for v in variants], [v.alt for v in variants])
    sv = np.array([v.is_sv for v in variants], bool)
    if sv.any():
        picked = [v for v in variants if v.is_sv]
        key[sv] = sv_keys(chrom[sv], pos[sv], [v.alt for v in picked],
                          np.array([v.end for v in picked]), np.zeros(len(picked), np.int64))
    return key


def _csq(v: V) -> str:
    allele = _vep_allele(v)
    entries = [Tx(v.gene, v.csq, v.biotype, v.mane, v.protein_pos, v.am)] + v.extra_tx
    out = []
    for k, t in enumerate(entries):
        tx = f"ENST_{t.gene}_{k}"
        out.append("|".join([
            allele, t.csq, t.gene, f"ENSG_{t.gene}", tx, t.biotype, f"{tx}:c.1A>G",
            f"{tx}:p.X{t.protein_pos}Y" if t.protein_pos else "",
            str(t.protein_pos) if t.protein_pos else "", "YES" if k == 0 else "",
            f"NM_{k}" if t.mane else "", "" if t.am is None else str(t.am)]))
    return ",".join(out)


def _clinvar_table(variants: list[V]) -> ClinVarTable:
    listed = [v for v in variants if v.clinvar is not None]
    return ClinVarTable.build_from(
        [chrom_code(v.chrom) for v in listed], [v.pos for v in listed],
        [v.ref for v in listed], [v.alt for v in listed],
        [int(CLINVAR[v.clinvar]) for v in listed], [v.stars for v in listed],
        [1000 + i if v.clinvar_id is None else v.clinvar_id for i, v in enumerate(listed)],
        [v.gene for v in listed], release="test", build=BUILD)


@dataclass
class Case:
    """A classified and evaluated case, with lookups by sample id and variant label."""

    variants: list[V]
    samples: list[str]
    shard: Shard
    genes: object
    ped: object
    result: object
    config: HeronConfig

    def __post_init__(self):
        by_key = {int(k): v.label for k, v in zip(case_keys(self.variants), self.variants)}
        v = self.shard.variants
        # variants read from a file rather than described are labelled chrom:pos:alt
        self.label = [by_key.get(int(k), f"{chrom_label(int(c))}:{p}:{a.decode()}")
                      for k, c, p, a in zip(v["key"], v["chrom"], v["pos"], v["alt"])]

    def _name(self, sample: int, variant: int) -> tuple[str, str]:
        return self.samples[sample], self.label[variant]

    def passes(self) -> set[tuple[str, str, str]]:
        """Every (sample, variant label, model) that passed."""
        c = self.result.candidates
        return {(*self._name(s, v), m) for s, v, m in zip(c["sample"], c["variant"], c["model"])}

    def reported(self) -> set[tuple[str, str]]:
        return {(s, v) for s, v, _ in self.passes()}

    def pairs(self) -> set[tuple[str, str, str, str]]:
        """(sample, variant, partner variant, model) of every comp-het candidate."""
        c = self.result.candidates
        c = c[c["partner"] >= 0]
        return {(*self._name(s, v), self.label[p], m) for s, v, p, m in
                zip(c["sample"], c["variant"], c["partner_variant"], c["model"])}

    def call_index(self, sample: str, variant: str) -> int:
        """Position of one call in ``result.calls`` (and the audit's ``call`` column)."""
        calls = self.result.calls
        hit = np.flatnonzero((calls.sample == self.samples.index(sample))
                             & (calls.variant == self.label.index(variant)))
        if len(hit) != 1:
            raise KeyError(f"{len(hit)} calls of {sample} at {variant}")
        return int(hit[0])

    def audit(self, sample: str, variant: str) -> dict:
        """The audit row (model, rule, threshold, observed) of an unreported call."""
        a = self.result.audit
        row = a[a["call"] == self.call_index(sample, variant)]
        if len(row) != 1:
            raise KeyError(f"no audit row for {sample} at {variant} (reported?)")
        return row.iloc[0][["model", "rule", "threshold", "observed"]].to_dict()

    def why(self, sample: str, variant: str) -> str:
        return self.audit(sample, variant)["rule"]

    def failed(self, sample: str, variant: str, model: str) -> str:
        """The first failing rule of one model for one call ('' when it passed)."""
        rule, _, _ = self.result.calls.checks[model].reasons()
        return str(rule[self.call_index(sample, variant)])

    def de_novo_rule(self, sample: str, variant: str) -> str:
        """The first failing de novo check of one call ('' when it is de novo)."""
        rule, _, _ = self.result.calls.de_novo.reasons()
        return str(rule[self.call_index(sample, variant)])

    def call_categories(self, sample: str, variant: str) -> set[str]:
        return set(category_names(self.result.calls.categories[self.call_index(sample, variant)]))

    def flags(self, sample: str, variant: str) -> set[str]:
        value = int(self.result.calls.flags[self.call_index(sample, variant)])
        return {name for i, name in enumerate(FLAGS) if value & (1 << i)}

    def candidate_flags(self, sample: str, variant: str, model: str) -> set[str]:
        """Flags of one candidate (call flags plus the model's own, e.g. xlr_female_het)."""
        c = self.result.candidates
        hit = c[(c["call"] == self.call_index(sample, variant)) & (c["model"] == model)]
        if hit.empty:
            raise KeyError(f"{sample} at {variant} is not a {model} candidate")
        value = int(hit["flags"].iloc[0])
        return {name for i, name in enumerate(FLAGS) if value & (1 << i)}

    def row(self, variant: str) -> dict:
        """The classified row of a variant (its only gene) as plain values."""
        rows = self.shard.rows
        hit = np.flatnonzero(rows["variant"] == self.label.index(variant)) \
            if variant in self.label else []
        if len(hit) != 1:
            raise KeyError(f"{len(hit)} classified rows for {variant}")
        i = hit[0]
        out = {k: a[i] for k, a in rows.items()}
        for k, a in out.items():
            if isinstance(a, bytes):
                out[k] = a.decode()
        out["categories"] = set(category_names(out["categories"]))
        return out

    def kept(self) -> set[str]:
        """Labels of the variants classify kept (any row)."""
        return {self.label[i] for i in np.unique(self.shard.rows["variant"])}


def build_case(variants: list[V], pedigree: list[P], genes: dict, *,
               cfg: HeronConfig | None = None, pm5_index=None, sv_shard: Shard | None = None,
               classify_kw: dict | None = None) -> Case:
    """Annotate, classify and evaluate a described case (see the module docstring).

    sv_shard: SVs read by heron.ingest.sv, joined to the described variants' store as the
    pipeline joins them; classify_kw: extra keyword arguments of ``classify_shard``."""
    cfg = cfg or DEFAULT_CONFIG
    samples = [p.id for p in pedigree if p.sequenced]
    sex = {"M": MALE, "F": FEMALE, None: UNKNOWN_SEX}
    status = {True: AFFECTED, False: UNAFFECTED, None: UNKNOWN_STATUS}
    ped = Pedigree([Individual(family=p.family, id=p.id, father=p.father, mother=p.mother,
                               sex=sex[p.sex], affected=status[p.affected]) for p in pedigree])
    arrays = ped.align(samples)
    patients = [p.id for p in pedigree if p.affected and p.sequenced]
    gs = gene_set(genes, patients)
    store = _store(variants, samples)
    if sv_shard is not None:
        store = join_sv_shard(store, sv_shard)
    annotated = combine(store, annotate_shard(store, cfg, _clinvar_table(variants)))
    classified = attach_calls(classify_shard(annotated, gs, cfg, pm5_index=pm5_index,
                                             **(classify_kw or {})), annotated)
    result = evaluate(classified, arrays, gs, cfg)
    return Case(variants, samples, classified, gs, arrays, result, cfg)
