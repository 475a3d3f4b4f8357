"""Named checks and the audit trail: every rejection says which rule, its limit and the value.

A stage lists its checks in order, each as a failure mask over the same items; the first
failing check of an item is its reason. This is what ``heron explain`` prints and what the
report cites when a variant drops out.

Limits are text, and a cohort has millions of calls, so a check keeps its limits as a few
distinct labels plus an int32 code per item (or one label for all) rather than a string per
item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Check:
    """One named rule over n items.

    fail: (n,) bool; labels: (k,) str, the distinct limits as text; codes: (n,) int32 into
    ``labels``, or None when every item has ``labels[0]``; observed: (n,) float32 (NaN when
    there is no number to show).
    """

    name: str
    fail: np.ndarray
    labels: np.ndarray
    codes: np.ndarray | None
    observed: np.ndarray

    def threshold(self, items: np.ndarray) -> np.ndarray:
        """The limit text of some items: (len(items),) str."""
        if self.codes is None:
            return np.full(len(items), self.labels[0], dtype=self.labels.dtype)
        return self.labels[self.codes[items]]


def _labels(threshold, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    if threshold is None:
        return np.array([""]), None
    if isinstance(threshold, tuple):
        labels, codes = threshold
        return np.asarray(labels, dtype=str), np.asarray(codes, dtype=np.int32)
    arr = np.asarray(threshold)
    if arr.ndim == 0:
        return np.array([str(arr)]), None
    labels, codes = np.unique(arr.astype(str), return_inverse=True)
    return labels, codes.astype(np.int32)


@dataclass
class Checks:
    """An ordered list of checks over the same n items."""

    n: int
    items: list[Check] = field(default_factory=list)

    def add(self, name: str, fail: np.ndarray, threshold=None,
            observed: np.ndarray | float | None = None) -> None:
        """Append a check.

        threshold: None, a scalar, an (n,) array of text, or ``(labels, codes)`` with codes
        (n,) indexing labels (the compact form for per-item limits). observed: a scalar or
        (n,) array.
        """
        fail = np.broadcast_to(np.asarray(fail, dtype=bool), (self.n,))
        labels, codes = _labels(threshold, self.n)
        if observed is None:
            observed = np.nan
        observed = np.broadcast_to(np.asarray(observed, dtype=np.float32), (self.n,))
        self.items.append(Check(name, fail, labels, codes, observed))

    def extend(self, other: "Checks") -> None:
        """Append another list's checks over the same items."""
        self.items.extend(other.items)

    def first_failure(self) -> np.ndarray:
        """(n,) int16 index into ``items`` of each item's first failed check, -1 if none."""
        first = np.full(self.n, -1, np.int16)
        undecided = np.ones(self.n, bool)
        for i, check in enumerate(self.items):  # one pass per check, over all items
            hit = undecided & check.fail
            first[hit] = i
            undecided &= ~hit
        return first

    def progress(self) -> np.ndarray:
        """(n,) int16: how many checks each item passed before its first failure."""
        first = self.first_failure()
        return np.where(first < 0, len(self.items), first).astype(np.int16)

    def passed(self) -> np.ndarray:
        return self.first_failure() < 0

    def reasons(self, index: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first failure of each item in ``index`` (default: all): (rule name, limit as
        text, observed value) as three (len(index),) arrays: object (str; "" where the item
        passed), object (str) and float32 (NaN)."""
        index = np.arange(self.n) if index is None else np.asarray(index, dtype=np.int64)
        first = self.first_failure()[index]
        rules = np.array([c.name for c in self.items] + [""], dtype=object)[first]
        # every check's limit labels in one table: the items' limits are references to its
        # strings, not a string made per item
        tables = [c.labels.astype(object) for c in self.items] + [np.array([""], dtype=object)]
        start = np.cumsum([0] + [len(t) for t in tables])
        code = np.full(len(index), start[-1] - 1, np.int64)
        observed = np.full(len(index), np.nan, np.float32)
        for i, check in enumerate(self.items):
            mine = np.flatnonzero(first == i)
            if len(mine):
                at = index[mine]
                code[mine] = start[i] + (0 if check.codes is None else check.codes[at])
                observed[mine] = check.observed[at]
        return rules, np.concatenate(tables)[code], observed

    def trail(self, item: int) -> list[dict]:
        """Every check of one item, passed or failed, in order (for ``heron explain``)."""
        at = np.array([item])
        return [{"rule": c.name, "passed": not bool(c.fail[item]),
                 "threshold": str(c.threshold(at)[0]),
                 "observed": None if np.isnan(c.observed[item]) else float(c.observed[item])}
                for c in self.items]
