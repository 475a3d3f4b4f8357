"""AlphaMissense: missense pathogenicity scores keyed by variant.

Reads DeepMind's tab-separated release (``AlphaMissense_hg38.tsv.gz`` / ``_hg19``: a few ``#``
comment lines, then ``#CHROM POS REF ALT genome uniprot_id transcript_id protein_variant
am_pathogenicity am_class``; the isoforms file lacks ``uniprot_id``). Every variant is an SNV,
so its key encodes the alleles exactly. The table keeps, per variant, the highest score and
the transcript that carries it; with ``per_transcript`` it also keeps every (variant,
transcript) score, so a consequence row can get the score of its own transcript. Transcripts
are held as int32 codes into one vocabulary of unversioned Ensembl ids.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from heron.errors import InputError, ResourceError
from heron.genome import chrom_code
from heron.keys import sorted_join, unversioned_ids, variant_keys
from heron.lazy import pandas as pd
from heron.resources.arrays import load_arrays, load_meta, save_arrays
from heron.resources.download import fetch
from heron.resources.textfiles import tab_header
from heron.resources.snapshot import create_snapshot

if TYPE_CHECKING:
    import requests  # only in signatures: downloads import it when they run

#: am_class values, coded by position (-1: unknown).
AM_CLASSES = ("likely_benign", "ambiguous", "likely_pathogenic")
GENOMES = {"GRCh38": "hg38", "GRCh37": "hg19"}
COLUMNS = ["#CHROM", "POS", "REF", "ALT", "genome", "transcript_id", "am_pathogenicity",
           "am_class"]
#: Rows read per pandas chunk.
CHUNK_ROWS = 2_000_000
DEFAULT_URL = "https://storage.googleapis.com/dm_alphamissense/AlphaMissense_{genome}.tsv.gz"
_ARRAYS = ("key", "ref", "alt", "score", "am_class", "transcript", "transcripts")
_TX_ARRAYS = ("tx_key", "tx_transcript", "tx_score")


@dataclass
class AlphaMissenseTable:
    """AlphaMissense variants as aligned arrays of length n, sorted by ``key`` (unique).

    key int64 (heron.keys), ref / alt 'S1', score float32 (highest am_pathogenicity over the
    variant's transcripts), am_class int8 (index into :data:`AM_CLASSES` of that row),
    transcript int32 (code into ``transcripts``, the 'U' vocabulary of unversioned transcript
    ids). With per-transcript rows (else None): tx_key int64, tx_transcript int32, tx_score
    float32, p rows sorted by (tx_key, tx_transcript).
    """

    key: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    score: np.ndarray
    am_class: np.ndarray
    transcript: np.ndarray
    transcripts: np.ndarray
    release: str
    build: str | None = None
    tx_key: np.ndarray | None = None
    tx_transcript: np.ndarray | None = None
    tx_score: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_rows(cls, key, ref, alt, score, am_class, transcript, transcripts, *,
                  release: str, build: str | None = None,
                  per_transcript: bool = False) -> AlphaMissenseTable:
        """Table of unsorted (variant, transcript) rows: key int64, ref / alt bytes, score
        float32, am_class int8, transcript int32 codes into ``transcripts``. A variant keeps
        its highest-scoring row (ties: the lower transcript code)."""
        key = np.asarray(key, np.int64)
        score = np.asarray(score, np.float32)
        transcript = np.asarray(transcript, np.int32)
        order = np.lexsort((transcript, -score, key))
        first = np.ones(len(order), bool)
        first[1:] = key[order][1:] != key[order][:-1]
        best = order[first]
        table = cls(key=key[best], ref=np.asarray(ref, "S1")[best], alt=np.asarray(alt, "S1")[best],
                    score=score[best], am_class=np.asarray(am_class, np.int8)[best],
                    transcript=transcript[best], transcripts=np.asarray(transcripts, dtype=str),
                    release=release, build=build)
        if per_transcript:
            by_tx = np.lexsort((transcript, key))
            unique = np.ones(len(by_tx), bool)
            unique[1:] = (key[by_tx][1:] != key[by_tx][:-1]) | \
                         (transcript[by_tx][1:] != transcript[by_tx][:-1])
            rows = by_tx[unique]
            table.tx_key, table.tx_score = key[rows], score[rows]
            table.tx_transcript = transcript[rows]
        return table

    def lookup(self, keys: np.ndarray, ref, alt) -> np.ndarray:
        """Row of each query variant, or -1. keys: (m,) int64; ref, alt: (m,) str or bytes.
        A match needs equal alleles too. Returns (m,) int64."""
        idx = sorted_join(np.asarray(keys, dtype=np.int64), self.key)
        hit = np.flatnonzero(idx >= 0)
        same = (self.ref[idx[hit]] == _as_bytes(np.asarray(ref)[hit])) & \
               (self.alt[idx[hit]] == _as_bytes(np.asarray(alt)[hit]))
        out = np.full(len(idx), -1, dtype=np.int64)
        out[hit[same]] = idx[hit[same]]
        return out

    def join(self, keys: np.ndarray, ref, alt) -> dict[str, np.ndarray]:
        """Per query variant: ``score`` float32 (NaN absent), ``am_class`` int8 (-1 absent),
        ``transcript`` 'U' id of the highest-scoring transcript ('' absent); (m,) each."""
        idx = self.lookup(keys, ref, alt)
        hit = idx >= 0
        score = np.full(len(idx), np.nan, np.float32)
        cls = np.full(len(idx), -1, np.int8)
        score[hit] = self.score[idx[hit]]
        cls[hit] = self.am_class[idx[hit]]
        vocab = np.append(self.transcripts, "")
        code = np.full(len(idx), len(self.transcripts), np.int64)
        code[hit] = self.transcript[idx[hit]]
        return {"score": score, "am_class": cls, "transcript": vocab[code]}

    def transcript_scores(self, keys: np.ndarray, ref, alt, transcripts) -> np.ndarray:
        """Score of each query (variant, transcript) pair: (m,) float32, NaN when AlphaMissense
        has no score for that transcript. transcripts: (m,) str or bytes Ensembl ids, with or
        without version. Needs a table built with ``per_transcript``."""
        if self.tx_key is None:
            raise InputError("this AlphaMissense table has no per-transcript scores",
                             hint="rebuild it with per_transcript=True")
        keys = np.asarray(keys, np.int64)
        out = np.full(len(keys), np.nan, np.float32)
        variant = self.lookup(keys, ref, alt) >= 0  # confirms the alleles
        code = _codes(self.transcripts, transcripts)
        query = np.flatnonzero(variant & (code >= 0))
        left = np.searchsorted(self.tx_key, keys[query], side="left")
        count = np.searchsorted(self.tx_key, keys[query], side="right") - left
        cand = np.repeat(np.arange(len(query)), count)
        row = left[cand] + np.arange(len(cand)) - np.repeat(np.cumsum(count) - count, count)
        match = self.tx_transcript[row] == code[query][cand]
        out[query[cand[match]]] = self.tx_score[row[match]]
        return out

    def save(self, folder: str | Path) -> Path:
        """Write one .npy per array and ``meta.json``; returns the folder."""
        with_tx = self.tx_key is not None
        meta = {"release": self.release, "build": self.build, "rows": len(self),
                "per_transcript": with_tx}
        names = _ARRAYS + (_TX_ARRAYS if with_tx else ())
        return save_arrays(folder, {n: getattr(self, n) for n in names}, meta)

    @classmethod
    def load(cls, folder: str | Path, mmap: bool = True) -> AlphaMissenseTable:
        """Read a table written by :meth:`save`; ``mmap`` memory-maps the arrays."""
        what, hint = "AlphaMissense table", "rebuild it with read_alphamissense"
        meta = load_meta(folder, what, hint)
        names = _ARRAYS + (_TX_ARRAYS if meta.get("per_transcript") else ())
        arrays = load_arrays(folder, names, mmap, what, hint)
        if any(len(arrays[n]) != meta["rows"] for n in _ARRAYS if n != "transcripts"):
            raise ResourceError(f"{folder}: arrays of unequal length — rebuild the table")
        return cls(**arrays, release=meta["release"], build=meta.get("build"))


def _as_bytes(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return arr
    return np.char.encode(arr.astype(str), "ascii")


def _codes(vocabulary: np.ndarray, transcripts) -> np.ndarray:
    """(m,) int64 code of each transcript id (version dropped) in ``vocabulary``, or -1."""
    ids = np.asarray(transcripts)
    if ids.dtype.kind == "S":
        ids = np.char.decode(ids, "utf-8")
    ids = unversioned_ids(ids)
    order = np.argsort(vocabulary)
    if len(vocabulary) == 0:
        return np.full(len(ids), -1, np.int64)
    at = np.minimum(np.searchsorted(vocabulary, ids, sorter=order), len(vocabulary) - 1)
    found = vocabulary[order[at]] == ids
    return np.where(found, order[at], -1).astype(np.int64)


# ------------------------------------------------------------------------ reading


def read_alphamissense(path: str | Path, build: str | None = None, *, release: str = "unknown",
                       per_transcript: bool = False,
                       chunk_rows: int = CHUNK_ROWS) -> AlphaMissenseTable:
    """An AlphaMissense TSV (gzipped or plain) as an :class:`AlphaMissenseTable`.

    build: GRCh38 / GRCh37, checked against the ``genome`` column (hg38 / hg19); taken from
    it when None. per_transcript: also keep every (variant, transcript) score. Rows on other
    contigs are skipped; an unparsable row is an InputError naming its line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("AlphaMissense file not found", path=str(path),
                         hint="download it with download_alphamissense or give its path")
    columns, skip = tab_header(path, COLUMNS, keep_hash=True, example="#CHROM",
                               what="AlphaMissense variant file")
    vocabulary: dict[str, int] = {}
    parts, genomes, done = [], set(), skip
    reader = pd.read_csv(path, sep="\t", header=None, names=columns, skiprows=skip,
                         usecols=COLUMNS, dtype=str, keep_default_na=False,
                         quoting=csv.QUOTE_NONE, compression="infer", chunksize=chunk_rows)
    try:
        for chunk in reader:
            parts.append(_chunk(chunk, vocabulary, path, done))
            genomes.update(chunk["genome"].unique())
            done += len(chunk)
    except (ValueError, pd.errors.ParserError, EOFError, OSError) as exc:
        raise InputError(f"cannot parse the rows after line {done} ({exc})", path=str(path),
                         hint="the file may be truncated; download it again") from exc
    build = _check_build(genomes, build, path)
    rows = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0, t)
            for k, t in (("key", np.int64), ("ref", "S1"), ("alt", "S1"), ("score", np.float32),
                         ("am_class", np.int8), ("transcript", np.int32))}
    transcripts = np.array(sorted(vocabulary, key=vocabulary.get), dtype=str)
    return AlphaMissenseTable.from_rows(**rows, transcripts=transcripts, release=release,
                                        build=build, per_transcript=per_transcript)


