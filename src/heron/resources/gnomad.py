"""gnomAD: population frequencies from a gnomAD sites VCF as a compact index sorted by variant key.

The index holds, per gnomAD allele, only what the frequency filters and the report need:
allele frequency, allele count, homozygote and hemizygote counts, the group-max (popmax)
allele frequency and whether the site passed gnomAD's filters — 25 bytes a row plus the
alleles of non-SNV rows. SNV keys encode their alleles exactly (heron.keys), so only rows with
a hashed allele code keep their alleles, in one byte buffer with offsets; a join confirms
those on the full allele, so a key collision never attaches another variant's frequency.

Field names differ between releases; :data:`PRESETS` holds gnomAD v4.1 joint (exomes +
genomes, GRCh38) and v2.1.1 (GRCh37) names, and any of them can be overridden.

Hemizygotes: in the haploid part of the genome of XY individuals (chrX outside the
pseudo-autosomal regions, and chrY) the field of XY homozygotes (``nhomalt_joint_XY`` in v4,
``nhomalt_male`` in v2) counts hemizygous carriers; there the homozygote count keeps only XX
individuals (``nhomalt - nhomalt_XY``), as the gnomAD browser shows them. Elsewhere the
hemizygote count is 0.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from heron.errors import InputError, ResourceError
from heron.genome import CHROM_X, CHROM_Y, PAR_X, build_from_contigs, chrom_code, in_par
from heron.keys import ALLELE_BITS, POS_BITS, variant_keys
from heron.lazy import pandas as pd
from heron.resources.arrays import load_arrays, load_meta, save_arrays
from heron.resources.download import fetch
from heron.resources.snapshot import create_snapshot

if TYPE_CHECKING:
    import requests  # only in signatures: downloads import it when they run

#: Roles of the INFO fields read, and the field names of each release. ``hemi`` is the count
#: of XY individuals homozygous for the ALT, which is the hemizygote count in haploid regions.
ROLES = ("af", "ac", "hom", "hemi", "grpmax_af")
PRESETS: dict[str, dict[str, str]] = {
    "v4": {"af": "AF_joint", "ac": "AC_joint", "hom": "nhomalt_joint",
           "hemi": "nhomalt_joint_XY", "grpmax_af": "AF_grpmax_joint"},
    "v2": {"af": "AF", "ac": "AC", "hom": "nhomalt", "hemi": "nhomalt_male",
           "grpmax_af": "AF_popmax"},
}
#: Rows collected by the VCF reader before they are keyed and packed.
CHUNK_ROWS = 1 << 20
_HASHED = np.int64(1 << (ALLELE_BITS - 1))
_PLAIN_BASES = re.compile(r"^[ACGTNacgtn]+$")
_ARRAYS = ("key", "af", "ac", "hom", "hemi", "grpmax_af", "filter_pass",
           "allele_row", "allele_offsets", "allele_bytes")


def resolve_fields(fields: str | Mapping[str, str | None] = "v4") -> dict[str, str | None]:
    """INFO field name per role: a preset name (``"v4"``, ``"v2"``), or a mapping of roles to
    names over a preset (``{"preset": "v4", "af": "AF", "ac": "AC"}``; preset v4 when not
    named). A role mapped to None is not read (its column stays unknown)."""
    if isinstance(fields, str):
        fields = {"preset": fields}
    fields = dict(fields)
    preset = fields.pop("preset", "v4")
    if preset not in PRESETS:
        raise InputError(f"unknown gnomAD field preset {preset!r}",
                         hint=f"use one of {', '.join(PRESETS)}")
    unknown = sorted(set(fields) - set(ROLES))
    if unknown:
        raise InputError(f"unknown gnomAD field role(s) {', '.join(unknown)}",
                         hint=f"roles are {', '.join(ROLES)}")
    return {**PRESETS[preset], **fields}


# ------------------------------------------------------------------------- the index


@dataclass
class GnomadIndex:
    """gnomAD alleles as aligned arrays of length n, sorted by ``key``.

    key int64 (heron.keys; equal keys only on a hash collision of two different alleles),
    af float32 (NaN unknown), ac / hom / hemi int32 (-1 unknown), grpmax_af float32 (NaN
    unknown), filter_pass bool. Alleles of the m rows whose key hashes them: allele_row (m,)
    int64 ascending row numbers, allele_offsets (m + 1,) int64 into allele_bytes (uint8), each
    ``REF>ALT``. ``release`` labels the gnomAD release, ``fields`` the INFO names read.
    """

    key: np.ndarray
    af: np.ndarray
    ac: np.ndarray
    hom: np.ndarray
    hemi: np.ndarray
    grpmax_af: np.ndarray
    filter_pass: np.ndarray
    allele_row: np.ndarray
    allele_offsets: np.ndarray
    allele_bytes: np.ndarray
    release: str
    build: str | None = None
    fields: dict | None = None

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_arrays(cls, chrom, pos, ref, alt, af, ac, hom, hemi, grpmax_af, filter_pass=None, *,
                    release: str, build: str | None = None,
                    fields: dict | None = None) -> GnomadIndex:
        """Index unsorted columns of n alleles: chrom (n,) heron.genome codes, pos 1-based,
        ref / alt str or bytes, af / grpmax_af float (NaN unknown), ac / hom / hemi int (-1
        unknown), filter_pass bool (all True when None). Counts are taken as given (no
        hemizygote adjustment)."""
        n = len(pos)
        part = _pack(np.asarray(chrom, np.int8), np.asarray(pos, np.int64), _as_bytes(ref),
                     _as_bytes(alt), {
                         "af": np.asarray(af, np.float32), "ac": np.asarray(ac, np.int32),
                         "hom": np.asarray(hom, np.int32), "hemi": np.asarray(hemi, np.int32),
                         "grpmax_af": np.asarray(grpmax_af, np.float32),
                         "filter_pass": (np.ones(n, bool) if filter_pass is None
                                         else np.asarray(filter_pass, bool))})
        return _assemble([part], release=release, build=build, fields=fields)

    # -- joins

    def lookup(self, keys: np.ndarray, ref, alt) -> np.ndarray:
        """Row of each query variant in this index, or -1.

        keys: (m,) int64 variant keys; ref, alt: (m,) str or bytes alleles (only read where
        the key hashes its alleles). A match needs equal keys and, for hashed keys, equal
        alleles. Returns (m,) int64.
        """
        keys = np.asarray(keys, dtype=np.int64)
        out = np.full(len(keys), -1, dtype=np.int64)
        if len(keys) == 0 or len(self.key) == 0:
            return out
        left, right = _ranges(self.key, keys)
        count = right - left
        hashed = (keys & _HASHED) != 0
        exact = (count > 0) & ~hashed
        out[exact] = left[exact]  # an exact allele code: the key is the variant
        query = np.flatnonzero((count > 0) & hashed)
        if len(query):
            per = count[query]
            cand_q = np.repeat(query, per)
            first = np.repeat(np.cumsum(per) - per, per)
            cand_row = left[cand_q] + (np.arange(len(cand_q)) - first)
            wanted = np.char.add(np.char.add(_as_bytes(np.asarray(ref)[cand_q]), b">"),
                                 _as_bytes(np.asarray(alt)[cand_q]))
            match = self._alleles_equal(cand_row, wanted)
            hit_q, hit_row = cand_q[match], cand_row[match]
            _, first_hit = np.unique(hit_q, return_index=True)
            out[hit_q[first_hit]] = hit_row[first_hit]
        return out

    def join(self, keys: np.ndarray, ref, alt) -> dict[str, np.ndarray]:
        """gnomAD columns for each query variant: (m,) arrays ``found`` bool, ``af`` float32,
        ``ac`` / ``hom`` / ``hemi`` int32, ``grpmax_af`` float32, ``filter_pass`` bool.
        Variants absent from gnomAD get NaN, -1 and False."""
        idx = self.lookup(keys, ref, alt)
        hit = idx >= 0
        rows = idx[hit]
        out = {"found": hit}
        for name, missing in (("af", np.nan), ("ac", -1), ("hom", -1), ("hemi", -1),
                              ("grpmax_af", np.nan), ("filter_pass", False)):
            column = getattr(self, name)
            values = np.full(len(idx), missing, dtype=column.dtype)
            values[hit] = column[rows]
            out[name] = values
        return out

    def _alleles_equal(self, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """(k,) bool: is the stored ``REF>ALT`` of each of ``rows`` equal to ``wanted`` (bytes)?"""
        if len(self.allele_row) == 0:
            return np.zeros(len(rows), bool)
        slot = np.minimum(np.searchsorted(self.allele_row, rows), len(self.allele_row) - 1)
        start = self.allele_offsets[slot]
        want_len = np.char.str_len(wanted)
        length = self.allele_offsets[slot + 1] - start
        equal = (self.allele_row[slot] == rows) & (length == want_len)
        want_m = wanted.view(np.uint8).reshape(len(wanted), wanted.itemsize)
        # one comparison per distinct allele length: a few dozen groups, whatever the rows
        for size in np.unique(want_len[equal]):
            group = np.flatnonzero(equal & (want_len == size))
            got = self.allele_bytes[start[group, None] + np.arange(size)]
            equal[group] = (got == want_m[group, :size]).all(axis=1)
        return equal

    # -- storage

    def save(self, folder: str | Path) -> Path:
        """Write one .npy per array and ``meta.json``; returns the folder."""
        meta = {"release": self.release, "build": self.build, "rows": len(self),
                "fields": self.fields}
        return save_arrays(folder, {n: getattr(self, n) for n in _ARRAYS}, meta)

    @classmethod
    def load(cls, folder: str | Path, mmap: bool = True) -> GnomadIndex:
        """Read an index written by :meth:`save`; ``mmap`` memory-maps the arrays (default:
        a whole-genome index is tens of GB and a join touches a sliver of it)."""
        what, hint = "gnomAD index", "rebuild it with build_gnomad_index"
        meta = load_meta(folder, what, hint)
        arrays = load_arrays(folder, _ARRAYS, mmap, what, hint)
        rows = meta.get("rows")
        same = all(len(arrays[n]) == rows for n in ROLES + ("key", "filter_pass"))
        if not same or len(arrays["allele_offsets"]) != len(arrays["allele_row"]) + 1:
            raise ResourceError(f"{folder}: arrays of unequal length — rebuild the gnomAD index")
        return cls(**arrays, release=meta["release"], build=meta.get("build"),
                   fields=meta.get("fields"))


def _ranges(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) bounds of each key's run in the sorted ``table``; (m,) int64 each.

    Unsorted keys are searched in sorted order: binary searches over a large table then walk
    it front to back instead of missing the cache on every probe (about 3x faster on 1M keys)."""
    if len(keys) < 2 or not (keys[1:] < keys[:-1]).any():
        return (np.searchsorted(table, keys, side="left"),
                np.searchsorted(table, keys, side="right"))
    order = np.argsort(keys)
    left, right = np.empty(len(keys), np.int64), np.empty(len(keys), np.int64)
    left[order] = np.searchsorted(table, keys[order], side="left")
    right[order] = np.searchsorted(table, keys[order], side="right")
    return left, right


