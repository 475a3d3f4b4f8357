"""Entity × HPO-term annotations (genes from ``genes_to_phenotype.txt``, diseases from
``phenotype.hpoa``) as sparse CSR matrices, and the information content of every term.

Information content is computed from the *entities of the same matrix*: for the gene matrix,
``IC(t) = -ln(n_genes annotated with t or a descendant of t / n_genes)``. Genes, not diseases,
are counted because heron ranks genes: a term shared by many genes says little about which gene
is causal, however many diseases of one gene carry it.

Only terms under ``Phenotypic abnormality`` (HP:0000118) are kept by default: inheritance, onset
and frequency terms in the files describe the disease, not what a patient presents with.
Annotations whose frequency is zero (``0/n``, ``0%``, or HP:0040285 "Excluded") are dropped, as are
``NOT`` annotations in ``phenotype.hpoa``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from heron.errors import InputError
from heron.phenotype.ontology import PHENOTYPIC_ABNORMALITY, Ontology, csr_gather, pairs_to_csr

#: Frequency value meaning "never seen in this disease".
EXCLUDED_FREQUENCY = "HP:0040285"

GENES_TO_PHENOTYPE_COLUMNS = ("ncbi_gene_id", "gene_symbol", "hpo_id", "frequency")
HPOA_COLUMNS = ("database_id", "disease_name", "qualifier", "hpo_id", "frequency", "aspect")


# the arrays :class:`Annotations` computes from the annotation pairs (see its attributes)
_MATRICES = ("direct_indptr", "direct_indices", "prop_indptr", "prop_indices", "term_indptr",
             "term_indices", "term_count", "ic")


class Annotations:
    """Entities (genes or diseases) × terms, direct and propagated to ancestors.

    Attributes:
        ontology: the :class:`~heron.phenotype.ontology.Ontology` whose term indices are used.
        entity_ids: object ``(n_entities,)`` stable ids (``"NCBIGene:2263"``, ``"OMIM:101600"``).
        names: object ``(n_entities,)`` display names (gene symbols, disease names).
        direct_indptr, direct_indices: CSR entity → directly annotated term indices
            (int64 ``(n_entities + 1,)``, int32 ``(nnz_direct,)``), no term repeated in a row.
        prop_indptr, prop_indices: CSR entity → the direct terms and all their ancestors.
        term_indptr, term_indices: CSR term → entities annotated with the term or a descendant
            (the transpose of the propagated matrix; int64 ``(n_terms + 1,)``, int32 entities).
        term_count: int32 ``(n_terms,)`` entities annotated with the term or a descendant.
        ic: float64 ``(n_terms,)`` information content in nats; 0.0 for terms no entity carries
            (such a term is never a common ancestor of a patient term and an entity's term).
        dropped_terms: ids from the file that the ontology could not resolve (count of rows each).
    """

    def __init__(self, ontology: Ontology, entity_ids: np.ndarray, names: np.ndarray,
                 entity: np.ndarray, term: np.ndarray, dropped_terms: dict[str, int]):
        """``entity`` int ``(k,)`` and ``term`` int ``(k,)``: direct annotation pairs (repeats allowed)."""
        self.ontology = ontology
        self.entity_ids = entity_ids
        self.names = names
        self.dropped_terms = dropped_terms
        n_entities, n_terms = entity_ids.size, ontology.n_terms
        self.direct_indptr, self.direct_indices = pairs_to_csr(entity, term, n_entities, n_terms)
        owner = np.repeat(np.arange(n_entities), np.diff(self.direct_indptr))
        pos, anc = csr_gather(ontology.ancestor_indptr, ontology.ancestor_indices, self.direct_indices)
        self.prop_indptr, self.prop_indices = pairs_to_csr(owner[pos], anc, n_entities, n_terms)
        prop_owner = np.repeat(np.arange(n_entities), np.diff(self.prop_indptr))
        self.term_indptr, self.term_indices = pairs_to_csr(self.prop_indices, prop_owner, n_terms, n_entities)
        self.term_count = np.diff(self.term_indptr).astype(np.int32)
        with np.errstate(divide="ignore"):
            ic = -np.log(self.term_count / max(n_entities, 1))
        self.ic = np.where(self.term_count > 0, ic, 0.0) + 0.0

    # -- persistence ----------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the entities and every matrix to one ``.npz`` file for fast reloading."""
        with open(path, "wb") as handle:
            np.savez(handle, entity_ids=self.entity_ids.astype(str), names=self.names.astype(str),
                     dropped_ids=np.array(list(self.dropped_terms), dtype=str),
                     dropped_rows=np.array(list(self.dropped_terms.values()), dtype=np.int64),
                     **{name: getattr(self, name) for name in _MATRICES})

    @classmethod
    def load(cls, path: str | Path, ontology: Ontology) -> Annotations:
        """Read a file written by :meth:`save` from annotations over ``ontology``."""
        with np.load(path, allow_pickle=False) as data:
            if len(data["term_indptr"]) != ontology.n_terms + 1:
                raise InputError("the cached HPO annotations were made with another ontology",
                                 path=str(path), hint="delete the file; it is made again")
            out = cls.__new__(cls)
            out.ontology = ontology
            out.entity_ids = data["entity_ids"].astype(object)
            out.names = data["names"].astype(object)
            out.dropped_terms = {str(k): int(v) for k, v in zip(data["dropped_ids"],
                                                                data["dropped_rows"])}
            for name in _MATRICES:
                setattr(out, name, data[name])
        return out

    @property
    def n_entities(self) -> int:
        return int(self.entity_ids.size)

    def lookup(self, names: list[str] | np.ndarray) -> np.ndarray:
        """Entity index per display name (gene symbol) or entity id, ``-1`` when absent.

        Returns:
            int64 ``(k,)``.
        """
        table = pd.Series(np.arange(self.n_entities), index=self.names)
        table = table[~table.index.duplicated()]
        by_id = pd.Series(np.arange(self.n_entities), index=self.entity_ids)
        keys = pd.Index(np.asarray(names, dtype=object))
        found = table.reindex(keys).to_numpy(dtype=float)
        by_id_found = by_id.reindex(keys).to_numpy(dtype=float)
        found = np.where(np.isnan(found), by_id_found, found)
        return np.where(np.isnan(found), -1, found).astype(np.int64)

    # -- readers --------------------------------------------------------------------------------

    @classmethod
    def from_genes_to_phenotype(cls, path: str | Path, ontology: Ontology,
                                root: str | None = PHENOTYPIC_ABNORMALITY) -> Annotations:
        """Read HPO's ``genes_to_phenotype.txt`` (tab separated, header ``ncbi_gene_id gene_symbol
        hpo_id hpo_name frequency disease_id``) into a gene × term matrix.

        Args:
            root: keep only annotations to this term and its descendants; ``None`` keeps all.
        """
        table = _read_table(path, GENES_TO_PHENOTYPE_COLUMNS)
        table = table[~_zero_frequency(table["frequency"])]
        gene_ids = "NCBIGene:" + table["ncbi_gene_id"]
        symbols = table["gene_symbol"].where(~table["gene_symbol"].isin(["", "-"]), gene_ids)
        return cls._from_pairs(ontology, gene_ids, symbols, table["hpo_id"], root)

    @classmethod
    def from_phenotype_hpoa(cls, path: str | Path, ontology: Ontology,
                            root: str | None = PHENOTYPIC_ABNORMALITY) -> Annotations:
        """Read HPO's ``phenotype.hpoa`` (``#`` header lines, then a tab-separated table) into a
        disease × term matrix, keeping phenotypic-abnormality (aspect ``P``) rows that are not
        ``NOT``-qualified."""
        table = _read_table(path, HPOA_COLUMNS)
        keep = (table["aspect"] == "P") & (table["qualifier"] != "NOT")
        table = table[keep & ~_zero_frequency(table["frequency"])]
        return cls._from_pairs(ontology, table["database_id"], table["disease_name"],
                               table["hpo_id"], root)

    @classmethod
    def _from_pairs(cls, ontology: Ontology, ids: pd.Series, names: pd.Series, hpo: pd.Series,
                    root: str | None) -> Annotations:
        codes, uniques = pd.factorize(hpo)
        resolved = ontology.resolve(list(uniques))
        term = resolved.index[codes]
        dropped = pd.Series(hpo.to_numpy()[term < 0]).value_counts().to_dict()
        keep = term >= 0
        if root is not None:
            keep &= ontology.descends_from(root)[np.where(keep, term, 0)]
        entity_codes, entity_ids = pd.factorize(ids.to_numpy()[keep])
        first = np.unique(entity_codes, return_index=True)[1]
        entity_names = names.to_numpy()[keep][first]
        return cls(ontology, np.asarray(entity_ids, dtype=object), np.asarray(entity_names, dtype=object),
                   entity_codes, term[keep], {str(k): int(v) for k, v in dropped.items()})


def _read_table(path: str | Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                            skiprows=_count_hash_lines(path), skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read HPO annotations: {exc}", path=str(path),
                         hint="give HPO's genes_to_phenotype.txt or phenotype.hpoa") from exc
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=str(path),
                         hint=f"expected a tab-separated HPO file with columns {', '.join(columns)}")
    return table


def _count_hash_lines(path: str | Path) -> int:
    """Leading ``#`` lines of ``phenotype.hpoa`` (its header row itself has no ``#``)."""
    count = 0
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("#"):
                    break
                count += 1
    except OSError as exc:
        raise InputError(f"cannot read HPO annotations: {exc}", path=str(path)) from exc
    return count


def _zero_frequency(frequency: pd.Series) -> np.ndarray:
    """bool: the annotation's frequency says the feature was never observed."""
    codes, uniques = pd.factorize(frequency)
    text = pd.Series(uniques, dtype=object).str.strip()
    zero = (text == EXCLUDED_FREQUENCY) | text.str.match(r"^0+/\d+$") | text.str.match(r"^0+(\.0+)?%$")
    return zero.to_numpy(dtype=bool)[codes]
