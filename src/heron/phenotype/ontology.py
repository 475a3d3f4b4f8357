"""The Human Phenotype Ontology as arrays.

``hp.obo`` is parsed straight into numpy arrays (no per-term objects). Terms are addressed by a
dense *term index* ``0..n_terms-1``, the position of the term in :attr:`Ontology.ids`, which holds
the numeric part of each HPO id (``HP:0001234`` → ``1234``) sorted ascending.

Graph structure is stored as CSR pairs ``(indptr, indices)``: the members of row ``i`` are
``indices[indptr[i]:indptr[i + 1]]``. ``indptr`` is int64 of shape ``(n_terms + 1,)``, ``indices``
is int32 of term indices, sorted ascending within each row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from heron.errors import InputError
from heron.staging import through_cache

#: The root of the whole HPO ("All").
ROOT = "HP:0000001"
#: The root of the phenotype sub-ontology ("Phenotypic abnormality").
PHENOTYPIC_ABNORMALITY = "HP:0000118"

_CURIE = re.compile(r"^\s*HP[:_](\d{1,7})\s*$", re.IGNORECASE)


def parse_hpo_id(value: str | int) -> int | None:
    """``"HP:0001234"`` (or ``"HP_0001234"``, or an int) → ``1234``; ``None`` when malformed."""
    if isinstance(value, (int, np.integer)):
        return int(value) if value >= 0 else None
    match = _CURIE.match(str(value))
    return int(match.group(1)) if match else None


def format_hpo_id(number: int) -> str:
    """``1234`` → ``"HP:0001234"``."""
    return f"HP:{int(number):07d}"


def csr_gather(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the CSR rows ``rows`` without a Python loop.

    Args:
        indptr: int64 ``(n_rows + 1,)``.
        indices: ``(nnz,)`` any dtype.
        rows: int ``(k,)`` row numbers, repeats allowed.

    Returns:
        ``(pos, values)``: int64 ``(m,)`` position in ``rows`` each value came from, and the values
        ``(m,)`` (dtype of ``indices``), row after row in the order of ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    pos = np.repeat(np.arange(rows.size, dtype=np.int64), lengths)
    offsets = np.arange(pos.size, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pos, indices[np.repeat(starts, lengths) + offsets]


def pairs_to_csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique ``(row, col)`` pairs → CSR ``(indptr int64 (n_rows+1,), indices int32 (nnz,))``,
    columns sorted ascending within each row."""
    keys = sorted_unique(rows.astype(np.int64) * n_cols + cols.astype(np.int64))
    counts = np.bincount(keys // n_cols, minlength=n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, (keys % n_cols).astype(np.int32)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Ascending unique values of a 1-D array (sort-based: faster than ``np.unique`` on
    integer keys with many distinct values)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


@dataclass(frozen=True)
class Resolution:
    """Result of :meth:`Ontology.resolve`.

    Attributes:
        index: int32 ``(k,)`` current term index per input id, ``-1`` where unknown.
        unknown: the input ids (as given, de-duplicated, in input order) that could not be mapped:
            malformed, absent from the ontology, or obsolete without a ``replaced_by``.
    """

    index: np.ndarray
    unknown: list[str]


