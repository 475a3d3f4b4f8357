"""Real gene list with canonical exons, and positions drawn inside them.

The table is SpliceAI's ``annotations/grch38.txt`` (PyPI ``spliceai==1.3.1``: GENCODE canonical
transcripts of ~19k genes; columns #NAME, CHROM, STRAND, TX_START, TX_END, EXON_START,
EXON_END; exon starts 0-based, ends 1-based inclusive). It has no CDS bounds, so "coding
length" here is the exonic length including UTRs, and protein positions derived from it are
approximate. There is no reference FASTA either: REF bases of simulated variants are chosen
deterministically from the position, not read from GRCh38.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heron.errors import InputError
from heron.genome import CHROM_X, chrom_code

SPLICEAI_VERSION = "1.3.1"
SPLICEAI_MEMBER = "spliceai/annotations/grch38.txt"
DEFAULT_CACHE = Path.home() / ".cache" / "heron-benchmarks"


@dataclass
class GeneTable:
    """Genes and their exons as flat arrays.

    symbol, strand: (g,) object / (g,) int8 (+1/-1); chrom: (g,) int8 heron chromosome codes;
    exon_gene: (e,) int64 gene of each exon, exons sorted by gene then start; exon_start: (e,)
    int64 0-based; exon_end: (e,) int64 1-based inclusive; exon_cum: (e + 1,) int64 cumulative
    exonic length (exon i covers [exon_cum[i], exon_cum[i+1])); gene_cum: (g + 1,) int64 the
    same per gene; exon_rank: (e,) int64 1-based exon number along the transcript; gene_exons:
    (g,) int64 exon count.
    """

    symbol: np.ndarray
    chrom: np.ndarray
    strand: np.ndarray
    exon_gene: np.ndarray
    exon_start: np.ndarray
    exon_end: np.ndarray
    exon_cum: np.ndarray
    gene_cum: np.ndarray
    exon_rank: np.ndarray
    gene_exons: np.ndarray

    @property
    def total_length(self) -> int:
        return int(self.exon_cum[-1])


def fetch_spliceai_table(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Download the ``spliceai`` wheel with pip into ``cache_dir`` and extract grch38.txt."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    f"spliceai=={SPLICEAI_VERSION}", "-d", str(cache_dir)], check=True)
    wheels = sorted(cache_dir.glob(f"spliceai-{SPLICEAI_VERSION}-*.whl"))
    if not wheels:
        raise InputError("pip did not leave a spliceai wheel", path=str(cache_dir))
    target = cache_dir / f"spliceai-{SPLICEAI_VERSION}-grch38.txt"
    with zipfile.ZipFile(wheels[0]) as archive:
        target.write_bytes(archive.read(SPLICEAI_MEMBER))
    return target


def resolve_gene_table(path: str | Path | None = None, cache_dir: Path = DEFAULT_CACHE,
                       download: bool = False) -> Path:
    """Path of the gene table: the one given, else the cached copy, else (if asked) downloaded."""
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise InputError("gene table not found", path=str(path),
                             hint="give SpliceAI's grch38.txt or the spliceai wheel")
        return path
    cached = Path(cache_dir) / f"spliceai-{SPLICEAI_VERSION}-grch38.txt"
    if cached.exists():
        return cached
    if download:
        return fetch_spliceai_table(cache_dir)
    raise InputError("no gene table given and none cached", path=str(cached),
                     hint=f"pass --gene-table, or --download-gene-table to fetch spliceai=={SPLICEAI_VERSION} with pip")


def load_gene_table(path: str | Path, contigs: tuple[int, ...] = tuple(range(1, CHROM_X + 1))) -> GeneTable:
    """Read a SpliceAI-format gene table (plain text, or the spliceai wheel itself).

    contigs: chromosome codes kept (default autosomes and X: Y genes are left out so female
    exomes get no Y variants).
    """
    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive, archive.open(SPLICEAI_MEMBER) as handle:
            table = pd.read_csv(handle, sep="\t", dtype=str)
    else:
        table = pd.read_csv(path, sep="\t", dtype=str)
    needed = ["#NAME", "CHROM", "STRAND", "EXON_START", "EXON_END"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"gene table lacks columns {missing}", path=str(path),
                         hint="expected SpliceAI's annotation format: #NAME CHROM STRAND TX_START TX_END EXON_START EXON_END")
    table["code"] = table["CHROM"].map(chrom_code)
    table = table[table["code"].isin(contigs)].drop_duplicates("#NAME").reset_index(drop=True)
    starts = table["EXON_START"].str.rstrip(",").str.split(",").explode()
    ends = table["EXON_END"].str.rstrip(",").str.split(",").explode()
    if len(starts) != len(ends):
        raise InputError("EXON_START and EXON_END lists differ in length", path=str(path))
    exons = pd.DataFrame({"gene": starts.index.to_numpy(np.int64),
                          "start": pd.to_numeric(starts, errors="coerce").to_numpy(),
                          "end": pd.to_numeric(ends, errors="coerce").to_numpy()})
    if exons[["start", "end"]].isna().any().any():
        raise InputError("non-numeric exon coordinate", path=str(path))
    exons = exons.astype(np.int64).sort_values(["gene", "start"], kind="stable").reset_index(drop=True)
    length = (exons["end"] - exons["start"]).to_numpy()
    exon_cum = np.concatenate([[0], np.cumsum(length)])
    gene = exons["gene"].to_numpy()
    n_genes = len(table)
    gene_exons = np.bincount(gene, minlength=n_genes)
    gene_first = np.concatenate([[0], np.cumsum(gene_exons)])
    gene_cum = exon_cum[gene_first]
    strand = np.where(table["STRAND"].to_numpy() == "-", -1, 1).astype(np.int8)
    along = np.arange(len(exons)) - gene_first[gene]
    rank = np.where(strand[gene] > 0, along + 1, gene_exons[gene] - along)
    return GeneTable(symbol=table["#NAME"].to_numpy(dtype=object), chrom=table["code"].to_numpy(np.int8),
                     strand=strand, exon_gene=gene, exon_start=exons["start"].to_numpy(),
                     exon_end=exons["end"].to_numpy(), exon_cum=exon_cum, gene_cum=gene_cum,
                     exon_rank=rank, gene_exons=gene_exons)


@dataclass
class Positions:
    """Drawn positions. All (n,) arrays: gene (int64), chrom (int8), pos (int64, 1-based),
    exon (int64 index into the exon arrays), offset (int64, 0-based position along the gene's
    spliced exons in transcript direction), intron_offset (int64, bases into the intron; 0 for
    exonic), donor (bool: intronic side is the donor)."""

    gene: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    exon: np.ndarray
    offset: np.ndarray
    intron_offset: np.ndarray
    donor: np.ndarray


def sample_exonic(genes: GeneTable, rng: np.random.Generator, n: int) -> Positions:
    """Uniform exonic positions: genes are thereby weighted by their exonic length."""
    u = rng.integers(0, genes.total_length, size=n)
    exon = np.searchsorted(genes.exon_cum, u, side="right") - 1
    gene = genes.exon_gene[exon]
    pos = genes.exon_start[exon] + (u - genes.exon_cum[exon]) + 1
    along = u - genes.gene_cum[gene]
    gene_len = genes.gene_cum[gene + 1] - genes.gene_cum[gene]
    offset = np.where(genes.strand[gene] > 0, along, gene_len - 1 - along)
    zeros = np.zeros(n, dtype=np.int64)
    return Positions(gene, genes.chrom[gene], pos, exon, offset, zeros, np.zeros(n, dtype=bool))


def sample_intronic_near_exon(genes: GeneTable, rng: np.random.Generator, n: int,
                              min_offset: int, max_offset: int, max_tries: int = 20) -> Positions:
    """Intronic positions min_offset..max_offset bases from an internal exon boundary.

    Genes are weighted by exonic length; single-exon genes and the transcript's outer ends
    have no intron and are redrawn (up to max_tries rounds).
    """
    parts: list[Positions] = []
    need = n
    for _ in range(max_tries):
        if need == 0:
            break
        p = sample_exonic(genes, rng, need * 2)
        first = genes.exon_rank[p.exon] == 1
        last = genes.exon_rank[p.exon] == genes.gene_exons[p.gene]
        # Genomic left boundary exists unless this exon is the leftmost of its gene.
        plus = genes.strand[p.gene] > 0
        has_left = np.where(plus, ~first, ~last)
        has_right = np.where(plus, ~last, ~first)
        go_right = np.where(has_left & has_right, rng.random(len(p.pos)) < 0.5, has_right)
        ok = has_left | has_right
        k = rng.integers(min_offset, max_offset + 1, size=len(p.pos))
        pos = np.where(go_right, genes.exon_end[p.exon] + k, genes.exon_start[p.exon] + 1 - k)
        donor = np.where(plus, go_right, ~go_right)
        keep = np.flatnonzero(ok)[:need]
        parts.append(Positions(p.gene[keep], p.chrom[keep], pos[keep], p.exon[keep], p.offset[keep],
                               k[keep], donor[keep]))
        need -= len(keep)
    if need:
        raise InputError("gene table has too few multi-exon genes to place splice variants")
    return Positions(*(np.concatenate([getattr(q, f) for q in parts])
                       for f in Positions.__dataclass_fields__))


def reference_bases(chrom: np.ndarray, pos: np.ndarray, length: int | np.ndarray = 1) -> np.ndarray:
    """Deterministic stand-in REF bases (no FASTA): a hash of chrom and position.

    chrom, pos: (n,) int arrays; length: bases per variant (scalar or (n,) int). Returns (n,)
    object array of str over ACGT.
    """
    n = len(pos)
    length = np.broadcast_to(np.asarray(length, dtype=np.int64), (n,))
    width = int(length.max()) if n else 0
    grid = pos.astype(np.uint64)[:, None] + np.arange(width, dtype=np.uint64)[None, :]
    h = (grid * np.uint64(0x9E3779B97F4A7C15)) ^ (chrom.astype(np.uint64)[:, None] * np.uint64(0xBF58476D1CE4E5B9))
    h ^= h >> np.uint64(31)
    letters = np.frombuffer(b"ACGT", dtype="S1")[(h % np.uint64(4)).astype(np.int64)]
    mask = np.arange(width)[None, :] < length[:, None]
    letters = np.where(mask, letters, b"")
    joined = letters.view(f"S{width}").ravel() if width else np.array([b""] * n)
    return joined.astype(str).astype(object)


def random_bases(rng: np.random.Generator, lengths: np.ndarray) -> np.ndarray:
    """Random DNA strings of the given lengths: (n,) int -> (n,) object array of str."""
    width = int(lengths.max()) if len(lengths) else 0
    letters = np.frombuffer(b"ACGT", dtype="S1")[rng.integers(0, 4, size=(len(lengths), width))]
    letters = np.where(np.arange(width)[None, :] < lengths[:, None], letters, b"")
    return letters.view(f"S{width}").ravel().astype(str).astype(object) if width else np.full(len(lengths), "", dtype=object)


def other_base(ref: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ALT base different from each single-base REF: (n,) object -> (n,) object."""
    code = pd.Series(ref).str[0].map({"A": 0, "C": 1, "G": 2, "T": 3}).fillna(0).to_numpy(np.int64)
    alt = (code + rng.integers(1, 4, size=len(ref))) % 4
    return np.array(list("ACGT"), dtype=object)[alt]
