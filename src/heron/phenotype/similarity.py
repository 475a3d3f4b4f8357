"""Patient ↔ gene phenotype similarity, for every annotated gene at once.

Resnik similarity of two terms is the information content (IC) of their most informative common
ancestor (MICA). For a patient term ``p`` and a gene ``g`` annotated with terms ``G``,
``max_{t in G} resnik(p, t)`` is the largest IC among the terms that are both ancestors of ``p``
and in the *propagated* annotation set of ``g`` (every ancestor of every term of ``G``). So one
patient is scored against all genes by gathering, for the patient's ancestor terms, the genes
carrying them (the term → gene CSR matrix), filling a dense genes × ancestors IC matrix and
taking segment maxima — no loop over genes.

Best-match average (BMA), two directions:

- ``"symmetric"`` (default): the mean of the patient → gene and gene → patient averages (the
  classic BMA of Schlicker et al.).
- ``"patient"``: ``mean over patient terms p of max_t resnik(p, t)`` only (the Phenomizer's
  query → disease direction): gene terms the patient lacks do not lower the score.

The symmetric form is the default because it ranked causal genes better on 600 solved
phenopacket-store cases (3 seeds × 200, ``benchmarks/phenotype_rank.py``): the causal gene was in
the top 1% of 5,129 annotated genes in 68–70% of cases against 64–67% for the patient direction
(median rank 6–10 against 8–14). Genes annotated from many diseases carry hundreds of terms;
scored one way only they match almost any patient somewhere, and tie at the top.

Excluded terms (a phenopacket's ``excluded: true`` features) can lower the score of genes
annotated with the excluded term or one of its descendants: each such term subtracts
``excluded_weight × IC(term)`` from the patient → gene sum. The default weight is 0 (off): in
published cases excluded features are mostly features of the very syndrome that were looked for
and found absent, so the causal gene usually carries them; a weight of 0.1 dropped the top-1%
recall above from 70% to 54%. Excluded terms that are ancestors of a present term contradict the
patient's own description and are always ignored.

Scores reported per gene:

- ``score``: the BMA in nats (can be negative when excluded terms weigh more than the matches).
- ``score_norm``: in [0, 1], the patient → gene sum divided by the best achievable sum (every
  patient term matched at its most informative annotated ancestor), and for ``"symmetric"`` the
  gene → patient sum divided by the gene terms' own IC, averaged; clipped to [0, 1].
- ``rank``: 1 + number of annotated genes with a strictly higher score.
- ``rank_fraction``: fraction of annotated genes scoring at least as high — a rank-based,
  p-value-like number in (0, 1] that means the same for a patient with 2 terms or 40 terms;
  ``rank_fraction <= 0.01`` reads "in the top 1% of genes for this patient".

Whole cohorts: :meth:`PhenotypeScorer.score_pairs` scores only the (patient, candidate gene)
pairs asked for, every patient at once, with the numbers :meth:`PhenotypeScorer.score` gives.
Per pair, the patient → gene side looks each ancestor of each patient term up in a bit matrix of
the genes' propagated annotations, and the gene → patient side looks each ancestor of each of the
gene's terms up in a patients × terms mask of the patients' ancestor sets. Patients are taken in
chunks, so the mask and the per-pair arrays stay bounded however large the cohort. Ranks among
all genes are not reported there: they need every gene scored for every patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from heron.phenotype.annotations import Annotations
from heron.phenotype.ontology import Ontology, csr_gather, pairs_to_csr, sorted_unique

Direction = Literal["patient", "symmetric"]

#: Default weight of an excluded term's IC, relative to a matched present term (module docstring).
DEFAULT_EXCLUDED_WEIGHT = 0.0
#: Default best-match-average direction (module docstring).
DEFAULT_DIRECTION: Direction = "symmetric"
#: Default largest number of patients :meth:`PhenotypeScorer.score_pairs` scores together: their
#: patients × terms bool mask takes ~20 kB per patient (10 MB for 500).
DEFAULT_CHUNK_PATIENTS = 500
#: Default largest number of gene-term ancestor lookups :meth:`PhenotypeScorer.score_pairs` does
#: together (a patient's pairs are never split). Each costs about 40 bytes of temporary arrays; a
#: gene has ~350 of them on average in the 2025-01-16 HPO release, up to ~4,000.
DEFAULT_CHUNK_LOOKUPS = 1_000_000

RESULT_COLUMNS = ["gene", "gene_id", "annotated", "score", "score_norm", "rank", "rank_fraction",
                  "n_matched", "matched_terms", "contradicted_terms"]
#: Columns :meth:`PhenotypeScorer.score_pairs` adds to the pairs it is given.
PAIR_COLUMNS = ["phenotype_score", "score", "annotated", "n_matched", "matched_terms",
                "contradicted_terms"]


def resnik(annotations: Annotations, term_a: str | int, term_b: str | int) -> float:
    """Resnik similarity of two HPO terms: the IC (in ``annotations``) of their most informative
    common ancestor. Raises ValueError for an id the ontology does not know."""
    onto = annotations.ontology
    resolved = onto.resolve([term_a, term_b])
    if resolved.unknown:
        raise ValueError(f"unknown HPO id(s): {', '.join(resolved.unknown)}")
    common = np.intersect1d(onto.ancestors(resolved.index[:1]), onto.ancestors(resolved.index[1:]))
    return float(annotations.ic[common].max())


@dataclass(frozen=True)
class _PatientTerms:
    """Resolved HPO terms of ``n`` patients, CSR over patients.

    Attributes:
        present_indptr, present: int64 ``(n + 1,)``, int32 ``(k,)``: observed terms, sorted
            unique per patient.
        excluded_indptr, excluded: the same for excluded terms, without those that are an
            ancestor of one of the patient's present terms (they contradict the patient's own
            description).
        unknown: per patient, the ids that could not be resolved (as given, de-duplicated,
            present before excluded).
    """

    present_indptr: np.ndarray
    present: np.ndarray
    excluded_indptr: np.ndarray
    excluded: np.ndarray
    unknown: list[list[str]]


def _resolve_patients(onto: Ontology, present: Sequence[Sequence[str | int]],
                      excluded: Sequence[Sequence[str | int]]) -> _PatientTerms:
    """Resolve the present and excluded ids of ``len(present)`` patients in one pass."""
    n, n_terms = len(present), onto.n_terms
    n_present = np.fromiter(map(len, present), dtype=np.int64, count=n)
    n_excluded = np.fromiter(map(len, excluded), dtype=np.int64, count=n)
    given = np.empty(int(n_present.sum() + n_excluded.sum()), dtype=object)
    given[:] = list(chain(chain.from_iterable(present), chain.from_iterable(excluded)))
    # a cohort repeats the same few thousand ids: parse each once
    codes, uniques = pd.factorize(given, use_na_sentinel=False)
    index = onto.resolve(list(uniques)).index.astype(np.int64)[codes]
    owner = np.concatenate([np.repeat(np.arange(n), n_present), np.repeat(np.arange(n), n_excluded)])
    is_present = np.arange(given.size) < n_present.sum()
    keep = is_present & (index >= 0)
    p_indptr, p_terms = pairs_to_csr(owner[keep], index[keep], n, n_terms)
    pos, anc = csr_gather(onto.ancestor_indptr, onto.ancestor_indices, p_terms)
    p_owner = np.repeat(np.arange(n), np.diff(p_indptr))
    keep = ~is_present & (index >= 0)
    e_owner, e_terms = owner[keep], index[keep]
    consistent = ~_sorted_contains(sorted_unique(p_owner[pos] * n_terms + anc), e_owner * n_terms + e_terms)
    e_indptr, e_terms = pairs_to_csr(e_owner[consistent], e_terms[consistent], n, n_terms)
    unknown: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero(index < 0):
        if str(given[i]) not in unknown[owner[i]]:
            unknown[owner[i]].append(str(given[i]))
    return _PatientTerms(p_indptr, p_terms, e_indptr, e_terms, unknown)


class PhenotypeScorer:
    """Scores patients' HPO terms against the entities of an :class:`Annotations` matrix: one
    patient against every entity (:meth:`score`), or chosen (patient, gene) pairs of a whole
    cohort (:meth:`score_pairs`).

    Args:
        annotations: gene (or disease) annotations; their IC is used.
        direction: ``"symmetric"`` or ``"patient"`` best-match average (module docstring).
        excluded_weight: weight of an excluded term's IC in the penalty (0 disables it).
    """

    def __init__(self, annotations: Annotations, *, direction: Direction = DEFAULT_DIRECTION,
                 excluded_weight: float = DEFAULT_EXCLUDED_WEIGHT):
        if direction not in ("patient", "symmetric"):
            raise ValueError(f"direction must be 'patient' or 'symmetric', not {direction!r}")
        self.annotations = annotations
        self.ontology = annotations.ontology
        self.direction = direction
        self.excluded_weight = float(excluded_weight)
        ann, onto = annotations, self.ontology
        n_direct = np.diff(ann.direct_indptr)
        self._direct_owner = np.repeat(np.arange(ann.n_entities), n_direct)
        self._direct_terms, self._direct_pos = np.unique(ann.direct_indices, return_inverse=True)
        pos, self._direct_anc = csr_gather(onto.ancestor_indptr, onto.ancestor_indices, self._direct_terms)
        self._direct_starts = _segment_starts(pos, self._direct_terms.size)
        self._gene_self = np.bincount(self._direct_owner, weights=ann.ic[ann.direct_indices],
                                      minlength=ann.n_entities)
        self._n_direct = np.maximum(n_direct, 1)
        # best achievable match of each term: its most informative ancestor (itself included)
        self._reach = (np.maximum.reduceat(ann.ic[onto.ancestor_indices], onto.ancestor_indptr[:-1])
                       if onto.n_terms else np.zeros(0))
        self._curies = np.asarray(onto.curies(np.arange(onto.n_terms)), dtype=object)
        self._row_bytes, self._carried = _bit_matrix(ann.prop_indptr, ann.prop_indices, onto.n_terms)
        # Ancestors of IC 0 (the root, "Phenotypic abnormality") never raise a maximum: the pair
        # path skips them, keeping each term itself so that no term's ancestor list is empty.
        owner = np.repeat(np.arange(onto.n_terms), np.diff(onto.ancestor_indptr))
        keep = (ann.ic[onto.ancestor_indices] > 0) | (onto.ancestor_indices == owner)
        self._informative_indptr = np.zeros(onto.n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=onto.n_terms), out=self._informative_indptr[1:])
        self._informative = onto.ancestor_indices[keep]
        # every direct annotation's ancestors, gene after gene, for the gene → patient side of pairs
        lengths = np.diff(self._informative_indptr)[ann.direct_indices]
        _, self._gene_anc = csr_gather(self._informative_indptr, self._informative, ann.direct_indices)
        starts = np.cumsum(lengths) - lengths
        self._gene_anc_indptr = np.append(starts, lengths.sum())[ann.direct_indptr]
        self._segment_offset = starts - self._gene_anc_indptr[self._direct_owner]

    # -- one patient, all genes -----------------------------------------------------------------

    def score(self, present: Iterable[str | int], excluded: Iterable[str | int] = (),
              genes: Iterable[str] | None = None) -> pd.DataFrame:
        """Score a patient against all annotated genes.

        Args:
            present: the patient's observed HPO ids (``"HP:0001363"``); alternative and obsolete
                ids are mapped to current terms.
            excluded: HPO ids explicitly absent in the patient.
            genes: gene symbols (or ``NCBIGene:`` ids) to report, in this order; ``None`` reports
                every annotated gene, best first. Unannotated genes get score 0 and
                ``annotated = False``.

        Returns:
            DataFrame with columns :data:`RESULT_COLUMNS`; ``matched_terms`` lists (comma
            separated) the patient terms the gene is annotated with, directly or through a more
            specific term; ``contradicted_terms`` the excluded terms it is annotated with.
            ``result.attrs["unknown_terms"]`` holds the input ids that could not be resolved.
        """
        terms = _resolve_patients(self.ontology, [list(present)], [list(excluded)])
        p_index, e_index = terms.present, terms.excluded
        raw, norm, matched, contradicted = self._score_arrays(p_index, e_index)
        table = self._table(raw, norm, matched, contradicted, p_index, e_index, genes)
        table.attrs["unknown_terms"] = terms.unknown[0]
        return table

    def _score_arrays(self, p_index: np.ndarray, e_index: np.ndarray):
        """float64 ``(n_entities,)`` raw and normalised scores; bool ``(n_entities, k)`` exact
        matches of the ``k`` present terms and ``(n_entities, m)`` of the ``m`` excluded terms."""
        ann, onto = self.annotations, self.ontology
        n = ann.n_entities
        matched = self._carriers(p_index)
        contradicted = self._carriers(e_index)
        patient_sum = -self.excluded_weight * (contradicted * ann.ic[e_index]).sum(axis=1)
        gene_sum = np.zeros(n)
        if p_index.size:
            pos, anc = csr_gather(onto.ancestor_indptr, onto.ancestor_indices, p_index)
            starts = _segment_starts(pos, p_index.size)
            union = sorted_unique(anc)
            upos, gene = csr_gather(ann.term_indptr, ann.term_indices, union)
            ic_by_union = np.zeros((n, union.size))
            ic_by_union[gene, upos] = ann.ic[union[upos]]
            # best[g, j] = IC of the MICA of patient term j and gene g's annotation.
            best = np.maximum.reduceat(ic_by_union[:, np.searchsorted(union, anc)], starts, axis=1)
            patient_sum += best.sum(axis=1)
            if self.direction == "symmetric":
                in_union = np.zeros(onto.n_terms, dtype=bool)
                in_union[union] = True
                reach = np.where(in_union[self._direct_anc], ann.ic[self._direct_anc], 0.0)
                best_per_term = np.maximum.reduceat(reach, self._direct_starts)
                gene_sum = np.bincount(self._direct_owner, weights=best_per_term[self._direct_pos],
                                       minlength=n)
        raw, norm = self._combine(patient_sum, p_index.size, self._reach[p_index].sum(), gene_sum,
                                  slice(None))
        return raw, norm, matched, contradicted

    def _carriers(self, terms: np.ndarray) -> np.ndarray:
        """bool ``(n_entities, len(terms))``: entity annotated with the term or a descendant."""
        out = np.zeros((self.annotations.n_entities, terms.size), dtype=bool)
        col, entity = csr_gather(self.annotations.term_indptr, self.annotations.term_indices, terms)
        out[entity, col] = True
        return out

    def _table(self, raw, norm, matched, contradicted, p_index, e_index, genes) -> pd.DataFrame:
        ann = self.annotations
        ranked = np.sort(raw)
        if genes is None:
            rows = np.argsort(-raw, kind="stable")
            names, ids = ann.names[rows], ann.entity_ids[rows]
        else:
            names = np.asarray(list(genes), dtype=object)
            rows = ann.lookup(names)
            ids = np.where(rows >= 0, ann.entity_ids[np.maximum(rows, 0)], None)
        annotated = rows >= 0
        safe = np.maximum(rows, 0)
        score = np.where(annotated, raw[safe], 0.0)
        n = max(ann.n_entities, 1)
        at_least = ann.n_entities - np.searchsorted(ranked, score, side="left")
        above = ann.n_entities - np.searchsorted(ranked, score, side="right")
        m_rows, m_cols = np.nonzero(matched[safe] & annotated[:, None])
        c_rows, c_cols = np.nonzero(contradicted[safe] & annotated[:, None])
        return pd.DataFrame({
            "gene": names,
            "gene_id": ids,
            "annotated": annotated,
            "score": score,
            "score_norm": np.where(annotated, norm[safe], 0.0),
            "rank": above + 1,
            "rank_fraction": np.maximum(at_least, 1) / n,
            "n_matched": np.bincount(m_rows, minlength=rows.size),
            "matched_terms": self._join_terms(m_rows, p_index[m_cols], rows.size),
            "contradicted_terms": self._join_terms(c_rows, e_index[c_cols], rows.size),
        })

    # -- a cohort, chosen pairs -----------------------------------------------------------------

    def score_pairs(self, patients: Mapping[str, tuple[Iterable[str | int], Iterable[str | int]]],
                    pairs: pd.DataFrame, *, chunk_size: int = DEFAULT_CHUNK_PATIENTS,
                    chunk_lookups: int = DEFAULT_CHUNK_LOOKUPS) -> pd.DataFrame:
        """Score (sample, gene) pairs of a cohort, all patients at once.

        The numbers equal those of ``score(present, excluded, genes=...)`` for each sample.

        Args:
            patients: sample → ``(present HPO ids, excluded HPO ids)``. Samples of ``pairs``
                missing here have no terms and score 0.
            pairs: columns ``sample`` and ``symbol`` (gene symbol or ``NCBIGene:`` id), one row per
                candidate gene of a sample; repeated rows are scored once.
            chunk_size: largest number of patients scored together (:data:`DEFAULT_CHUNK_PATIENTS`).
            chunk_lookups: largest number of gene-term ancestor lookups done together
                (:data:`DEFAULT_CHUNK_LOOKUPS`); with ``chunk_size`` it bounds the memory used.

        Returns:
            ``pairs`` (same index and row order) with the columns :data:`PAIR_COLUMNS` added or
            replaced: ``phenotype_score`` float64 in [0, 1] (``score_norm`` of :meth:`score`),
            ``score`` float64 raw best-match average, ``annotated`` bool, ``n_matched`` int64,
            ``matched_terms`` and ``contradicted_terms`` comma-joined HPO ids (str).
            ``result.attrs["unknown_terms"]``: dict sample → ids that could not be resolved,
            for the samples of ``pairs`` that have any.

        Raises:
            ValueError: ``pairs`` lacks a column or has a missing sample, a ``patients`` value is
                not a pair of id lists, or a chunk limit is below 1.
        """
        missing = [c for c in ("sample", "symbol") if c not in pairs.columns]
        if missing:
            raise ValueError(f"pairs lacks column(s) {', '.join(missing)}: give one row per "
                             "(sample, symbol) candidate gene")
        if chunk_size < 1 or chunk_lookups < 1:
            raise ValueError(f"chunk_size and chunk_lookups must be at least 1, not {chunk_size} "
                             f"and {chunk_lookups}")
        sample_code, samples = pd.factorize(pairs["sample"])
        if (sample_code < 0).any():
            raise ValueError(f"pairs has {int((sample_code < 0).sum())} row(s) without a sample")
        symbol_code, symbols = pd.factorize(pairs["symbol"])
        genes_of_symbol = np.append(self.annotations.lookup(np.asarray(symbols, dtype=object)), -1)
        keys, inverse = np.unique(sample_code * (symbols.size + 1) + symbol_code, return_inverse=True)
        patient = keys // (symbols.size + 1)
        gene = genes_of_symbol[keys % (symbols.size + 1)]  # code -1 (no symbol) → last → -1
        terms = _resolve_patients(self.ontology, *_term_lists_of(patients, samples))

        n_present = np.diff(terms.present_indptr)
        best_possible = np.bincount(np.repeat(np.arange(samples.size), n_present),
                                    weights=self._reach[terms.present], minlength=samples.size)
        patient_sum, gene_sum = np.zeros(keys.size), np.zeros(keys.size)
        matched_rows, matched_terms, contra_rows, contra_terms = [], [], [], []
        lookups = np.where(gene >= 0, np.diff(self._gene_anc_indptr)[np.maximum(gene, 0)], 0)
        first_pair = np.searchsorted(patient, np.arange(samples.size + 1))
        cumulative = np.append(0, np.cumsum(lookups))[first_pair]
        for first, end in _chunks(cumulative, chunk_size, chunk_lookups):
            rows = first_pair[first] + np.flatnonzero(gene[first_pair[first]:first_pair[end]] >= 0)
            if not rows.size:
                continue
            sums = self._pair_sums(terms, patient[rows], gene[rows], first, end - first)
            patient_sum[rows], gene_sum[rows] = sums[0], sums[1]
            matched_rows.append(rows[sums[2]])
            matched_terms.append(sums[3])
            contra_rows.append(rows[sums[4]])
            contra_terms.append(sums[5])
        annotated = gene >= 0
        raw, norm = self._combine(patient_sum, n_present[patient], best_possible[patient], gene_sum,
                                  np.maximum(gene, 0))
        matched_rows = np.concatenate(matched_rows or [np.zeros(0, np.int64)])
        contra_rows = np.concatenate(contra_rows or [np.zeros(0, np.int64)])
        out = pairs.assign(
            phenotype_score=np.where(annotated, norm, 0.0)[inverse],
            score=np.where(annotated, raw, 0.0)[inverse],
            annotated=annotated[inverse],
            n_matched=np.bincount(matched_rows, minlength=keys.size)[inverse],
            matched_terms=self._join_terms(matched_rows, np.concatenate(matched_terms or [[]]).astype(np.int64),
                                           keys.size)[inverse],
            contradicted_terms=self._join_terms(contra_rows, np.concatenate(contra_terms or [[]]).astype(np.int64),
                                                keys.size)[inverse])
        out.attrs["unknown_terms"] = {samples[i]: u for i, u in enumerate(terms.unknown) if u}
        return out

    def _pair_sums(self, terms: _PatientTerms, patient: np.ndarray, gene: np.ndarray,
                   first: int, n_patients: int):
        """Best-match sums of ``m`` pairs (``patient[i]``, ``gene[i]``), int64 ``(m,)`` each,
        patients within ``first .. first + n_patients - 1``, genes annotated, grouped by patient.

        Returns:
            float64 ``(m,)`` patient → gene sum (minus the excluded-term penalty), float64
            ``(m,)`` gene → patient sum (zeros for the ``"patient"`` direction), then the pair
            and the term index of every matched present term (int64 ``(k,)`` each, by pair,
            terms ascending) and likewise of every contradicted excluded term.
        """
        ic = self.annotations.ic
        m = patient.size
        pair_of_term, term = csr_gather(terms.present_indptr, terms.present, patient)
        term_of_anc, anc = csr_gather(self._informative_indptr, self._informative, term)
        gene_of_term = gene[pair_of_term]
        patient_sum = np.zeros(m)
        if term.size:
            shared = np.where(self._carries(gene_of_term[term_of_anc], anc), ic[anc], 0.0)
            best = np.maximum.reduceat(shared, _segment_starts(term_of_anc, term.size))
            patient_sum = np.bincount(pair_of_term, weights=best, minlength=m)
        matched = self._carries(gene_of_term, term)
        pair_of_ex, ex = csr_gather(terms.excluded_indptr, terms.excluded, patient)
        contradicted = self._carries(gene[pair_of_ex], ex)
        patient_sum -= self.excluded_weight * np.bincount(pair_of_ex[contradicted],
                                                          weights=ic[ex[contradicted]], minlength=m)
        gene_sum = np.zeros(m)
        if self.direction == "symmetric":
            gene_sum = self._gene_side(terms, patient, gene, first, n_patients)
        return (patient_sum, gene_sum, pair_of_term[matched], term[matched],
                pair_of_ex[contradicted], ex[contradicted])

    def _gene_side(self, terms: _PatientTerms, patient: np.ndarray, gene: np.ndarray,
                   first: int, n_patients: int) -> np.ndarray:
        """float64 ``(m,)``: for each pair, the sum over the gene's direct terms of the IC of
        their most informative ancestor among the patient's ancestor set."""
        ic = self.annotations.ic
        # bool (n_patients, n_terms): term is a present term of the patient or an ancestor of one
        n_terms = self.ontology.n_terms
        in_patient = np.zeros(n_patients * n_terms, dtype=bool)
        pos, term = csr_gather(terms.present_indptr, terms.present, np.arange(first, first + n_patients))
        term_of_anc, anc = csr_gather(self._informative_indptr, self._informative, term)
        in_patient[pos[term_of_anc] * n_terms + anc] = True
        pair_of_anc, anc = csr_gather(self._gene_anc_indptr, self._gene_anc, gene)
        cell = (patient - first)[pair_of_anc] * n_terms + anc
        del pair_of_anc
        reach = np.where(in_patient.take(cell), ic.take(anc), 0.0)
        del cell, anc
        lengths = self._gene_anc_indptr[gene + 1] - self._gene_anc_indptr[gene]
        pair_of_direct, offset = csr_gather(self.annotations.direct_indptr, self._segment_offset, gene)
        best = np.maximum.reduceat(reach, (np.cumsum(lengths) - lengths)[pair_of_direct] + offset)
        return np.bincount(pair_of_direct, weights=best, minlength=gene.size)

    def _carries(self, gene: np.ndarray, term: np.ndarray) -> np.ndarray:
        """bool ``(k,)``: gene ``gene[i]`` is annotated with ``term[i]`` or a descendant of it."""
        term = term.astype(np.int64)
        byte = self._carried[gene.astype(np.int64) * self._row_bytes + (term >> 3)]
        return (np.right_shift(byte, (term & 7).astype(np.uint8)) & 1).astype(bool)

    # -- shared ---------------------------------------------------------------------------------

    def _combine(self, patient_sum: np.ndarray, n_present, best_possible, gene_sum: np.ndarray,
                 gene) -> tuple[np.ndarray, np.ndarray]:
        """Raw and normalised best-match averages, float64 like ``patient_sum``, from the sums of
        best matches in each direction (module docstring). ``n_present`` and ``best_possible``
        (the patient's term count and best achievable sum) broadcast against the sums; ``gene``
        indexes the entity of each row. Patients without terms score 0."""
        has_terms = np.asarray(n_present) > 0
        raw = np.divide(patient_sum, n_present, out=np.zeros_like(patient_sum), where=has_terms)
        norm = np.divide(patient_sum, best_possible, out=np.zeros_like(patient_sum),
                         where=np.asarray(best_possible) > 0)
        if self.direction == "symmetric":
            gene_self = self._gene_self[gene]
            raw = 0.5 * (raw + gene_sum / self._n_direct[gene])
            norm = 0.5 * (norm + np.divide(gene_sum, gene_self, out=np.zeros_like(gene_sum),
                                           where=gene_self > 0))
        return np.where(has_terms, raw, 0.0), np.where(has_terms, np.clip(norm, 0.0, 1.0), 0.0)

    def _join_terms(self, rows: np.ndarray, terms: np.ndarray, n_rows: int) -> np.ndarray:
        """object ``(n_rows,)``: comma-joined HPO ids of ``terms`` (int ``(k,)``) per row, from
        ``rows`` (int ``(k,)``, grouped by row); ``""`` for rows absent from ``rows``."""
        out = np.full(n_rows, "", dtype=object)
        if rows.size:
            names = self._curies[terms]
            first = np.ones(rows.size, dtype=bool)
            first[1:] = rows[1:] != rows[:-1]
            pieces = np.where(first, names, "," + names)
            # object-dtype add concatenates the strings of each row segment
            out[rows[first]] = np.add.reduceat(pieces, np.flatnonzero(first))
        return out


