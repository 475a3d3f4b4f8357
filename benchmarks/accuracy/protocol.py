"""The fixed numbers of the accuracy-benchmark protocol (shared/spec/benchmark.md, part A).

They are fixed by the protocol, with their sources there; they are gathered here as one
frozen object so that every function takes them as an argument instead of using literals.
Values marked "(ours)" are splits the protocol leaves open; they are documented choices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Protocol:
    # Families and controls.
    family_proportions: tuple[float, float, float] = (0.5, 0.1, 0.4)  # trio, duo, singleton
    control_fraction: float = 0.10  # background-only affected individuals, share of the cohort
    # Background counts per individual (Poisson means).
    het_ptv: float = 18.0
    hom_ptv: float = 0.19
    het_missense: float = 200.0
    hom_missense: float = 2.0
    carriers: float = 2.0  # heterozygous ClinVar P/LP in recessive genes
    zero_star: float = 3.0  # low-penetrance / 0-star ClinVar P/LP
    n_common: int = 20_000  # common coding/splice-region sites shared by the cohort
    de_novo: float = 1.0  # true coding de novo per child
    de_novo_mix: tuple[float, float, float] = (0.70, 0.25, 0.05)  # missense, synonymous, PTV
    # PTV kinds: stop gained, frameshift, canonical splice (donor/acceptor by position) (ours).
    ptv_mix: tuple[float, float, float] = (0.40, 0.40, 0.20)
    # Common sites: synonymous, missense, splice region (ours); AF log-uniform in this range.
    common_mix: tuple[float, float, float] = (0.45, 0.45, 0.10)
    common_af: tuple[float, float] = (0.01, 0.5)
    # gnomAD AF of rare variants.
    ultra_rare_fraction: float = 0.40
    ultra_rare_absent_fraction: float = 0.50  # of the ultra-rare: absent from gnomAD (ours)
    ultra_rare_af: tuple[float, float] = (1e-6, 1e-5)
    rare_af: tuple[float, float] = (1e-5, 1e-2)
    zero_star_af: tuple[float, float] = (1e-3, 5e-2)
    gnomad_individuals: int = 807_162  # gnomAD v4.1 exomes + genomes
    # Annotations.
    am_lp_background: float = 0.20
    am_lp_causal: float = 0.85
    am_ambiguous_of_rest: float = 0.30  # of non-LP missense, share "ambiguous" (ours)
    spliceai_background: float = 0.01
    spliceai_causal: float = 0.70
    spliceai_min: float = 0.5
    near_splice: int = 20  # intronic causal variants within this many bases count as splice
    # Causal variants in gnomAD: only recurrent ones.
    recurrent_publications: int = 3
    recurrent_dominant_af: tuple[float, float] = (1e-6, 1e-5)
    recurrent_recessive_af: tuple[float, float] = (1e-5, 1e-3)
    # ClinVar built from the case file.
    two_star_publications: int = 3
    # Long indels are structural variants, out of scope.
    max_indel_length: int = 50

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT = Protocol()
