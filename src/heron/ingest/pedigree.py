"""Pedigrees and patient phenotypes: PLINK PED (+ HPO column) and phenopacket v2 JSON.

The core works on a :class:`PedigreeArrays` aligned to the store's sample order, so family
logic is array indexing (``gt[:, father]``) rather than a walk over individuals.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from heron.errors import InputError

log = logging.getLogger(__name__)

HPO_ID = re.compile(r"^HP:\d{7}$")
MISSING = {"0", "-9", "", "."}
MALE, FEMALE, UNKNOWN_SEX = 1, 2, 0
UNAFFECTED, AFFECTED, UNKNOWN_STATUS = 1, 2, 0


class Individual(BaseModel):
    """One person of a pedigree."""

    family: str
    id: str
    father: str | None = None
    mother: str | None = None
    sex: int = Field(UNKNOWN_SEX, description="1 male, 2 female, 0 unknown")
    affected: int = Field(UNKNOWN_STATUS, description="2 affected, 1 unaffected, 0 unknown")
    hpo: list[str] = Field(default_factory=list, description="Observed HPO terms")
    excluded_hpo: list[str] = Field(default_factory=list, description="Excluded HPO terms")


@dataclass
class PedigreeArrays:
    """A pedigree aligned to the columns of a store.

    All arrays have shape (n_samples,): father/mother int32 column of the parent in the store
    or -1 (absent or not sequenced), sex int8 (1/2/0), affected int8 (2/1/0), family int32
    (code into ``families``).
    """

    samples: list[str]
    father: np.ndarray
    mother: np.ndarray
    sex: np.ndarray
    affected: np.ndarray
    family: np.ndarray
    families: list[str]


class Pedigree:
    """Individuals by id, in file order."""

    def __init__(self, individuals: list[Individual], source: str = "<pedigree>"):
        self.individuals = {ind.id: ind for ind in individuals}
        self.source = source

    def __iter__(self):
        return iter(self.individuals.values())

    def __len__(self) -> int:
        return len(self.individuals)

    def align(self, samples: list[str]) -> PedigreeArrays:
        """Arrays over the store's samples; samples without a PED row are singletons of
        unknown status (never analysed as probands, never veto)."""
        col = {s: i for i, s in enumerate(samples)}
        n = len(samples)
        father = np.full(n, -1, np.int32)
        mother = np.full(n, -1, np.int32)
        sex = np.zeros(n, np.int8)
        affected = np.zeros(n, np.int8)
        family_names: list[str] = []
        family_code: dict[str, int] = {}
        family = np.zeros(n, np.int32)
        for i, sample in enumerate(samples):
            ind = self.individuals.get(sample)
            fam = ind.family if ind else sample
            family[i] = family_code.setdefault(fam, len(family_code))
            if fam not in family_names:
                family_names.append(fam)
            if ind is None:
                continue
            father[i] = col.get(ind.father, -1) if ind.father else -1
            mother[i] = col.get(ind.mother, -1) if ind.mother else -1
            sex[i], affected[i] = ind.sex, ind.affected
        return PedigreeArrays(list(samples), father, mother, sex, affected, family, family_names)

    def family_batches(self, samples: list[str], n_batches: int) -> list[list[str]]:
        """``samples`` (the store's) split into ``n_batches`` lists, each holding whole
        families with an affected member, balanced by sample count (largest families first,
        each into the lightest batch); deterministic. Samples of families without an affected
        sequenced member are in no batch: nobody there is analysed."""
        families: dict[str, list[str]] = {}
        for sample in samples:
            ind = self.individuals.get(sample)
            if ind is not None:
                families.setdefault(ind.family, []).append(sample)
        analysed = [(fam, members) for fam, members in sorted(families.items())
                    if any(self.individuals[m].affected == AFFECTED for m in members)]
        analysed.sort(key=lambda item: -len(item[1]))
        batches: list[list[str]] = [[] for _ in range(n_batches)]
        for _, members in analysed:
            min(batches, key=len).extend(members)
        order = {s: i for i, s in enumerate(samples)}
        return [sorted(b, key=order.__getitem__) for b in batches]

    def check_samples(self, vcf_samples: list[str]) -> list[str]:
        """Warnings for samples in the PED but not the VCF and the reverse; an error when no
        affected individual of the PED is in the VCF."""
        in_vcf = set(vcf_samples)
        warnings = []
        missing = [i.id for i in self if i.id not in in_vcf]
        for sample in missing:
            ind = self.individuals[sample]
            role = "affected" if ind.affected == AFFECTED else "relative"
            warnings.append(f"{self.source}: {role} sample {sample!r} (family {ind.family}) is "
                            "not in any VCF; their genotypes count as missing")
        extra = [s for s in vcf_samples if s not in self.individuals]
        if extra:
            warnings.append(f"{len(extra)} VCF samples are not in {self.source} and are not "
                            f"analysed as patients: {', '.join(extra[:5])}"
                            + (" ..." if len(extra) > 5 else ""))
        if not any(i.affected == AFFECTED and i.id in in_vcf for i in self):
            raise InputError("no affected individual of the pedigree is in the VCFs",
                             path=self.source,
                             hint="check that PED individual ids equal the VCF sample names")
        return warnings

    def add_phenopackets(self, paths: list[str]) -> None:
        """Add the HPO terms of phenopacket v2 files to the individuals they describe."""
        for path in paths:
            for packet in read_phenopackets(path):
                subject = packet.get("subject", {}).get("id") or packet.get("id")
                ind = self.individuals.get(subject)
                if ind is None:
                    log.warning("%s: phenopacket subject %r is not in the pedigree", path, subject)
                    continue
                observed, excluded = phenopacket_terms(packet)
                ind.hpo = sorted(set(ind.hpo) | set(observed))
                ind.excluded_hpo = sorted(set(ind.excluded_hpo) | set(excluded))


def _parse_hpo(field: str, path: str, line: int) -> list[str]:
    terms = [t.strip() for t in re.split(r"[,;]", field) if t.strip()]
    bad = [t for t in terms if not HPO_ID.match(t)]
    if bad:
        raise InputError(f"malformed HPO term(s) {', '.join(bad)}", path=path, line=line,
                         hint="write terms as HP:0000123, separated by ',' or ';'")
    return terms


def read_ped(path: str | Path) -> Pedigree:
    """Read a PLINK PED file (6 columns, optional 7th of HPO terms).

    Sex 1/2 (other values: unknown); phenotype 2 affected, 1 unaffected, 0/-9 unknown. Lines
    starting with ``#`` are comments. Errors name the line.
    """
    path = str(path)
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        raise InputError("pedigree file not found", path=path,
                         hint="check cohort.pedigree in the config") from None
    individuals: list[Individual] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.rstrip("\n").split("\t") if "\t" in raw else raw.split()
        if len(cols) < 6:
            raise InputError(f"expected at least 6 columns, found {len(cols)}", path=path,
                             line=number, hint="PED columns: family, individual, father, "
                                               "mother, sex, phenotype[, HPO terms]")
        fam, iid, father, mother, sex, pheno = (c.strip() for c in cols[:6])
        if iid in seen:
            raise InputError(f"individual {iid!r} appears again (first on line {seen[iid]})",
                             path=path, line=number)
        seen[iid] = number
        hpo = _parse_hpo(cols[6], path, number) if len(cols) > 6 else []
        individuals.append(Individual(
            family=fam, id=iid,
            father=None if father in MISSING else father,
            mother=None if mother in MISSING else mother,
            sex={"1": MALE, "2": FEMALE}.get(sex, UNKNOWN_SEX),
            affected={"2": AFFECTED, "1": UNAFFECTED}.get(pheno, UNKNOWN_STATUS),
            hpo=hpo))
    ped = Pedigree(individuals, path)
    _check_structure(ped, seen)
    return ped


def _check_structure(ped: Pedigree, lines: dict[str, int]) -> None:
    for ind in ped:
        for role, parent_id, sex in (("father", ind.father, MALE), ("mother", ind.mother, FEMALE)):
            if parent_id is None:
                continue
            if parent_id == ind.id:
                raise InputError(f"{ind.id!r} is their own {role}", path=ped.source,
                                 line=lines[ind.id])
            parent = ped.individuals.get(parent_id)
            if parent is None:
                log.warning("%s:%d: %s %r of %r has no line of their own; treated as not "
                            "sequenced", ped.source, lines[ind.id], role, parent_id, ind.id)
                continue
            if parent.sex not in (sex, UNKNOWN_SEX):
                raise InputError(
                    f"{parent_id!r} is the {role} of {ind.id!r} but has sex "
                    f"{'male' if parent.sex == MALE else 'female'}", path=ped.source,
                    line=lines[parent_id], hint="fix the sex column or the parent columns")
            if parent.family != ind.family:
                raise InputError(f"{role} {parent_id!r} of {ind.id!r} is in family "
                                 f"{parent.family!r}, not {ind.family!r}", path=ped.source,
                                 line=lines[ind.id])
    # A cycle makes someone their own ancestor; walk up from everyone (pedigrees are small).
    for ind in ped:
        stack, seen = [ind.id], set()
        while stack:
            current = ped.individuals.get(stack.pop())
            if current is None:
                continue
            for parent in (current.father, current.mother):
                if parent == ind.id:
                    raise InputError(f"{ind.id!r} is their own ancestor (a cycle in the "
                                     "pedigree)", path=ped.source, line=lines[ind.id])
                if parent and parent not in seen:
                    seen.add(parent)
                    stack.append(parent)


def read_phenopackets(path: str | Path) -> list[dict]:
    """Phenopackets from a JSON file (one packet or a list) or JSON-lines (.jsonl[.gz])."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise InputError("phenopacket file not found", path=str(path)) from None
    try:
        if ".jsonl" in path.name:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
    return data if isinstance(data, list) else [data]


def phenopacket_terms(packet: dict) -> tuple[list[str], list[str]]:
    """(observed, excluded) HPO ids of a phenopacket v2."""
    observed, excluded = [], []
    for feature in packet.get("phenotypicFeatures", []):
        term = feature.get("type", {}).get("id", "")
        if HPO_ID.match(term):
            (excluded if feature.get("excluded") else observed).append(term)
    return observed, excluded
