"""Named checks and the audit trail: every rejection says which rule, its limit and the value.

A stage lists its checks in order, each as a failure mask over the same items; the first
failing check of an item is its reason. This is what ``heron explain`` prints and what the
report cites when a variant drops out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Check:
    """One named rule over n items: ``fail`` (n,) bool, ``threshold`` (n,) str (the limit as
    text), ``observed`` (n,) float32 (NaN when there is no number to show)."""

    name: str
    fail: np.ndarray
    threshold: np.ndarray
    observed: np.ndarray


@dataclass
class Checks:
    """An ordered list of checks over the same n items."""

    n: int
    items: list[Check] = field(default_factory=list)

    def add(self, name: str, fail: np.ndarray, threshold=None,
            observed: np.ndarray | float | None = None) -> None:
        """Append a check; threshold and observed may be scalars or (n,) arrays."""
        fail = np.broadcast_to(np.asarray(fail, dtype=bool), (self.n,))
        threshold = np.broadcast_to(np.asarray("" if threshold is None else threshold, dtype=str),
                                    (self.n,))
        if observed is None:
            observed = np.full(self.n, np.nan, np.float32)
        observed = np.broadcast_to(np.asarray(observed, dtype=np.float32), (self.n,))
        self.items.append(Check(name, fail, threshold, observed))

    def extend(self, other: "Checks") -> None:
        """Append another list's checks over the same items."""
        self.items.extend(other.items)

    def progress(self) -> np.ndarray:
        """(n,) int16: how many checks each item passed before its first failure."""
        first = self.first_failure()
        return np.where(first < 0, len(self.items), first).astype(np.int16)

    def first_failure(self) -> np.ndarray:
        """(n,) int16 index into ``items`` of each item's first failed check, -1 if none."""
        if not self.items:
            return np.full(self.n, -1, np.int16)
        fails = np.stack([c.fail for c in self.items])
        first = np.argmax(fails, axis=0).astype(np.int16)
        first[~fails.any(axis=0)] = -1
        return first

    def passed(self) -> np.ndarray:
        return self.first_failure() < 0

    def reasons(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each item's first failure: (rule name, threshold as text, observed value).

        Returns three (n,) arrays: str, str ("" where the item passed) and float32 (NaN).
        """
        first = self.first_failure()
        rules = np.array([c.name for c in self.items] + [""])
        limits = np.full(self.n, "", dtype=object)
        observed = np.full(self.n, np.nan, np.float32)
        failed = first >= 0
        if self.items and failed.any():
            cols = np.flatnonzero(failed)
            observed[failed] = np.stack([c.observed for c in self.items])[first[failed], cols]
            limits[failed] = np.stack([c.threshold for c in self.items])[first[failed], cols]
        return rules[first], limits.astype(str), observed

    def trail(self, item: int) -> list[dict]:
        """Every check of one item, passed or failed, in order (for ``heron explain``)."""
        return [{"rule": c.name, "passed": not bool(c.fail[item]), "threshold": str(c.threshold[item]),
                 "observed": None if np.isnan(c.observed[item]) else float(c.observed[item])}
                for c in self.items]
