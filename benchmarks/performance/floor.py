"""Reference readers the harness times as child processes: the cost of reading the data at all.

``python -m benchmarks.performance.floor MODE VCF`` with MODE
  decompress  BGZF-decompress the whole file (htslib through pysam) and drop the text;
  cyvcf2      a bare cyvcf2 loop filling GT (alt-allele count of the first ALT), AD ref/alt,
              DP and GQ into (records, samples) numpy matrices;
  fastparse   heron.ingest.fastparse over the decompressed text, the same five matrices
              (block by block: memory of one 16 MB block of text).
Prints one JSON line: records and a checksum of the matrices (so the work cannot be skipped).
"""

from __future__ import annotations

import json
import sys

import numpy as np

BLOCK = 1 << 24


def decompress(path: str) -> dict:
    import pysam

    total = 0
    with pysam.BGZFile(path, "rb") as handle:
        while block := handle.read(BLOCK):
            total += len(block)
    return {"bytes": total}


def cyvcf2_matrices(path: str, chunk: int = 4096) -> dict:
    """GT alt count (int8, -1 missing), AD ref/alt of the first ALT, DP, GQ (int32, -1 missing)."""
    import cyvcf2

    vcf = cyvcf2.VCF(path, threads=1)
    n = len(vcf.samples)
    done, sums = 0, np.zeros(5)
    mats = [np.full((chunk, n), -1, np.int32) for _ in range(5)]
    i = 0
    # cyvcf2 gt_types: 0 hom-ref, 1 het, 2 unknown, 3 hom-alt
    alt_count = np.array([0, 1, -1, 2], np.int32)
    for record in vcf:
        mats[0][i] = alt_count[record.gt_types]
        ad = record.format("AD")
        if ad is not None:
            mats[1][i], mats[2][i] = ad[:, 0], ad[:, 1]
        for k, name in ((3, "DP"), (4, "GQ")):
            value = record.format(name)
            if value is not None:
                mats[k][i] = value[:, 0]
        i += 1
        if i == chunk:
            sums += [m.sum(dtype=np.int64) for m in mats]
            done, i = done + i, 0
    sums += [m[:i].sum(dtype=np.int64) for m in mats]
    vcf.close()
    return {"records": done + i, "checksum": sums.tolist()}


def fastparse_matrices(path: str) -> dict:
    """The same matrices from heron.ingest.fastparse (every ALT row), block by block."""
    from heron.ingest.fastparse import iter_blocks

    rows, fallback, sums = 0, 0, np.zeros(5, np.int64)
    for part in iter_blocks(path):
        rows += len(part.record)
        fallback += part.fallback
        sums += [part.calls[k].sum(dtype=np.int64)
                 for k in ("gt", "ad_ref", "ad_alt", "dp", "gq")]
    return {"rows": rows, "fallback_records": fallback, "checksum": sums.tolist()}


MODES = {"decompress": decompress, "cyvcf2": cyvcf2_matrices, "fastparse": fastparse_matrices}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in MODES:
        print(f"usage: python -m benchmarks.performance.floor {{{','.join(MODES)}}} VCF",
              file=sys.stderr)
        return 2
    print(json.dumps(MODES[argv[0]](argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
