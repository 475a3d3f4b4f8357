"""The columnar variant store: what a shard is on disk and in memory.

A shard is a folder of aligned numpy arrays, one ``.npy`` per array, memory-mappable, plus a
``meta.json``. Three tables share the variant axis:

``variants`` (n_variants,)
    chrom int8 (heron.genome codes), pos int32 (1-based), ref/alt bytes ``S``, key int64
    (heron.keys), filter_pass bool, ac int32 / an int32 (callset, from the genotypes),
    alt_index int16 (1-based ALT number in the original record), plus one float32 array per
    kept numeric INFO field (``info.<name>``, NaN when missing) and one bytes array per string
    INFO field (``info.<name>``).
``calls`` (n_variants, n_samples)
    gt int8 (alt-allele count 0/1/2, -1 missing; a haploid alt call is 2), gq int16, dp int32,
    ad_ref int32, ad_alt int32 (-1 missing in all four), phase int8 (0 unphased or not het,
    1 alt on the first haplotype, 2 alt on the second), ps int32 (phase set, 0 none). On disk
    each is the narrowest signed integer type holding twice its largest value (so sums of two
    stay exact): depths of an exome are int16, an unphased file's ps int8 — 11 bytes a call
    instead of 20, which is what ingest writes and every later stage reads.
``transcripts`` (n_transcripts,) — parsed by ingest from the consequence INFO field (whose
    raw text is then dropped); annotate copies it into its output and fills AlphaMissense
    scores there. variant int32 (row into ``variants``) and the consequence columns
    (heron.annotate.csq).
``rows`` (n_rows,) — filled by classify
    variant int32, gene int32 and the categories and filters of each variant × gene. A
    classified shard holds no calls; ``variants["store_row"]`` int32 gives each variant's row
    in the store shard it came from (:func:`attach_calls`).

Writes are atomic: a shard is built in a temporary sibling folder and renamed into place, so a
failed run never leaves a half-written shard that a later run could mistake for a good one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heron.staging import staging_dir

STORE_VERSION = 1
TABLES = ("variants", "calls", "transcripts", "rows")

CALL_FIELDS = {"gt": np.int8, "gq": np.int16, "dp": np.int32, "ad_ref": np.int32,
               "ad_alt": np.int32, "phase": np.int8, "ps": np.int32}


@dataclass
class Shard:
    """Aligned arrays of one genomic region; see the module docstring for the layout."""

    samples: list[str]
    build: str
    variants: dict[str, np.ndarray]
    calls: dict[str, np.ndarray]
    transcripts: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    # call matrices that already are .npy files (the compiled reader writes them so):
    # name -> (that array, its file); save links the file while the shard holds that array
    files: dict[str, tuple[np.ndarray, Path]] = field(default_factory=dict, repr=False,
                                                       compare=False)

    @property
    def n_variants(self) -> int:
        return len(self.variants["key"])

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def take(self, index: np.ndarray) -> "Shard":
        """A shard of the variants at ``index`` (int or bool array); transcripts are re-linked."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index)
        variants = {k: v[index] for k, v in self.variants.items()}
        calls = {k: v[index] for k, v in self.calls.items()}
        new_row = np.full(self.n_variants, -1, dtype=np.int64)
        new_row[index] = np.arange(len(index))
        linked, kept = {}, {}
        for table in ("transcripts", "rows"):
            old = getattr(self, table)
            if not old:
                linked[table] = {}
                continue
            kept[table] = np.flatnonzero(new_row[old["variant"]] >= 0)
            linked[table] = {k: v[kept[table]] for k, v in old.items()}
            linked[table]["variant"] = new_row[linked[table]["variant"]].astype(np.int32)
        if "tx" in linked["rows"] and "transcripts" in kept:
            # a row's shown transcript belongs to the row's variant, so it is kept too
            tx = linked["rows"]["tx"]
            linked["rows"]["tx"] = np.where(
                tx >= 0, np.searchsorted(kept["transcripts"], tx), -1).astype(tx.dtype)
        return Shard(self.samples, self.build, variants, calls, linked["transcripts"],
                     dict(self.meta), linked["rows"])

    def save(self, path: str | Path) -> Path:
        """Write the shard to the folder ``path`` atomically (replacing an older one)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = staging_dir(path.parent, prefix=f".{path.name}.")
        try:
            for table in TABLES:
                (tmp / table).mkdir()
                for name, arr in getattr(self, table).items():
                    target = tmp / table / f"{name}.npy"
                    if table == "calls":
                        arr = narrowest(arr)
                        if self._link_file(name, arr, target):
                            continue
                    np.save(target, np.ascontiguousarray(arr), allow_pickle=False)
            meta = dict(self.meta, store_version=STORE_VERSION, samples=self.samples,
                        build=self.build, n_variants=self.n_variants)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    def _link_file(self, name: str, arr: np.ndarray, target: Path) -> bool:
        """Put the file of call matrix ``name`` at ``target`` when ``arr`` is the very array
        of that file (not a copy, a slice or a narrowed version): linked, or copied across
        file systems. False when there is no such file."""
        held = self.files.get(name)
        if held is None or held[0] is not arr:
            return False
        if isinstance(arr, np.memmap):
            arr.flush()
        try:
            os.link(held[1], target)
        except OSError:
            shutil.copyfile(held[1], target)
        return True

    @classmethod
    def load(cls, path: str | Path, mmap: bool = False,
             tables: tuple[str, ...] = TABLES) -> "Shard":
        """Read a shard folder; ``mmap`` maps the arrays instead of reading them."""
        path = Path(path)
        meta_file = path / "meta.json"
        if not meta_file.exists():
            from heron.errors import InputError
            raise InputError("not a heron shard (no meta.json)", path=str(path),
                             hint="run `heron ingest` to create it")
        meta = json.loads(meta_file.read_text())
        mode = "r" if mmap else None
        loaded = {t: {} for t in TABLES}
        for table in tables:
            folder = path / table
            for f in sorted(folder.glob("*.npy")) if folder.exists() else []:
                loaded[table][f.stem] = np.load(f, mmap_mode=mode, allow_pickle=False)
        samples, build = meta.pop("samples"), meta.pop("build")
        return cls(samples, build, loaded["variants"], loaded["calls"], loaded["transcripts"],
                   meta, loaded["rows"])


def narrowest(arr: np.ndarray) -> np.ndarray:
    """``arr`` (signed integers) in the narrowest signed integer type that holds twice its
    largest and its smallest value; other arrays unchanged."""
    if arr.dtype.kind != "i" or arr.size == 0:
        return arr
    low, high = int(arr.min()), int(arr.max())
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and 2 * high <= info.max:
            return arr if dtype == arr.dtype else arr.astype(dtype)
    return arr


class StackedCalls:
    """Call arrays of several shards stacked along the variant axis, optionally restricted to
    some rows of each array and to some sample columns, without copying them.

    Reading is by paired integer indices only, ``stacked[variant, sample]`` (broadcastable int
    arrays, ``variant`` counted in the stacked rows, ``sample`` in ``columns``), which is how
    the inheritance models read every call field but the genotype: each index is looked up in
    the (memory-mapped) array that holds it, so stacking a cohort's shards costs no more memory
    than the calls actually read. ``rows`` (one int array or None per part) says which rows of
    a part are stacked: a classified shard's variants are a subset of its store's rows.
    """

    def __init__(self, parts: list, columns: np.ndarray | None = None,
                 rows: list[np.ndarray | None] | None = None):
        rows = list(rows) if rows is not None else [None] * len(parts)
        flat_parts, flat_rows = [], []
        for part, row in zip(parts, rows):
            if isinstance(part, StackedCalls):  # stacking stacks: keep one level
                if part.columns is not None or row is not None:
                    raise ValueError("only whole StackedCalls can be stacked again")
                flat_parts.extend(part.parts)
                flat_rows.extend(part.rows)
            else:
                flat_parts.append(part)
                flat_rows.append(None if row is None else np.asarray(row, dtype=np.int64))
        self.parts, self.rows = flat_parts, flat_rows
        self.columns = None if columns is None else np.asarray(columns, dtype=np.int64)
        self.offsets = np.cumsum([0] + [len(p) if r is None else len(r)
                                        for p, r in zip(self.parts, self.rows)])
        # shards may be saved in different widths
        self.dtype = np.result_type(*(p.dtype for p in self.parts))
        width = self.parts[0].shape[1] if self.columns is None else len(self.columns)
        self.shape = (int(self.offsets[-1]), width)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        rows, cols = np.broadcast_arrays(*(np.asarray(k, dtype=np.int64) for k in key))
        if self.columns is not None:
            cols = self.columns[cols]
        out = np.empty(rows.shape, dtype=self.dtype)
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        for i, (arr, row_map) in enumerate(zip(self.parts, self.rows)):
            mine = part == i
            if mine.any():
                local = rows[mine] - self.offsets[i]
                out[mine] = arr[local if row_map is None else row_map[local], cols[mine]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every call of the view as one ``shape`` array (copies; for small shards and tests)."""
        blocks = []
        for arr, row_map in zip(self.parts, self.rows):
            block = np.asarray(arr[slice(None) if row_map is None else row_map])
            blocks.append(block if self.columns is None else block[:, self.columns])
        out = np.concatenate(blocks).astype(self.dtype, copy=False)
        return out if dtype is None else out.astype(dtype, copy=False)

    def select(self, columns: np.ndarray) -> "StackedCalls":
        """The same calls restricted to ``columns`` (int, counted in this view's samples)."""
        columns = np.asarray(columns, dtype=np.int64)
        return StackedCalls(self.parts, columns if self.columns is None else self.columns[columns],
                            self.rows)


