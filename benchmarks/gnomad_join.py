"""Throughput of the gnomAD index: build it, join a cohort's variants against it, reload it.

Makes a synthetic gnomAD-like site list (about 90% SNVs, the rest indels up to 12 bp, over
chromosomes 1-22 and X), indexes it, and joins a query set of which half are gnomAD alleles
and half are not (indels among the misses share positions with gnomAD indels, so the
full-allele check runs). Joins are timed with the queries in random order and in key order
(a shard's order), and again after saving and memory-mapping the index. Optionally writes a
gnomAD-style VCF of ``--vcf-records`` records and times the VCF reader too. Prints one JSON
object; peak memory is the process's maximum resident set size (``resource.getrusage``).

    python benchmarks/gnomad_join.py --sites 1000000 --queries 1000000 --vcf-records 200000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pysam

from heron.genome import CHR1_LENGTH, chrom_label
from heron.keys import variant_keys
from heron.resources.gnomad import GnomadIndex, build_gnomad_index

BASES = np.frombuffer(b"ACGT", np.uint8)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_alleles(rng: np.random.Generator, n: int, max_len: int) -> np.ndarray:
    """(n,) 'S' alleles of random length 1..max_len."""
    lengths = rng.integers(1, max_len + 1, n)
    matrix = BASES[rng.integers(0, 4, (n, max_len))]
    matrix[np.arange(max_len) >= lengths[:, None]] = 0  # NUL-padded = shorter strings
    return matrix.view(f"S{max_len}").ravel()


def synthetic_sites(rng: np.random.Generator, n: int, indel_share: float = 0.1) -> dict:
    chrom = rng.integers(1, 24, n).astype(np.int8)
    pos = rng.integers(1, 200_000_000, n)
    ref = BASES[rng.integers(0, 4, n)].view("S1").astype("S12")
    alt = BASES[rng.integers(0, 4, n)].view("S1").astype("S12")
    alt = np.where(alt == ref, np.where(ref == b"A", b"C", b"A"), alt)
    indel = rng.random(n) < indel_share
    k = int(indel.sum())
    ins = rng.random(k) < 0.5
    longer = np.char.add(ref[indel], random_alleles(rng, k, 11))
    ref[indel] = np.where(ins, ref[indel], longer)
    alt[indel] = np.where(ins, longer, ref[indel])
    return {"chrom": chrom, "pos": pos, "ref": ref, "alt": alt,
            "af": rng.random(n).astype(np.float32) * 1e-3, "ac": rng.integers(0, 500, n),
            "hom": rng.integers(0, 5, n), "hemi": np.zeros(n, np.int32),
            "grpmax_af": rng.random(n).astype(np.float32) * 2e-3}


def queries(rng: np.random.Generator, sites: dict, n: int) -> tuple[np.ndarray, ...]:
    hit = rng.choice(len(sites["pos"]), n // 2, replace=False)
    miss = n - len(hit)
    # misses: the same positions as other gnomAD alleles with a different ALT
    other = rng.choice(len(sites["pos"]), miss)
    chrom = np.concatenate([sites["chrom"][hit], sites["chrom"][other]])
    pos = np.concatenate([sites["pos"][hit], sites["pos"][other]])
    ref = np.concatenate([sites["ref"][hit], sites["ref"][other]])
    alt = np.concatenate([sites["alt"][hit], np.char.add(sites["alt"][other], b"T")])
    return chrom, pos, ref, alt


def timed(fn, *args, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def write_vcf(path: Path, sites: dict, n: int) -> None:
    """A gnomAD-v4-style sites VCF of the first n sites (sorted), with filler INFO fields so
    that records are a realistic width for the reader (gnomAD's own are wider still)."""
    order = np.lexsort((sites["pos"][:n], sites["chrom"][:n]))
    filler = ";".join(f"AC_grp{i}=1;AN_grp{i}=100;AF_grp{i}=0.01" for i in range(40))
    lines = ["##fileformat=VCFv4.2"]
    for name, kind in (("AC_joint", "Integer"), ("AF_joint", "Float"), ("nhomalt_joint", "Integer"),
                       ("nhomalt_joint_XY", "Integer"), ("AF_grpmax_joint", "Float")):
        lines.append(f'##INFO=<ID={name},Number=A,Type={kind},Description="{name}">')
    for i in range(40):
        for f, kind in (("AC", "Integer"), ("AN", "Integer"), ("AF", "Float")):
            lines.append(f'##INFO=<ID={f}_grp{i},Number=1,Type={kind},Description="filler">')
    for code in range(1, 24):
        length = CHR1_LENGTH["GRCh38"] if code == 1 else 250_000_000
        lines.append(f"##contig=<ID={chrom_label(code)},length={length}>")
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    with open(path.with_suffix(""), "w") as out:
        out.write("\n".join(lines) + "\n")
        for i in order:
            out.write(f"{chrom_label(int(sites['chrom'][i]))}\t{sites['pos'][i]}\t.\t"
                      f"{sites['ref'][i].decode()}\t{sites['alt'][i].decode()}\t.\tPASS\t"
                      f"AC_joint={sites['ac'][i]};AF_joint={sites['af'][i]:.3g};"
                      f"nhomalt_joint={sites['hom'][i]};nhomalt_joint_XY=0;"
                      f"AF_grpmax_joint={sites['grpmax_af'][i]:.3g};{filler}\n")
    pysam.tabix_compress(str(path.with_suffix("")), str(path), force=True)
    path.with_suffix("").unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--vcf-records", type=int, default=0,
                        help="also write and index a VCF of this many records (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    result: dict = {"sites": args.sites, "queries": args.queries}

    sites = synthetic_sites(rng, args.sites)
    result["peak_mb_after_sites"] = round(peak_mb())
    t = time.perf_counter()
    index = GnomadIndex.from_arrays(**sites, release="synthetic", build="GRCh38")
    result["index_build_s"] = round(time.perf_counter() - t, 2)
    result["index_rows"] = len(index)
    result["index_mb"] = round(sum(getattr(index, n).nbytes for n in (
        "key", "af", "ac", "hom", "hemi", "grpmax_af", "filter_pass", "allele_row",
        "allele_offsets", "allele_bytes")) / 2**20, 1)
    result["peak_mb_after_index"] = round(peak_mb())

    chrom, pos, ref, alt = queries(rng, sites, args.queries)
    keys = variant_keys(chrom, pos, ref, alt)
    shuffled = rng.permutation(len(keys))
    in_order = np.argsort(keys, kind="stable")
    for label, order in (("random_order", shuffled), ("key_order", in_order)):
        k, r, a = keys[order], ref[order], alt[order]
        seconds, out = timed(index.join, k, r, a)
        result[f"join_{label}_s"] = round(seconds, 3)
        result[f"join_{label}_variants_per_s"] = round(len(k) / seconds)
        result[f"found_{label}"] = int(out["found"].sum())
    result["peak_mb_after_join"] = round(peak_mb())

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        index.save(Path(tmp) / "gnomad")
        result["save_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        mapped = GnomadIndex.load(Path(tmp) / "gnomad", mmap=True)
        out = mapped.join(keys[in_order], ref[in_order], alt[in_order])
        result["load_mmap_and_join_key_order_s"] = round(time.perf_counter() - t, 3)
        result["found_mmap"] = int(out["found"].sum())
        if args.vcf_records:
            n = min(args.vcf_records, args.sites)
            vcf = Path(tmp) / "sites.vcf.bgz"
            write_vcf(vcf, sites, n)
            t = time.perf_counter()
            from_vcf = build_gnomad_index(vcf, release="synthetic")
            seconds = time.perf_counter() - t
            result["vcf_records"] = n
            result["vcf_read_s"] = round(seconds, 2)
            result["vcf_records_per_s"] = round(n / seconds)
            result["vcf_index_rows"] = len(from_vcf)
    result["peak_mb"] = round(peak_mb())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
