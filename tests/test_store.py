"""The columnar store: taking a subset of variants keeps every table pointing at the right rows."""

import numpy as np
import pandas as pd

from heron.pipeline import report_shard
from heron.store import Shard


def _shard() -> Shard:
    n, samples = 4, ["a", "b"]
    variants = {"key": np.arange(10, 10 + n, dtype=np.int64), "pos": np.arange(100, 100 + n)}
    gt = np.array([[0, 1], [1, 1], [2, 0], [1, 0]], dtype=np.int8)
    calls = {"gt": gt, "dp": np.full((n, 2), 30, np.int32)}
    # two transcripts per variant; transcript t belongs to variant t // 2
    transcripts = {"variant": np.repeat(np.arange(n), 2).astype(np.int32),
                   "name": np.array([f"T{v}.{j}" for v in range(n) for j in range(2)], "S")}
    # rows: variant 1 in two genes, each showing one of its transcripts
    rows = {"variant": np.array([0, 1, 1, 2, 3], np.int32),
            "gene": np.array([7, 7, 8, 9, 9], np.int32),
            "tx": np.array([1, 2, 3, 4, -1], np.int32)}
    return Shard(samples, "GRCh38", variants, calls, transcripts, {}, rows)


def test_take_relinks_rows_to_their_transcripts():
    small = _shard().take(np.array([1, 3]))
    assert small.variants["key"].tolist() == [11, 13]
    assert small.calls["gt"].tolist() == [[1, 1], [1, 0]]
    assert small.rows["variant"].tolist() == [0, 0, 1]
    shown = [small.transcripts["name"][t].decode() if t >= 0 else None
             for t in small.rows["tx"]]
    assert shown == ["T1.0", "T1.1", None]


def test_take_with_a_boolean_mask():
    small = _shard().take(np.array([True, False, True, False]))
    assert small.variants["pos"].tolist() == [100, 102]
    assert small.rows["gene"].tolist() == [7, 9]


def test_report_shard_keeps_candidate_variants_and_genotypes_only():
    shard = _shard()
    table = pd.DataFrame({"sample": ["a", "b", "a"], "variant": [3, 1, 1], "row": [4, 2, 1]})
    small = report_shard(shard, table)
    assert list(small.calls) == ["gt"]
    assert small.variants["key"].tolist() == [11, 13]
    # the table now points into the small shard, at the same variants and rows as before
    assert small.variants["key"][table["variant"]].tolist() == [13, 11, 11]
    assert small.rows["gene"][table["row"]].tolist() == [9, 8, 7]
    assert (small.rows["variant"][table["row"]] == table["variant"]).all()


def test_stacked_calls_read_by_index_across_shards():
    from heron.store import StackedCalls

    a = np.arange(6, dtype=np.int32).reshape(3, 2)
    b = np.arange(100, 104, dtype=np.int32).reshape(2, 2)
    stacked = StackedCalls([a, b])
    whole = np.concatenate([a, b])
    variant = np.array([4, 0, 3, 2, 4])
    sample = np.array([1, 0, 0, 1, 0])
    assert stacked.shape == (5, 2)
    assert stacked[variant, sample].tolist() == whole[variant, sample].tolist()
    # a scalar sample broadcasts against the variants, as for one parent of many calls
    assert stacked[variant, 1].tolist() == whole[variant, 1].tolist()
    assert stacked[np.zeros(0, int), np.zeros(0, int)].shape == (0,)


def test_calls_are_saved_in_the_narrowest_type_and_read_back_exactly(tmp_path):
    shard = _shard()
    shard.calls["dp"] = np.array([[30, 20000], [-1, 5], [7, 8], [9, 10]], np.int32)
    shard.calls["ps"] = np.zeros((4, 2), np.int32)
    shard.calls["ad_alt"] = np.array([[70000, 1], [0, 0], [0, 0], [0, 0]], np.int32)
    back = Shard.load(shard.save(tmp_path / "s"))
    assert back.calls["ps"].dtype == np.int8
    # 20,000 fits int16, but a sum of two would not: it stays int32, values exact
    assert back.calls["dp"].dtype == np.int32 and back.calls["ad_alt"].dtype == np.int32
    for name in shard.calls:
        assert (back.calls[name] == shard.calls[name]).all()
    small = _shard()
    small.calls["dp"] = np.full((4, 2), 12000, np.int32)
    assert Shard.load(small.save(tmp_path / "t")).calls["dp"].dtype == np.int16