def _term_lists_of(patients: Mapping, samples: pd.Index) -> tuple[list, list]:
    """The present and excluded id lists of ``samples``, empty for samples ``patients`` lacks."""
    present, excluded = [], []
    for sample in samples.tolist():
        entry = patients.get(sample, ((), ()))
        if (not isinstance(entry, (tuple, list)) or len(entry) != 2
                or any(isinstance(part, str) for part in entry)):
            raise ValueError(f"patients[{sample!r}] must be (present HPO ids, excluded HPO ids), "
                             f"two lists, not {entry!r}")
        present.append(list(entry[0]))
        excluded.append(list(entry[1]))
    return present, excluded


def _chunks(cumulative: np.ndarray, max_patients: int, max_lookups: int) -> Iterator[tuple[int, int]]:
    """Consecutive patient ranges ``[first, end)`` of at most ``max_patients`` patients and
    ``max_lookups`` lookups (but at least one patient), from the lookups before each patient
    (int64 ``(n_patients + 1,)``, non-decreasing)."""
    n, first = cumulative.size - 1, 0
    while first < n:
        end = int(np.searchsorted(cumulative, cumulative[first] + max_lookups, side="right")) - 1
        end = min(max(end, first + 1), first + max_patients, n)
        yield first, end
        first = end