class Ontology:
    """HPO terms and their ``is_a`` graph as arrays.

    Attributes:
        release: ``data-version`` of the obo file (e.g. ``hp/releases/2025-01-16``), or ``""``.
        ids: int32 ``(n_terms,)`` numeric HPO ids, sorted ascending; position = term index.
        names: object ``(n_terms,)`` term names (str).
        obsolete: bool ``(n_terms,)``.
        replaced_by: int32 ``(n_terms,)`` term index of the replacement of an obsolete term, ``-1``
            when none.
        alt_ids: int32 ``(n_alt,)`` numeric alternative ids, sorted ascending.
        alt_target: int32 ``(n_alt,)`` term index each alternative id stands for.
        parent_indptr, parent_indices: CSR ``is_a`` parents (direct only) per term.
        ancestor_indptr, ancestor_indices: CSR ancestor closure per term, *including the term
            itself*, sorted ascending.
    """

    def __init__(self, *, release: str, ids: np.ndarray, names: np.ndarray, obsolete: np.ndarray,
                 replaced_by: np.ndarray, alt_ids: np.ndarray, alt_target: np.ndarray,
                 parent_indptr: np.ndarray, parent_indices: np.ndarray,
                 ancestor_indptr: np.ndarray | None = None, ancestor_indices: np.ndarray | None = None):
        self.release = release
        self.ids = ids
        self.names = names
        self.obsolete = obsolete
        self.replaced_by = replaced_by
        self.alt_ids = alt_ids
        self.alt_target = alt_target
        self.parent_indptr = parent_indptr
        self.parent_indices = parent_indices
        if ancestor_indptr is None or ancestor_indices is None:
            ancestor_indptr, ancestor_indices = _ancestor_closure(parent_indptr, parent_indices)
        self.ancestor_indptr = ancestor_indptr
        self.ancestor_indices = ancestor_indices

    @property
    def n_terms(self) -> int:
        return int(self.ids.size)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_obo(cls, path: str | Path) -> Ontology:
        """Parse an OBO 1.2/1.4 file (``hp.obo``); only ``[Term]`` stanzas are read.

        Raises:
            InputError: a malformed id, an ``is_a`` to a term the file does not define, a
                duplicated term, or an ``is_a`` cycle.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the HPO ontology: {exc}", path=str(path),
                             hint="give the path of an hp.obo file") from exc
        return cls._from_text(text, str(path))

    @classmethod
    def _from_text(cls, text: str, source: str) -> Ontology:
        release = ""
        term_ids: list[int] = []
        names: list[str] = []
        obsolete: list[bool] = []
        edge_child: list[int] = []
        edge_parent: list[int] = []
        edge_line: list[int] = []
        alt_from: list[int] = []
        alt_to: list[int] = []
        replaced_from: list[int] = []
        replaced_to: list[int] = []
        in_term = False
        current = -1

        def number(value: str, lineno: int) -> int:
            parsed = parse_hpo_id(value.split()[0] if value.split() else value)
            if parsed is None:
                raise InputError(f"malformed HPO id {value!r}", path=source, line=lineno,
                                 hint="expected HP:0000000 (is this an HPO obo file?)")
            return parsed

        # One pass over lines; only the tags used downstream are looked at.
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line or line[0] == "!":
                continue
            if line[0] == "[":
                in_term = line.startswith("[Term]")
                current = -1
                continue
            tag, sep, value = line.partition(": ")
            if not sep:
                continue
            if not in_term:
                if tag == "data-version" and not term_ids:
                    release = value.strip()
                continue
            if tag == "id":
                current = number(value, lineno)
                term_ids.append(current)
                names.append("")
                obsolete.append(False)
            elif current < 0:
                raise InputError(f"tag {tag!r} before the stanza's id", path=source, line=lineno,
                                 hint="every [Term] stanza must start with an id line")
            elif tag == "name":
                names[-1] = value.strip()
            elif tag == "is_a":
                edge_child.append(current)
                edge_parent.append(number(value, lineno))
                edge_line.append(lineno)
            elif tag == "alt_id":
                alt_from.append(number(value, lineno))
                alt_to.append(current)
            elif tag == "is_obsolete":
                obsolete[-1] = value.strip() == "true"
            elif tag == "replaced_by":
                replaced_from.append(current)
                replaced_to.append(number(value, lineno))

        if not term_ids:
            raise InputError("no [Term] stanzas found", path=source, hint="is this an hp.obo file?")
        raw_ids = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(raw_ids, kind="stable")
        ids = raw_ids[order].astype(np.int32)
        duplicated = ids[1:][ids[1:] == ids[:-1]]
        if duplicated.size:
            raise InputError(f"term {format_hpo_id(duplicated[0])} is defined twice", path=source)

        def to_index(numbers: list[int]) -> np.ndarray:
            arr = np.asarray(numbers, dtype=np.int64)
            pos = np.searchsorted(ids, arr).clip(max=ids.size - 1)
            return np.where(ids[pos] == arr, pos, -1).astype(np.int32)

        child = to_index(edge_child)
        parent = to_index(edge_parent)
        if (parent < 0).any():
            bad = int(np.flatnonzero(parent < 0)[0])
            raise InputError(f"is_a refers to undefined term {format_hpo_id(edge_parent[bad])}",
                             path=source, line=edge_line[bad], hint="the obo file seems truncated")
        parent_indptr, parent_indices = pairs_to_csr(child, parent, ids.size, ids.size)

        replaced_by = np.full(ids.size, -1, dtype=np.int32)
        replaced_by[to_index(replaced_from)] = to_index(replaced_to)

        alt = np.asarray(alt_from, dtype=np.int32)
        alt_order = np.argsort(alt, kind="stable")
        alt_target = to_index(alt_to)[alt_order]
        return cls(release=release, ids=ids, names=np.asarray(names, dtype=object)[order],
                   obsolete=np.asarray(obsolete, dtype=bool)[order], replaced_by=replaced_by,
                   alt_ids=alt[alt_order], alt_target=alt_target,
                   parent_indptr=parent_indptr, parent_indices=parent_indices)

    # -- persistence ----------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write every array (closure included) to one ``.npz`` file for fast reloading."""
        encoded = [name.encode("utf-8") for name in self.names]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        with open(path, "wb") as handle:
            np.savez(handle, release=np.array(self.release), ids=self.ids,
                     names_blob=np.frombuffer(b"".join(encoded), dtype=np.uint8),
                     names_offsets=offsets, obsolete=self.obsolete, replaced_by=self.replaced_by,
                     alt_ids=self.alt_ids, alt_target=self.alt_target,
                     parent_indptr=self.parent_indptr, parent_indices=self.parent_indices,
                     ancestor_indptr=self.ancestor_indptr, ancestor_indices=self.ancestor_indices)

    @classmethod
    def load(cls, path: str | Path) -> Ontology:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            blob = data["names_blob"].tobytes()
            offsets = data["names_offsets"]
            names = np.array([blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])],
                             dtype=object)
            return cls(release=str(data["release"]), ids=data["ids"], names=names,
                       obsolete=data["obsolete"], replaced_by=data["replaced_by"],
                       alt_ids=data["alt_ids"], alt_target=data["alt_target"],
                       parent_indptr=data["parent_indptr"], parent_indices=data["parent_indices"],
                       ancestor_indptr=data["ancestor_indptr"],
                       ancestor_indices=data["ancestor_indices"])

    # -- lookups --------------------------------------------------------------------------------

    def index_of(self, numbers: np.ndarray) -> np.ndarray:
        """int ``(k,)`` numeric ids → int32 ``(k,)`` term index (primary ids only), ``-1`` if absent."""
        numbers = np.asarray(numbers, dtype=np.int64)
        pos = np.searchsorted(self.ids, numbers).clip(max=self.ids.size - 1)
        return np.where(self.ids[pos] == numbers, pos, -1).astype(np.int32)

    def resolve(self, ids: Iterable[str | int]) -> Resolution:
        """Map HPO ids to current term indices.

        Alternative ids map to their term; obsolete terms map to their ``replaced_by`` (followed
        transitively). Anything else is reported in :attr:`Resolution.unknown`.
        """
        given = list(ids)
        numbers = np.array([-1 if (n := parse_hpo_id(v)) is None else n for v in given], dtype=np.int64)
        index = self.index_of(numbers)
        missing = index < 0
        if missing.any() and self.alt_ids.size:
            pos = np.searchsorted(self.alt_ids, numbers).clip(max=self.alt_ids.size - 1)
            hit = missing & (self.alt_ids[pos] == numbers)
            index[hit] = self.alt_target[pos[hit]]
        # Replacement chains are short; each round follows one more link.
        for _ in range(self.n_terms):
            stale = index >= 0
            stale[stale] = self.obsolete[index[stale]]
            if not stale.any():
                break
            index[stale] = self.replaced_by[index[stale]]
        unknown = list(dict.fromkeys(str(v) for v, i in zip(given, index) if i < 0))
        return Resolution(index=index.astype(np.int32), unknown=unknown)

    def curies(self, index: np.ndarray) -> list[str]:
        """int ``(k,)`` term indices → ``["HP:0001234", ...]``."""
        return [format_hpo_id(n) for n in self.ids[np.asarray(index, dtype=np.int64)]]

    def ancestors(self, index: np.ndarray) -> np.ndarray:
        """Union of the ancestors (each term included) of term indices ``index`` (int ``(k,)``).

        Returns:
            int32 ``(m,)`` sorted unique term indices.
        """
        _, anc = csr_gather(self.ancestor_indptr, self.ancestor_indices, np.asarray(index))
        return sorted_unique(anc)

    def descends_from(self, root: str) -> np.ndarray:
        """bool ``(n_terms,)``: the term is ``root`` or one of its descendants."""
        resolved = self.resolve([root])
        if resolved.unknown:
            raise InputError(f"{root} is not a term of this HPO release",
                             hint="use a current HPO id as the root")
        counts = np.diff(self.ancestor_indptr)
        owner = np.repeat(np.arange(self.n_terms), counts)
        mask = np.zeros(self.n_terms, dtype=bool)
        mask[owner[self.ancestor_indices == resolved.index[0]]] = True
        return mask