def _chunk(chunk: pd.DataFrame, vocabulary: dict[str, int], path: Path, first_line: int) -> dict:
    codes = {c: chrom_code(c) for c in chunk["#CHROM"].unique()}
    chrom = chunk["#CHROM"].map(codes).to_numpy(np.int8)
    pos = pd.to_numeric(chunk["POS"], errors="coerce")
    score = pd.to_numeric(chunk["am_pathogenicity"], errors="coerce")
    bad = pos.isna() | score.isna() | (chunk["REF"].str.len() != 1) | (chunk["ALT"].str.len() != 1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"not an SNV with a position and a score: {chunk.iloc[row].tolist()}",
                         path=str(path), line=first_line + row + 1,
                         hint="the file may be corrupt; download it again")
    keep = chrom > 0
    ids, uniques = pd.factorize(unversioned_ids(chunk["transcript_id"][keep].fillna("")))
    # one vocabulary across chunks: a loop over this chunk's distinct transcripts
    remap = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in uniques], np.int32)
    cls = chunk["am_class"][keep].map({c: i for i, c in enumerate(AM_CLASSES)})
    ref = chunk["REF"][keep].to_numpy("S1")
    alt = chunk["ALT"][keep].to_numpy("S1")
    return {"key": variant_keys(chrom[keep], pos[keep].to_numpy(np.int64), ref, alt),
            "ref": ref, "alt": alt, "score": score[keep].to_numpy(np.float32),
            "am_class": cls.fillna(-1).to_numpy(np.int8),
            "transcript": remap[ids] if len(ids) else np.zeros(0, np.int32)}


