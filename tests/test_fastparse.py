"""The compiled VCF reader gives exactly the call arrays of heron's cyvcf2 reader, or falls back."""

from __future__ import annotations

from pathlib import Path

import cyvcf2
import numpy as np
import pytest

from heron.ingest import vcf as reader
from heron.ingest.fastparse import (FALLBACK, PARSED, READ_DTYPES, Unsupported, format_fields,
                                    read_calls)
from heron.store import CALL_FIELDS

DATA = Path(__file__).resolve().parent / "data" / "fastparse"
SHARED_VCFS = ("chr22.vcf.gz", "exomiser_Pfeiffer.b37.vcf.gz",
               "giab_ashk_trio.b37.first10k.vcf.gz", "hapmap_exome_chr22.vcf.gz",
               "scout_643594_trio.vep.b37.vcf.gz", "scout_vep104_annotated.b37.vcf.gz",
               "scout_vep97_clnsig_revel.b37.vcf.gz")


def cyvcf2_rows(path: Path, samples: list[str] | None = None):
    """Rows of heron's reader (``_add_record``) in file order, and the rows of each record."""
    vcf = cyvcf2.VCF(str(path), lazy=True, threads=1)
    if samples is not None:
        vcf.set_samples(samples)
    n = len(samples) if samples is not None else len(vcf.samples)
    present = {f for f in ("AD", "DP", "GQ", "PS") if reader._has_header(vcf, "FORMAT", f)}
    cols = reader._Columns(n, [], [])
    per_record = []
    for record in vcf:
        before = cols.rows
        reader._add_record(record, 1, cols, n, present, {})
        per_record.append(cols.rows - before)
    vcf.close()
    cols.flush()
    rows = {k: np.concatenate([c[k] for c in cols.done]) for k in cols.done[0]}
    return rows, np.asarray(per_record, dtype=np.int64)


def assert_same_as_reader(path: Path, parsed, samples: list[str] | None = None) -> None:
    """Every row of a PARSED record equals the reader's row, value and dtype."""
    rows, per_record = cyvcf2_rows(path, samples)
    assert len(parsed.status) == len(per_record)
    record_of_row = np.repeat(np.arange(len(per_record)), per_record)
    mine = (parsed.status == PARSED)[record_of_row]
    np.testing.assert_array_equal(parsed.record, record_of_row[mine])
    np.testing.assert_array_equal(parsed.alt_index, rows["alt_index"][mine])
    np.testing.assert_array_equal(parsed.ac, rows["ac"][mine])
    np.testing.assert_array_equal(parsed.an, rows["an"][mine])
    for name, dtype in CALL_FIELDS.items():
        got, want = parsed.calls[name], rows[f"call.{name}"][mine]
        assert got.dtype in (np.dtype(dtype), np.dtype(READ_DTYPES[name])), name
        np.testing.assert_array_equal(got, want, err_msg=f"{path.name}: {name}")


@pytest.mark.parametrize("name", SHARED_VCFS)
def test_equal_to_the_cyvcf2_reader_on_real_vcfs(shared_data, name):
    path = shared_data / "vcf" / name
    parsed = read_calls(path)
    assert parsed.fallback == 0
    assert len(parsed.record) > 0
    assert_same_as_reader(path, parsed)


def test_common_layouts_parse_without_fallback():
    # phased with and without PS, haploid and mixed ploidy, '.', './.', './1', trailing
    # dropped fields, multi-allelic with '*' and <NON_REF>, ALT '.', FORMAT in another order,
    # GT only, GQ above the int16 range
    path = DATA / "common_layouts.vcf"
    parsed = read_calls(path)
    assert parsed.fallback == 0
    assert_same_as_reader(path, parsed)
    # the haploid alt call counts 2, the haploid ref call 0, the bare '.' is missing
    x = parsed.record == 4
    np.testing.assert_array_equal(parsed.calls["gt"][x][0], [2, 0, -1, 0])