def _ancestor_closure(parent_indptr: np.ndarray, parent_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transitive, reflexive closure of ``is_a`` as CSR (see module docstring).

    Frontier expansion over (term, ancestor) pairs encoded as int64 keys: each round adds the
    parents of the ancestors found in the previous round, so the number of rounds is the depth
    of the graph (about 20 for the HPO), each a handful of whole-array operations.
    """
    n = parent_indptr.size - 1
    counts = np.diff(parent_indptr)
    child = np.repeat(np.arange(n, dtype=np.int64), counts)
    parent = parent_indices.astype(np.int64)
    known = np.union1d(np.arange(n, dtype=np.int64) * n + np.arange(n), child * n + parent)
    frontier_child, frontier_anc = child, parent
    while frontier_child.size:
        pos, grand = csr_gather(parent_indptr, parent_indices, frontier_anc)
        keys = sorted_unique(frontier_child[pos] * n + grand)
        new = keys[~_sorted_contains(known, keys)]
        if not new.size:
            break
        known = np.union1d(known, new)
        frontier_child, frontier_anc = new // n, new % n
    # A term that is a strict ancestor of its own parent closes a cycle.
    if _sorted_contains(known, parent * n + child).any():
        bad = int(child[_sorted_contains(known, parent * n + child)][0])
        raise InputError(f"is_a cycle through term index {bad}", hint="the obo file is inconsistent")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(known // n, minlength=n), out=indptr[1:])
    return indptr, (known % n).astype(np.int32)


def _sorted_contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """bool mask: which ``keys`` occur in the ascending array ``sorted_keys``."""
    pos = np.searchsorted(sorted_keys, keys).clip(max=max(sorted_keys.size - 1, 0))
    return sorted_keys[pos] == keys if sorted_keys.size else np.zeros(keys.shape, dtype=bool)


def load_ontology(obo: str | Path, cache: str | Path | None = None) -> Ontology:
    """Parse ``obo``, or reload ``cache`` (an ``.npz`` from :meth:`Ontology.save`) when it is
    newer than ``obo``; writes the cache after parsing when a cache path is given."""
    obo = Path(obo)
    return through_cache([obo], None if cache is None else Path(cache),
                         lambda: Ontology.from_obo(obo), Ontology.save, Ontology.load)