def attach_calls(classified: Shard, store: Shard, path: str | Path | None = None) -> Shard:
    """``classified`` (which holds no calls, only ``variants["store_row"]``, its rows in the
    store it was classified from) with the calls of those rows of ``store``: the genotypes
    gathered (int8 ``(n_variants, n_samples)``; the models read them all), every other field
    a :class:`StackedCalls` view read by index. ``path`` names the store in errors."""
    from heron.errors import InputError

    rows = np.asarray(classified.variants["store_row"], dtype=np.int64)
    if (classified.samples != store.samples or (rows >= store.n_variants).any()
            or not np.array_equal(store.variants["key"][rows], classified.variants["key"])):
        raise InputError("the classified shard was not made from this store (samples or "
                         "variant keys differ)",
                         path=None if path is None else str(path),
                         hint="give each classified shard with the store shard it was "
                              "classified from, or re-run `heron classify`")
    calls = {name: np.asarray(arr[rows]) if name == "gt" else
             StackedCalls([MappedFile(arr.filename) if isinstance(arr, np.memmap) and
                           arr.filename else arr], rows=[rows])
             for name, arr in store.calls.items()}
    return dataclasses.replace(classified, calls=calls)


class MappedFile:
    """A 2-D .npy file read by paired integer indices, mapped only while a read lasts.

    The models read a few scattered calls of each field at a time; a mapping kept open would
    keep every page it touched (and the neighbours the kernel maps with them) in the process's
    resident set, up to the whole store. The pages stay in the page cache, so mapping again
    is cheap."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        mapped = np.load(self.path, mmap_mode="r")  # reads the header, touches no data
        self.shape, self.dtype = mapped.shape, mapped.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r")
        # a copy, so that nothing refers to the mapping once it is dropped here
        return np.array(mapped[key])


def sample_subset(shard: Shard, samples: list[str]) -> Shard:
    """A view of ``shard`` with only ``samples`` (each in ``shard.samples``): genotypes are
    copied for those columns, every other call field is a :class:`StackedCalls` view."""
    position = {s: i for i, s in enumerate(shard.samples)}
    columns = np.array([position[s] for s in samples], dtype=np.int64)
    calls = {}
    for name, arr in shard.calls.items():
        if name == "gt":
            calls[name] = np.asarray(arr[:, columns])
        elif isinstance(arr, StackedCalls):
            calls[name] = arr.select(columns)
        else:
            calls[name] = StackedCalls([arr], columns)
    return Shard(list(samples), shard.build, shard.variants, calls, shard.transcripts,
                 dict(shard.meta), shard.rows)


def decode(arr: np.ndarray) -> list[str]:
    """Bytes array → list of str (for reports and messages, never for the core)."""
    return [x.decode() if isinstance(x, bytes) else str(x) for x in arr.tolist()]
