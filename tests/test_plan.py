"""The shard plan: packed small contigs, shards bounded by variants and by calls."""

from __future__ import annotations

import pysam

from heron.config import HeronConfig
from heron.ingest.vcf import parse_shard
from heron.pipeline import plan_shards


def _vcf(path, contigs: dict[str, int], n_samples: int) -> str:
    header = ["##fileformat=VCFv4.2"]
    header += [f"##contig=<ID={c},length=50000000>" for c in contigs]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
               "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                          "FORMAT"] + [f"s{i}" for i in range(n_samples)])]
    calls = "\t".join(["0/0"] * n_samples)
    body = [f"{c}\t{1000 + 10 * i}\t.\tA\tG\t50\tPASS\t.\tGT\t{calls}"
            for c, n in contigs.items() for i in range(n)]
    path.write_text("\n".join(header + body) + "\n")
    return pysam.tabix_index(str(path), preset="vcf", force=True)


def _config(vcf: str, **ingest) -> HeronConfig:
    return HeronConfig.model_validate({"cohort": {"vcfs": [vcf]}, "ingest": ingest})


def test_small_contigs_share_a_shard_and_calls_cap_its_size(tmp_path):
    vcf = _vcf(tmp_path / "c.vcf", {"chr1": 2500, "chr21": 300, "chr22": 200}, 600)
    # 3,000 records fit 200k variants: one shard of all three contigs
    assert plan_shards(_config(vcf)) == ["chr1,chr21,chr22"]
    # 1M calls / 600 samples = 1,666 variants per shard: chr1 is cut in two halves of 1,250,
    # the second shared with chr21 (1,550), then chr22
    shards = [parse_shard(s) for s in plan_shards(_config(vcf, shard_calls=1_000_000))]
    assert [[r.contig for r in rs] for rs in shards] == [["chr1"], ["chr1", "chr21"], ["chr22"]]
    assert shards[0][0].end + 1 == shards[1][0].start


def test_batch_vcfs_count_their_records_together(tmp_path):
    a = _vcf(tmp_path / "a.vcf", {"chr2": 700}, 2)
    b = _vcf(tmp_path / "b.vcf", {"chr2": 700}, 2)
    # each file alone fits 1,000 variants; merged they may hold 1,400: chr2 is cut in two
    assert len(plan_shards(_config(a, shard_variants=1000))) == 1
    both = HeronConfig.model_validate({"cohort": {"vcfs": [a, b]},
                                       "ingest": {"shard_variants": 1000}})
    assert len(plan_shards(both)) == 2