def _check_build(genomes: set[str], build: str | None, path: Path) -> str | None:
    found = {b for b, g in GENOMES.items() if g in genomes}
    if len(found) > 1:
        raise InputError("rows of both hg19 and hg38", path=str(path),
                         hint="use one build's AlphaMissense file")
    if build is not None and found and build not in found:
        raise InputError(f"the rows are {GENOMES[found.pop()]}, but {build} was asked for",
                         path=str(path),
                         hint=f"use AlphaMissense_{GENOMES.get(build, build)}.tsv.gz")
    return build or (found.pop() if found else None)


# ----------------------------------------------------------------------- download


def download_alphamissense(build: str, root: str | Path, *, release: str = "2023-09",
                           url: str | None = None, sha256: str | None = None,
                           timeout: float = 60.0, retries: int = 3, backoff: float = 0.5,
                           session: requests.Session | None = None) -> Path:
    """Download AlphaMissense's file for ``build`` into the snapshot
    ``<root>/alphamissense_<build>/<release>/AlphaMissense_<hg38|hg19>.tsv.gz``.

    url: a URL or local path (default: DeepMind's public bucket). Any failure raises
    ResourceError and leaves existing snapshots untouched.
    """
    if build not in GENOMES:
        raise InputError(f"unknown genome build {build!r}", hint="use GRCh37 or GRCh38")
    name = f"AlphaMissense_{GENOMES[build]}.tsv.gz"
    url = url or DEFAULT_URL.format(genome=GENOMES[build])
    source = f"alphamissense_{build}"
    source_dir = Path(root) / source
    source_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=source_dir, prefix=".download-"))
    try:
        file = fetch(url, staging / name, sha256=sha256, timeout=timeout, retries=retries,
                     backoff=backoff, session=session)
        try:
            tab_header(file, COLUMNS, keep_hash=True, example="#CHROM",
                       what="AlphaMissense variant file")
        except (InputError, OSError, EOFError) as exc:
            raise ResourceError(f"{url}: the download is not an AlphaMissense file ({exc}) — "
                                "check the URL") from exc
        return create_snapshot(root, source, release, {name: file}, [url], move=True,
                               replace=(source_dir / release).exists())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
