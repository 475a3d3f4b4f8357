"""Contigs, genome builds and pseudo-autosomal regions.

Chromosomes are held as small integer codes so that per-variant arrays stay numeric:
1..22 autosomes, 23 X, 24 Y, 25 M. Contig names are accepted with or without ``chr``
and with ``MT`` or ``M`` for the mitochondrion.
"""

from __future__ import annotations

import numpy as np

CHROM_X, CHROM_Y, CHROM_M = 23, 24, 25
CHROM_NAMES = [""] + [str(i) for i in range(1, 23)] + ["X", "Y", "M"]

_CODE = {name: code for code, name in enumerate(CHROM_NAMES) if name}
_CODE["MT"] = CHROM_M

# Length of chromosome 1 tells the builds apart; it is present in every VCF header we meet.
CHR1_LENGTH = {"GRCh37": 249250621, "GRCh38": 248956422}

# Pseudo-autosomal regions (1-based, inclusive) on X; diploid in males.
PAR_X = {
    "GRCh37": ((60001, 2699520), (154931044, 155260560)),
    "GRCh38": ((10001, 2781479), (155701383, 156030895)),
}


def chrom_code(name: str) -> int:
    """Code of a contig name (``chr1``, ``1``, ``chrX``, ``MT`` ...); 0 for any other contig."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    return _CODE.get(bare.upper() if bare[:1].isalpha() else bare, 0)


def chrom_label(code: int, with_chr: bool = True) -> str:
    """Contig name of a code, ``chr``-prefixed by default (``chrM`` for the mitochondrion)."""
    name = CHROM_NAMES[code]
    return f"chr{name}" if with_chr else ("MT" if name == "M" else name)


def build_from_contigs(contigs: dict[str, int]) -> str | None:
    """Genome build told by the length of chromosome 1 in a header's contig lines, or None."""
    for name, length in contigs.items():
        if chrom_code(name) == 1:
            for build, expected in CHR1_LENGTH.items():
                if length == expected:
                    return build
    return None


def in_par(chrom: np.ndarray, pos: np.ndarray, build: str) -> np.ndarray:
    """Mask of positions inside an X pseudo-autosomal region.

    chrom: (n,) int8 codes; pos: (n,) int32 1-based positions. Returns (n,) bool.
    """
    mask = np.zeros(len(pos), dtype=bool)
    for start, end in PAR_X[build]:
        mask |= (chrom == CHROM_X) & (pos >= start) & (pos <= end)
    return mask