def test_unrecognised_records_fall_back_whole():
    # triploid, negative depth, a 10-digit number, an empty subfield, an allele beyond the ALTs
    path = DATA / "fallback_records.vcf"
    parsed = read_calls(path)
    np.testing.assert_array_equal(parsed.status, [PARSED] + [FALLBACK] * 5 + [PARSED])
    np.testing.assert_array_equal(parsed.record, [0, 6])
    assert parsed.line[1].startswith(b"chr1\t200\t") and parsed.line[0] is None
    assert_same_as_reader(path, parsed)


def test_scanner_reads_long_numbers_many_alleles_and_odd_layouts():
    # numbers of 4 to 9 digits and with leading zeros (read byte by byte, not four at
    # once), '.' inside AD, AD shorter and longer than the alleles, two-digit alleles, text
    # and list fields after GQ, dropped trailing fields, GT not first, and a haploid call
    # and a short number as the file's last bytes
    path = DATA / "scanner_edges.vcf"
    parsed = read_calls(path)
    assert parsed.fallback == 0
    assert_same_as_reader(path, parsed)
    first = parsed.record == 0
    assert parsed.calls["ad_alt"][first][0].tolist() == [56789, 0, 1000]
    assert parsed.calls["dp"][first][0].tolist() == [58023, 123456789, 1000]
    eleventh = (parsed.record == 2) & (parsed.alt_index == 11)
    assert parsed.calls["gt"][eleventh][0].tolist() == [1, 0, 1]


def test_scanner_sends_whole_records_it_does_not_take_to_cyvcf2():
    # each odd sample sits between good records: an empty AD element, a signed DP, two DP
    # values, an allele beyond the ALTs, an empty subfield, a negative AD, a triploid call
    path = DATA / "scanner_fallbacks.vcf"
    parsed = read_calls(path)
    np.testing.assert_array_equal(parsed.status, [FALLBACK, PARSED] * 7)
    assert_same_as_reader(path, parsed)


def test_float_typed_quality_and_depth_keep_the_whole_part():
    # up to 7 significant digits are cut to their whole part as htslib's float32 is; 8
    # digits and a bare trailing point go to cyvcf2
    path = DATA / "float_depths.vcf"
    parsed = read_calls(path)
    np.testing.assert_array_equal(parsed.status, [PARSED, PARSED, FALLBACK, FALLBACK, PARSED])
    assert_same_as_reader(path, parsed)
    assert parsed.calls["gq"][0].tolist() == [14, 99, 3]
    assert parsed.calls["dp"][0].tolist() == [11, 9, 4]


def test_sample_subset_and_order():
    path = DATA / "common_layouts.vcf"
    subset = read_calls(path, samples=["s1", "s3", "s4"])
    assert_same_as_reader(path, subset, ["s1", "s3", "s4"])
    # columns follow the order asked for (cyvcf2's set_samples keeps the file's order)
    reordered = read_calls(path, samples=["s4", "s1", "s3"])
    assert reordered.samples == ["s4", "s1", "s3"]
    for name in CALL_FIELDS:
        np.testing.assert_array_equal(reordered.calls[name], subset.calls[name][:, [2, 0, 1]])
    np.testing.assert_array_equal(reordered.ac, subset.ac)


def test_lines_split_across_blocks_parse_the_same(shared_data):
    path = shared_data / "vcf" / "hapmap_exome_chr22.vcf.gz"
    whole, pieces = read_calls(path), read_calls(path, block_bytes=1000)
    np.testing.assert_array_equal(whole.record, pieces.record)
    for name in CALL_FIELDS:
        np.testing.assert_array_equal(whole.calls[name], pieces.calls[name])
    np.testing.assert_array_equal(whole.status, pieces.status)
    assert whole.line.tolist() == pieces.line.tolist()


def test_sites_only_file_has_rows_without_samples():
    parsed = read_calls(DATA / "sites_only.vcf")
    np.testing.assert_array_equal(parsed.alt_index, [1, 1, 2])
    np.testing.assert_array_equal(parsed.n_alts, [1, 2, 0])
    assert parsed.calls["gt"].shape == (3, 0)