def _bit_matrix(indptr: np.ndarray, indices: np.ndarray, n_cols: int) -> tuple[int, np.ndarray]:
    """CSR rows (indices ascending within a row) → ``(row_bytes, bits)``: bits uint8
    ``(n_rows * row_bytes,)``, bit ``c % 8`` of byte ``r * row_bytes + c // 8`` set when column
    ``c`` is in row ``r`` (an eighth of a dense bool matrix)."""
    row_bytes = (n_cols + 7) // 8
    n_rows = indptr.size - 1
    bits = np.zeros(n_rows * row_bytes, dtype=np.uint8)
    if indices.size:
        owner = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))
        byte = owner * row_bytes + (indices.astype(np.int64) >> 3)
        first = np.ones(byte.size, dtype=bool)
        first[1:] = byte[1:] != byte[:-1]
        values = np.left_shift(1, indices & 7).astype(np.uint8)
        bits[byte[first]] = np.bitwise_or.reduceat(values, np.flatnonzero(first))
    return row_bytes, bits


def _sorted_contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """bool ``keys.shape``: which ``keys`` occur in the ascending array ``sorted_keys``."""
    if not sorted_keys.size:
        return np.zeros(keys.shape, dtype=bool)
    return sorted_keys[np.searchsorted(sorted_keys, keys).clip(max=sorted_keys.size - 1)] == keys


def _segment_starts(pos: np.ndarray, n_segments: int) -> np.ndarray:
    """Start offset of each of ``n_segments`` consecutive, non-empty segments labelled by ``pos``
    (int ``(m,)``, ascending)."""
    return np.searchsorted(pos, np.arange(n_segments))