def test_stacked_calls_of_different_widths_keep_every_value():
    from heron.store import StackedCalls

    stacked = StackedCalls([np.array([[1, 2]], np.int8), np.array([[30000, 4]], np.int32)])
    assert stacked[np.array([0, 1]), np.array([1, 0])].tolist() == [2, 30000]


def test_save_links_the_readers_call_files_and_writes_changed_arrays(tmp_path):
    import os

    from heron.ingest.fastparse import CallMatrices

    matrices = CallMatrices(2, 1, folder=tmp_path)
    matrices.reserve(3)  # grows: each matrix moves to a new file, the old one goes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f.name for f in matrices.files.values())
    for name, arr in matrices.arrays.items():
        arr[:3] = [[1, 0], [0, 1], [1, 1]] if arr.dtype == np.int8 else \
            [[300, 20], [0, 5], [40, 60]]
    matrices.rows = 3
    calls = matrices.finish()
    # cut to the rows read: each file is exactly its array
    assert calls["dp"].shape == (3, 2) and np.load(matrices.files["dp"]).shape == (3, 2)
    shard = Shard(["a", "b"], "GRCh38", {"key": np.arange(3, dtype=np.int64)}, calls)
    shard.files = {k: (a, matrices.files[k]) for k, a in calls.items()}
    shard.calls["ad_ref"] = calls["ad_ref"].copy()  # no longer the file's array
    out = shard.save(tmp_path / "shard")

    def same_file(a, b):
        return os.stat(a).st_ino == os.stat(b).st_ino

    assert same_file(out / "calls" / "dp.npy", matrices.files["dp"])  # linked, not written
    assert not same_file(out / "calls" / "ad_ref.npy", matrices.files["ad_ref"])
    # ps is read as int32 but fits int16: the narrowed array is written, not the file
    assert not same_file(out / "calls" / "ps.npy", matrices.files["ps"])
    back = Shard.load(out)
    assert back.calls["dp"].tolist() == [[300, 20], [0, 5], [40, 60]]
    assert back.calls["ad_ref"].tolist() == back.calls["dp"].tolist()
    assert back.calls["ps"].dtype == np.int16 and back.calls["ps"].tolist() == \
        back.calls["dp"].tolist()
    assert back.calls["gt"].tolist() == [[1, 0], [0, 1], [1, 1]]


def test_saved_shards_are_readable_by_the_group_and_others(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = _shard().save(tmp_path / "s")
    finally:
        os.umask(old)
    # a shared cluster's other users read the store (tempfile alone would make it 0700)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "calls" / "gt.npy").stat().st_mode) == 0o644


def test_mapped_file_reads_like_the_array(tmp_path):
    from heron.store import MappedFile, StackedCalls

    arr = np.arange(24, dtype=np.int16).reshape(6, 4)
    np.save(tmp_path / "dp.npy", arr)
    mapped = MappedFile(tmp_path / "dp.npy")
    assert (len(mapped), mapped.shape, mapped.dtype) == (6, (6, 4), np.int16)
    rows, cols = np.array([5, 0, 2]), np.array([1, 3, 0])
    assert mapped[rows, cols].tolist() == arr[rows, cols].tolist()
    # as a part of stacked calls restricted to some rows, as prioritise reads a store
    stacked = StackedCalls([mapped], rows=[np.array([1, 4])])
    assert stacked[np.array([0, 1]), np.array([2, 2])].tolist() == [6, 18]
    assert np.asarray(stacked).tolist() == arr[[1, 4]].tolist()