def _as_bytes(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return arr
    return np.char.encode(arr.astype(str), "ascii")


def _pack(chrom: np.ndarray, pos: np.ndarray, ref: np.ndarray, alt: np.ndarray,
          values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Key one chunk of alleles and keep only the compact columns: key, the value columns,
    ``hashed`` (row numbers within the chunk whose key hashes the alleles) and their
    ``REF>ALT`` strings (``alleles``, bytes array)."""
    snv = (np.char.str_len(ref) == 1) & (np.char.str_len(alt) == 1)
    key = np.empty(len(pos), np.int64)
    # SNVs keyed apart, as one-byte alleles, so that a few long indels do not widen their
    # byte matrices
    if snv.any():
        key[snv] = variant_keys(chrom[snv], pos[snv], ref[snv].astype("S1"),
                                alt[snv].astype("S1"))
    if (~snv).any():
        key[~snv] = variant_keys(chrom[~snv], pos[~snv], ref[~snv], alt[~snv])
    hashed = np.flatnonzero((key & _HASHED) != 0)
    alleles = np.char.add(np.char.add(ref[hashed], b">"), alt[hashed])
    return {"key": key, **values, "hashed": hashed, "alleles": alleles}


def _assemble(parts: list[dict], *, release: str, build: str | None,
              fields: dict | None) -> GnomadIndex:
    """Concatenate packed chunks, sort by key and drop exact duplicates (same key and alleles),
    keeping the row with the largest allele count."""
    offset = np.cumsum([0] + [len(p["key"]) for p in parts])
    col = {name: np.concatenate([np.zeros(0, dtype)] + [p[name] for p in parts])
           for name, dtype in (("key", np.int64), ("af", np.float32), ("ac", np.int32),
                               ("hom", np.int32), ("hemi", np.int32),
                               ("grpmax_af", np.float32), ("filter_pass", bool))}
    hashed = np.concatenate([np.zeros(0, np.int64)]
                            + [p["hashed"] + o for p, o in zip(parts, offset)])
    text = np.empty(len(hashed), dtype=object)
    text[:] = [a for p in parts for a in p["alleles"].tolist()]
    order = np.lexsort((-col["ac"].astype(np.int64), col["key"]))
    key = col["key"][order]
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    # the rows holding alleles, in sorted order, with their strings
    by_rank = np.argsort(rank[hashed], kind="stable")
    rows, text = rank[hashed][by_rank], text[by_rank]
    duplicate = np.zeros(len(order), bool)
    exact = (key & _HASHED) == 0
    duplicate[1:] = exact[1:] & (key[1:] == key[:-1])
    repeated = pd.DataFrame({"key": key[rows], "text": text}).duplicated().to_numpy(bool)
    duplicate[rows[repeated]] = True
    rows, text = rows[~repeated], text[~repeated]
    keep = ~duplicate
    renumber = np.cumsum(keep) - 1
    blob = b"".join(text.tolist())
    lengths = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
    return GnomadIndex(
        key=key[keep], **{name: col[name][order][keep] for name in (
            "af", "ac", "hom", "hemi", "grpmax_af", "filter_pass")},
        allele_row=renumber[rows].astype(np.int64),
        allele_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        allele_bytes=np.frombuffer(blob, dtype=np.uint8).copy(),
        release=release, build=build, fields=fields)


# ---------------------------------------------------------------------- VCF reader


def _trim(ref: str, alt: str, pos: int) -> tuple[str, str, int]:
    """Minimal representation, as heron's VCF ingest writes it: drop shared trailing, then
    shared leading bases."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return ref, alt, pos


def _header_info(vcf) -> set[str]:
    return {m.group(1) for m in re.finditer(r"##INFO=<ID=([^,>]+)", vcf.raw_header)}


def _file_region(vcf, region: str | None) -> str | None:
    """``region`` spelt with this file's contig name (``chr21`` vs ``21``)."""
    if region is None:
        return None
    contig, _, span = region.partition(":")
    code = chrom_code(contig)
    for name in vcf.seqnames:
        if chrom_code(name) == code and code:
            return f"{name}:{span}" if span else name
    return region


def _read_vcf(path: Path, names: dict[str, str | None], region: str | None,
              build: str | None, chunk_rows: int) -> tuple[list[dict], str | None]:
    """Packed chunks of one gnomAD VCF and the genome build it says (or ``build``)."""
    import cyvcf2

    try:
        vcf = cyvcf2.VCF(str(path), lazy=True, threads=1)
    except Exception as exc:  # cyvcf2 raises plain Exception for unreadable input
        raise InputError(f"cannot read as VCF ({exc})", path=str(path),
                         hint="give a gnomAD sites VCF (.vcf.bgz) as downloaded") from None
    try:
        contigs = {m.group(1): int(m.group(2)) for m in re.finditer(
            r"##contig=<ID=([^,>]+),length=(\d+)", vcf.raw_header)}
        found = build_from_contigs(contigs)
        if build and found and build != found:
            raise InputError(f"the header says {found}, but {build} was asked for",
                             path=str(path), hint="use the gnomAD release of the cohort's build")
        declared = _header_info(vcf)
        if names["af"] not in declared:
            presets = [p for p, f in PRESETS.items() if f["af"] in declared]
            raise InputError(f"INFO/{names['af']} is not declared in the header",
                             path=str(path), hint=f"use the field preset {presets[0]!r}" if presets
                             else "name the allele-frequency field in the gnomAD field mapping")
        roles = [r for r in ROLES if names.get(r) and names[r] in declared]
        if region and not any(Path(f"{path}{ext}").is_file() for ext in (".tbi", ".csi")):
            raise InputError(f"no .tbi or .csi index to read region {region} from",
                             path=str(path), hint="index the VCF (tabix -p vcf) or give no region")
        records = vcf(_file_region(vcf, region)) if region else vcf
        parts = list(_chunks(records, roles, names, chunk_rows))
    finally:
        vcf.close()
    return parts, build or found


def _chunks(records: Iterable, roles: list[str], names: dict, chunk_rows: int):
    """The per-record loop: split ALTs, pull the wanted INFO values, trim; yield packed chunks."""
    codes: dict[str, int] = {}
    fields = [names[r] for r in roles]
    rows = {k: [] for k in ("chrom", "pos", "ref", "alt", "pass", *roles)}
    for rec in records:
        contig = rec.CHROM
        code = codes.get(contig)
        if code is None:
            code = codes[contig] = chrom_code(contig)
        if code == 0:
            continue
        alts, ref, pos = rec.ALT, rec.REF, rec.POS
        info = rec.INFO
        values = [info.get(f) for f in fields]
        passed = rec.FILTER is None
        for i, alt in enumerate(alts):
            if not _PLAIN_BASES.match(alt):
                continue
            r, a, p = _trim(ref, alt, pos) if len(ref) > 1 and len(alt) > 1 else (ref, alt, pos)
            rows["chrom"].append(code)
            rows["pos"].append(p)
            rows["ref"].append(r)
            rows["alt"].append(a)
            rows["pass"].append(passed)
            for role, value in zip(roles, values):
                rows[role].append(value[i] if isinstance(value, tuple) else value)
        if len(rows["pos"]) >= chunk_rows:
            yield _pack_rows(rows, roles)
            rows = {k: [] for k in rows}
    if rows["pos"]:
        yield _pack_rows(rows, roles)


def _pack_rows(rows: dict[str, list], roles: list[str]) -> dict:
    n = len(rows["pos"])

    def number(role: str) -> np.ndarray:
        if role not in roles:
            return np.full(n, np.nan)
        return np.array(rows[role], dtype=np.float64)  # None -> NaN

    def count(role: str) -> np.ndarray:
        value = number(role)
        return np.where(np.isnan(value) | (value < 0), -1, value).astype(np.int32)

    return _pack(np.array(rows["chrom"], np.int8), np.array(rows["pos"], np.int64),
                 np.array(rows["ref"], dtype="S"), np.array(rows["alt"], dtype="S"), {
                     "af": number("af").astype(np.float32), "ac": count("ac"),
                     "hom": count("hom"), "hemi": count("hemi"),
                     "grpmax_af": number("grpmax_af").astype(np.float32),
                     "filter_pass": np.array(rows["pass"], bool)})


def _hemizygotes(part: dict, build: str | None, hemi_known: bool) -> None:
    """In place: hemizygote counts in haploid regions, XX-only homozygotes there, 0 elsewhere."""
    chrom = (part["key"] >> np.int64(POS_BITS + ALLELE_BITS)).astype(np.int8)
    pos = ((part["key"] >> np.int64(ALLELE_BITS)) & ((1 << POS_BITS) - 1)).astype(np.int32)
    haploid = chrom == CHROM_Y
    on_x = chrom == CHROM_X
    if on_x.any():
        if build is None:
            raise InputError("chrX records but no genome build (needed for the pseudo-autosomal "
                             "regions)", hint="pass build='GRCh38' or 'GRCh37'")
        haploid |= on_x & ~in_par(chrom, pos, build)
    xy_hom = part["hemi"]
    if hemi_known:
        known = haploid & (part["hom"] >= 0) & (xy_hom >= 0)
        part["hom"][known] = np.maximum(part["hom"][known] - xy_hom[known], 0)
        part["hemi"] = np.where(haploid, xy_hom, 0).astype(np.int32)
    else:
        part["hemi"] = np.where(haploid, -1, 0).astype(np.int32)


def build_gnomad_index(vcfs: str | Path | Iterable[str | Path], *,
                       fields: str | Mapping[str, str | None] = "v4", region: str | None = None,
                       build: str | None = None, release: str = "unknown",
                       chunk_rows: int = CHUNK_ROWS) -> GnomadIndex:
    """Index one or more gnomAD sites VCFs (bgzipped or plain; contigs with or without ``chr``).

    fields: a preset name or role -> INFO-name mapping (:func:`resolve_fields`). region:
    ``chr21`` or ``chr21:1-5000000`` to index only part of the files (needs their .tbi/.csi).
    build: GRCh38 / GRCh37, checked against the header's contig lengths, else taken from them
    (needed when there are chrX records). Multi-allelic records are split (Number=A values
    indexed by ALT, other values shared) and alleles trimmed to their minimal representation;
    symbolic and ``*`` alleles and non-primary contigs are skipped. chunk_rows: alleles per
    packed chunk (peak memory of the reader ~ 250 bytes x chunk_rows).
    """
    paths = [Path(vcfs)] if isinstance(vcfs, (str, Path)) else [Path(p) for p in vcfs]
    names = resolve_fields(fields)
    parts, builds = [], set()
    for path in paths:
        if not path.is_file():
            raise InputError("gnomAD VCF not found", path=str(path),
                             hint="check the path, or download it with download_gnomad")
        file_parts, file_build = _read_vcf(path, names, region, build, chunk_rows)
        builds.add(file_build)
        parts += file_parts
    known = {b for b in builds if b}
    if len(known) > 1:
        raise InputError(f"the gnomAD VCFs mix genome builds ({', '.join(sorted(known))})",
                         hint="index the files of one build together")
    build = build or (known.pop() if known else None)
    for part in parts:
        _hemizygotes(part, build, bool(names.get("hemi")))
    return _assemble(parts, release=release, build=build, fields=names)


# ----------------------------------------------------------------------- download

GNOMAD_BASE = "https://storage.googleapis.com/gcp-public-data--gnomad/release/"
#: Per-chromosome file names of each release under :data:`GNOMAD_BASE`; ``{chrom}`` is the
#: bare chromosome name (1..22, X, Y).
URL_TEMPLATES = {
    "4.1": "4.1/vcf/joint/gnomad.joint.v4.1.sites.chr{chrom}.vcf.bgz",
    "2.1.1": "2.1.1/vcf/exomes/gnomad.exomes.r2.1.1.sites.{chrom}.vcf.bgz",
}


def download_gnomad(root: str | Path, chroms: Iterable[str], *, release: str = "4.1",
                    build: str = "GRCh38", url_template: str | None = None,
                    base_url: str = GNOMAD_BASE, with_index: bool = True,
                    timeout: float = 60.0, retries: int = 3, backoff: float = 0.5,
                    session: requests.Session | None = None) -> Path:
    """Download per-chromosome gnomAD sites VCFs into the snapshot ``<root>/gnomad_<build>/
    <release>/`` (files ``chr<chrom>.vcf.bgz`` and, with ``with_index``, their ``.tbi``).

    chroms: bare names (``"21"``, ``"X"``). url_template: a URL or local path with ``{chrom}``;
    by default :data:`URL_TEMPLATES` of ``release`` under ``base_url``. Any failure raises
    ResourceError and leaves existing snapshots untouched.
    """
    if build not in PAR_X:
        raise InputError(f"unknown genome build {build!r}", hint="use GRCh37 or GRCh38")
    if url_template is None:
        if release not in URL_TEMPLATES:
            raise InputError(f"no default URLs for gnomAD release {release!r}",
                             hint=f"give url_template, or use {', '.join(URL_TEMPLATES)}")
        url_template = base_url.rstrip("/") + "/" + URL_TEMPLATES[release]
    chroms = [c[3:] if c.lower().startswith("chr") else c for c in chroms]
    if not chroms:
        raise InputError("no chromosomes to download", hint="name at least one, e.g. ['21']")
    urls = {}
    for chrom in chroms:
        urls[f"chr{chrom}.vcf.bgz"] = url_template.format(chrom=chrom)
        if with_index:
            urls[f"chr{chrom}.vcf.bgz.tbi"] = url_template.format(chrom=chrom) + ".tbi"
    source_dir = Path(root) / f"gnomad_{build}"
    source_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=source_dir, prefix=".download-"))
    try:
        files = {name: fetch(url, staging / name, timeout=timeout, retries=retries,
                             backoff=backoff, session=session) for name, url in urls.items()}
        return create_snapshot(root, f"gnomad_{build}", release, files, list(urls.values()),
                               move=True, replace=(source_dir / release).exists())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