def test_header_types_that_are_not_numbers_are_refused():
    header = '##FORMAT=<ID=GQ,Number=1,Type=String,Description="q">\n#CHROM\tPOS'
    with pytest.raises(Unsupported, match="GQ"):
        format_fields(header)
    digits = format_fields('##FORMAT=<ID=DP,Number=1,Type=Float,Description="d">\n')
    np.testing.assert_array_equal(digits, [0, 7, 0, 0])


def test_region_text_parses_as_the_same_records_of_the_whole_file(vcf_fixture):
    from heron.ingest.fastparse import SKIPPED, iter_blocks

    path = vcf_fixture("fallback_and_info.vcf")
    whole = read_calls(path)
    assert whole.line[0] is None and whole.line[1].startswith(b"chr1\t100\t")
    # chr1 is records 0-4 of the file; small blocks cut the region's text into several; the
    # text read through the index may run on into chr2, whose records are SKIPPED
    parts = list(iter_blocks(path, region=("chr1", None, None), block_bytes=200))
    assert len(parts) > 1
    status = np.concatenate([p.status for p in parts])
    np.testing.assert_array_equal(status[:5], whole.status[:5])
    assert (status[5:] == SKIPPED).all()
    rows = whole.record < 5
    np.testing.assert_array_equal(np.concatenate([p.record for p in parts]), whole.record[rows])
    for name in CALL_FIELDS:
        np.testing.assert_array_equal(np.concatenate([p.calls[name] for p in parts]),
                                      whole.calls[name][rows])
    # a stretch of chr1: only records starting in it have rows; a contig without records and
    # an absent one give nothing
    stretch = list(iter_blocks(path, region=("chr1", 120, 199)))
    assert np.unique(stretch[0].record).tolist() == [2]
    assert stretch[0].status[:2].tolist() == [SKIPPED, SKIPPED]
    assert stretch[0].line[3].startswith(b"chr1\t150\t")
    assert list(iter_blocks(path, region=("chrX", None, None))) == []
    assert list(iter_blocks(path, region=("chr9", 1, 100))) == []


def test_a_fresh_process_loads_the_kernels_from_the_cache(tmp_path):
    import json
    import subprocess
    import sys

    code = (
        "import json\n"
        "from heron.ingest import fastparse as f\n"
        f"f.read_calls({str(DATA / 'common_layouts.vcf')!r})\n"
        "print(json.dumps({k: [sum(getattr(f, k).stats.cache_hits.values()),\n"
        "                      sum(getattr(f, k).stats.cache_misses.values())]\n"
        "                  for k in ('_lines', '_columns', '_sites', '_parse', '_gather')}))\n")
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                      capture_output=True, text=True).stdout)
            for _ in range(2)]
    # the first run may compile (a changed source); the second must find every kernel cached
    assert all(hits >= 1 and misses == 0 for hits, misses in runs[1].values()), runs


