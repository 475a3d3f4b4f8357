"""The annotate stage: consequences, ClinVar, population frequencies and in-silico scores,
joined onto a shard's variants by sorted keys.

The output is a shard folder holding only the new per-variant arrays (``ann.*``), the
transcripts table and the variant keys (to check that it belongs to its store); the big call
matrices stay in the ingest store and are never copied.
"""

from __future__ import annotations

import numpy as np

from heron.annotate.csq import parse_annotations, spliceai_max
from heron.config import HeronConfig
from heron.errors import InputError
from heron.resources.clinvar import ClinSig
from heron.store import Shard

# ClinVar class of a variant as the core sees it: a ClinSig value, or -1 when not in ClinVar.
CLINVAR_NONE = -1
CLINVAR_PLP, CLINVAR_BLB = int(ClinSig.PATHOGENIC), int(ClinSig.BENIGN)


def annotate_shard(shard: Shard, config: HeronConfig, clinvar=None, *, gnomad=None,
                   alphamissense=None) -> Shard:
    """Annotation arrays for every variant of ``shard``.

    Adds (n_variants,) arrays: ann.clinvar int8 (ClinSig, -1 absent), ann.clinvar_stars int8,
    ann.clinvar_id int64 (allele id, -1), ann.gnomad_af / _ac / _hom / _hemi float32 (NaN =
    absent from gnomAD), ann.spliceai float32 (NaN = not scored); and the transcripts table.
    ``clinvar`` is a heron.resources.clinvar.ClinVarTable or None; ``gnomad`` a
    heron.resources.gnomad.GnomadIndex (frequencies then come from it instead of INFO);
    ``alphamissense`` an AlphaMissenseTable filling transcripts that CSQ left unscored.
    """
    v = shard.variants
    n = shard.n_variants
    out: dict[str, np.ndarray] = {"key": v["key"]}
    # a store from ingest holds the parsed consequences; they never change between runs
    out_tx = dict(shard.transcripts) if shard.transcripts else consequence_table(shard, config)
    if gnomad is not None:
        joined = gnomad.join(v["key"], v["ref"], v["alt"])
        out["ann.gnomad_af"] = joined["af"].astype(np.float32)
        for name in ("ac", "hom", "hemi"):
            values = joined[name].astype(np.float32)
            out[f"ann.gnomad_{name}"] = np.where(values < 0, np.nan, values).astype(np.float32)
    else:
        names = config.resources.gnomad
        for name, info in (("af", names.af), ("ac", names.ac), ("hom", names.homozygotes),
                           ("hemi", names.hemizygotes)):
            out[f"ann.gnomad_{name}"] = v.get(f"info.{info}", np.full(n, np.nan, np.float32))
    if alphamissense is not None and len(out_tx["variant"]):
        t_var = out_tx["variant"]
        scores = alphamissense.transcript_scores(v["key"][t_var], v["ref"][t_var],
                                                 v["alt"][t_var], out_tx["transcript"])
        gap = np.isnan(out_tx["am_score"])
        out_tx["am_score"] = np.where(gap, scores, out_tx["am_score"]).astype(np.float32)
    if "info.SpliceAI" in v:
        out["ann.spliceai"] = spliceai_max(v["info.SpliceAI"], v["vep_allele"], v["alt"],
                                           v["n_alts"])
    else:
        out["ann.spliceai"] = np.full(n, np.nan, np.float32)
    out.update(clinvar_columns(v["key"], v["ref"], v["alt"], clinvar))
    meta = {"clinvar_release": getattr(clinvar, "release", None) if clinvar else None,
            "region": shard.meta.get("region")}
    return Shard(shard.samples, shard.build, out, {}, out_tx, meta)


def consequence_table(shard: Shard, config: HeronConfig) -> dict[str, np.ndarray]:
    """The transcripts table (heron.annotate.csq) parsed from the shard's consequence INFO
    field (CSQ/ANN/BCSQ as configured)."""
    v = shard.variants
    field = "BCSQ" if config.ingest.gff3 else config.ingest.csq_field
    if f"info.{field}" not in v:
        raise InputError(f"the VCF has no INFO/{field} consequence field",
                         path=", ".join(shard.meta.get("sources", [])),
                         hint="annotate the VCF with VEP (CSQ), bcftools csq (BCSQ) or snpEff "
                              "(ANN) and set ingest.csq_field")
    description = shard.meta.get("info_descriptions", {}).get(field, "")
    return parse_annotations(v[f"info.{field}"], description, v["vep_allele"], v["alt"],
                             v["n_alts"], chrom=v["chrom"], pos=v["pos"], ref=v["ref"])


def clinvar_columns(keys: np.ndarray, ref: np.ndarray, alt: np.ndarray, clinvar) -> dict:
    """ClinVar class, stars and allele id of each variant ((n,) arrays), by sorted join."""
    n = len(keys)
    cls = np.full(n, CLINVAR_NONE, np.int8)
    stars = np.zeros(n, np.int8)
    allele = np.full(n, -1, np.int64)
    if clinvar is not None and n:
        idx = clinvar.lookup(keys, ref, alt)
        hit = idx >= 0
        cls[hit] = clinvar.clinsig[idx[hit]]
        stars[hit] = clinvar.stars[idx[hit]]
        allele[hit] = clinvar.allele_id[idx[hit]]
    return {"ann.clinvar": cls, "ann.clinvar_stars": stars, "ann.clinvar_id": allele}


def combine(store: Shard, annotation: Shard) -> Shard:
    """The store's shard with the annotation's arrays and transcripts attached."""
    if not np.array_equal(store.variants["key"], annotation.variants["key"]):
        raise InputError("the annotation does not belong to this store (variant keys differ)",
                         hint="re-run `heron annotate` on the current store")
    variants = dict(store.variants)
    variants.update({k: v for k, v in annotation.variants.items() if k.startswith("ann.")})
    meta = dict(store.meta, **{k: v for k, v in annotation.meta.items() if k != "region"})
    return Shard(store.samples, store.build, variants, store.calls, annotation.transcripts, meta)