def test_site_columns_and_info_values_parse_or_fall_back():
    from heron.ingest.fastparse import (PRIMARY_CONTIGS, SKIPPED, CallMatrices, Contigs, Fields,
                                        header_text, parse_block)

    path = DATA / "info_values.vcf"
    header = header_text(path)
    fields = Fields.from_header(header, None, ["AF1", "AFA", "ACA", "RC", "DB"],
                                ["NOTE", "TAGS", "ANY", "CH"])
    contigs = Contigs(header)
    out = CallMatrices(fields.n_out, 4)  # grows
    block = parse_block(np.fromfile(path, np.uint8), fields, contigs, out, 0, PRIMARY_CONTIGS)
    # a key given twice and a QUAL of nan go to cyvcf2; the unplaced contig is skipped; chr3,
    # not in the header, is added to the contig table
    np.testing.assert_array_equal(block.status, [PARSED] * 4 + [FALLBACK] * 2 +
                                  [PARSED, SKIPPED, PARSED, PARSED])
    assert "chr3" in contigs.names and out.rows == len(block.record) == 11
    v = block.values
    first = block.record == 0
    assert v["info.AF1"][first][0] == np.float32(1.87e-06) and block.qual[first][0] == 1000
    assert v["info.DB"][first][0] == 1 and v["info.NOTE"][first][0] == b"."
    # AT > A, ATT, *: '*' has no row (nor a shared first base: VEP alleles as they are);
    # '.' elements of lists are missing
    rows = np.flatnonzero(block.record == 1)
    assert v["ref"][rows].tolist() == [b"AT", b"A"] and v["alt"][rows].tolist() == [b"A", b"AT"]
    assert v["vep_allele"][rows].tolist() == [b"A", b"ATT"]
    assert np.isnan(v["info.AFA"][rows[0]]) and v["info.AFA"][rows[1]] == np.float32(0.5)
    assert v["info.TAGS"][rows].tolist() == [b"", b"y"] and v["info.ANY"][rows[0]] == b"."
    # CAG > CTG, C: trimmed to A > T one base on; the deletion's VEP allele is '-'
    rows = np.flatnonzero(block.record == 3)
    assert v["ref"][rows].tolist() == [b"A", b"CAG"] and block.pos[rows].tolist() == [131, 130]
    assert v["vep_allele"][rows].tolist() == [b"TG", b"-"] and (block.qual[rows] == -1).all()
    # FILTER with two values fails, '.' passes; one value of a per-ALT number is shared
    rows = np.flatnonzero(block.record == 2)
    assert not block.filter_pass[rows].any() and block.filter_pass[block.record == 1].all()
    np.testing.assert_array_equal(v["info.AFA"][rows], np.float32([1e-3, 1e-3]))
    np.testing.assert_array_equal(v["info.ACA"][rows], [-2, 7])


def test_matrices_start_narrow_and_widen_when_a_later_block_needs_it():
    from heron.ingest.fastparse import (ALL_CONTIGS, CallMatrices, Contigs, Fields,
                                        header_text, parse_block)
    from heron.store import narrowest

    path = DATA / "common_layouts.vcf"
    header = header_text(path)
    fields = Fields.from_header(header, None, [], [])
    out = CallMatrices(fields.n_out, 4)
    n = fields.n_out
    line = "chr1\t{}\t.\tA\tG\t50\tPASS\t.\tGT:AD:DP:GQ" + "\t0/1:{},{}:{}:{}" * n + "\n"
    small = line.format(100, *[3, 4, 7, 20] * n).encode()
    deep = line.format(200, *[16000, 17000, 33000, 99] * n).encode()
    contigs = Contigs(header)
    parse_block(np.frombuffer(small, np.uint8), fields, contigs, out, 0, ALL_CONTIGS)
    assert out.arrays["dp"].dtype == np.int16 and out.arrays["gq"].dtype == np.int16
    parse_block(np.frombuffer(deep, np.uint8), fields, contigs, out, 1, ALL_CONTIGS)
    calls = out.taken()
    # AD and DP no longer fit twice in int16: widened, the first block's rows kept
    assert calls["ad_ref"].dtype == calls["ad_alt"].dtype == calls["dp"].dtype == np.int32
    assert calls["gq"].dtype == np.int16 and calls["gt"].dtype == np.int8
    assert calls["dp"][:, 0].tolist() == [7, 33000]
    assert calls["ad_alt"][:, 0].tolist() == [4, 17000]
    # no value is more than half its type's maximum, so the store never widens a matrix
    assert all(narrowest(m).itemsize <= m.itemsize for m in calls.values())
    # rows read by cyvcf2 (in the store's types) widen the same way
    cyvcf2_rows = {k: np.full((1, n), 20000 if k == "dp" else 1, t)
                   for k, t in CALL_FIELDS.items()}
    other = CallMatrices(n, 1)
    other.append(cyvcf2_rows)
    other.append(cyvcf2_rows)
    assert other.arrays["dp"].dtype == np.int32 and other.arrays["ad_ref"].dtype == np.int16
    assert other.taken()["dp"][:, 0].tolist() == [20000, 20000]
