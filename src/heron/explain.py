"""`heron explain`: every filter one call passed or failed, with the numbers.

Reads a finished (or partial) run's work folder: the store for the call itself, the
annotation, the classified rows, and re-runs the inheritance models over the prioritised
shard to print each model's checks in order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heron.annotate.csq import CONSEQUENCES
from heron.classify.categories import names as category_names
from heron.config import HeronConfig
from heron.errors import InputError
from heron.genome import chrom_code
from heron.keys import variant_keys
from heron.store import Shard


def parse_variant(text: str) -> tuple[int, int, str, str]:
    parts = text.replace("-", ":").split(":")
    if len(parts) != 4 or not parts[1].isdigit() or chrom_code(parts[0]) == 0:
        raise InputError(f"bad variant {text!r}", hint="write it as chrom:pos:ref:alt, e.g. "
                                                       "chr2:165310398:C:T")
    return chrom_code(parts[0]), int(parts[1]), parts[2].upper(), parts[3].upper()


def _find(folder: Path, key: int, ref: str, alt: str) -> tuple[Path, int] | None:
    for shard_dir in sorted(p for p in folder.glob("*") if (p / "meta.json").exists()):
        keys = np.load(shard_dir / "variants" / "key.npy", mmap_mode="r")
        i = int(np.searchsorted(keys, key))
        if i < len(keys) and keys[i] == key:
            refs = np.load(shard_dir / "variants" / "ref.npy", mmap_mode="r")
            alts = np.load(shard_dir / "variants" / "alt.npy", mmap_mode="r")
            if refs[i] == ref.encode() and alts[i] == alt.encode():
                return shard_dir, i
    return None


def explain(config: HeronConfig, sample: str, variant: str, work: Path | None = None) -> str:
    """A readable account of one call (sample × variant) through every stage."""
    from heron.pipeline import load_pedigree

    work = Path(work) if work else Path(config.work_dir) / config.cohort.name
    chrom, pos, ref, alt = parse_variant(variant)
    key = int(variant_keys(np.array([chrom]), np.array([pos]), [ref], [alt])[0])
    lines = [f"{sample} at {variant}"]
    found = _find(work / "store", key, ref, alt)
    if found is None:
        return "\n".join(lines + ["  not in the ingested VCFs (after splitting multi-allelic "
                                  "sites and trimming alleles); check the representation"])
    shard_dir, i = found
    store = Shard.load(shard_dir, mmap=True)
    if sample not in store.samples:
        raise InputError(f"sample {sample!r} is not in the VCFs",
                         hint=f"samples include {', '.join(store.samples[:5])}")
    s = store.samples.index(sample)
    c = {k: int(v[i, s]) for k, v in store.calls.items()}
    lines.append(f"  call: genotype {c['gt']} (alt copies; -1 missing), AD {c['ad_ref']},"
                 f"{c['ad_alt']}, DP {c['dp']}, GQ {c['gq']}, FILTER "
                 f"{'PASS' if store.variants['filter_pass'][i] else 'not PASS'}, callset AC "
                 f"{int(store.variants['ac'][i])}/{int(store.variants['an'][i])}")
    ann_dir = work / "annotation" / shard_dir.name
    if ann_dir.exists():
        ann = Shard.load(ann_dir)
        a = ann.variants
        from heron.report.candidates import CLINVAR_TEXT

        lines.append(f"  ClinVar: {CLINVAR_TEXT.get(int(a['ann.clinvar'][i]), 'other')}, "
                     f"stars {int(a['ann.clinvar_stars'][i])}; gnomAD AF "
                     f"{float(a['ann.gnomad_af'][i]):.3g}, hom {float(a['ann.gnomad_hom'][i])}, "
                     f"hemi {float(a['ann.gnomad_hemi'][i])}; SpliceAI "
                     f"{float(a['ann.spliceai'][i]):.3g}")
        tx = ann.transcripts
        for t in np.flatnonzero(tx["variant"] == i)[:12]:
            bits = int(tx["consequence"][t])
            lines.append(f"    {tx['gene_symbol'][t].decode()} {tx['transcript'][t].decode()} "
                         f"{tx['biotype'][t].decode()}: "
                         f"{','.join(n for j, n in enumerate(CONSEQUENCES) if bits >> j & 1)}")
    classified = work / "classified" / shard_dir.name
    if not classified.exists():
        return "\n".join(lines + ["  the run has not classified this shard yet"])
    cls = Shard.load(classified, tables=("variants", "rows"))
    j = np.flatnonzero(cls.variants["key"] == key)
    if len(j) == 0:
        return "\n".join(lines + ["  no row: its genes are on no patient's panel, or it has no "
                                  "category and no consequence a de novo call could use"])
    from heron.classify.genes import GeneSet

    symbols = GeneSet.from_json(work / "genes.json").symbol
    rows = np.flatnonzero(cls.rows["variant"] == j[0])
    for r in rows:
        pre = cls.rows["prefilter_rule"][r].decode()
        lines.append(f"  row {symbols[int(cls.rows['gene'][r])]}: categories "
                     f"{category_names(int(cls.rows['categories'][r])) or 'none'}; pre-filter "
                     f"{'failed ' + pre if pre else 'passed'}")
    ped = load_pedigree(config)
    ind = ped.individuals.get(sample)
    if ind is None or ind.affected != 2:
        return "\n".join(lines + ["  not analysed as a patient: not affected in the pedigree"])
    return "\n".join(lines + _model_trails(config, work, sample, key, ped))


def _model_trails(config: HeronConfig, work: Path, sample: str, key: int, ped) -> list[str]:
    from heron.classify.genes import GeneSet
    from heron.inherit.models import evaluate

    from heron.pipeline import load_classified

    classified = sorted(p for p in (work / "classified").iterdir()
                        if p.is_dir() and not p.name.startswith("."))
    shard = load_classified(classified, [work / "store" / p.name for p in classified])
    genes = GeneSet.from_json(work / "genes.json")
    result = evaluate(shard, ped.align(shard.samples), genes, config)
    calls = result.calls
    s = shard.samples.index(sample)
    mine = np.flatnonzero((calls.sample == s) & (shard.variants["key"][calls.variant] == key))
    if len(mine) == 0:
        return ["  the sample does not carry the ALT (or the call is missing)"]
    lines = []
    for item in mine:
        lines.append(f"  gene {genes.symbol[calls.gene[item]]}: categories "
                     f"{category_names(int(calls.categories[item])) or 'none'}")
        not_applicable = []
        for title, checks in [("de novo", calls.de_novo), *calls.checks.items()]:
            trail = checks.trail(int(item))
            failed = [t for t in trail if not t["passed"]]
            if failed and failed[0]["rule"].endswith(".moi"):
                not_applicable.append(title)
                continue
            lines.append(f"    {title}: " + ("PASSED" if not failed
                                               else f"failed at {failed[0]['rule']}"))
            for t in trail:
                limit = t["threshold"].strip(": ")
                detail = ", ".join(x for x in (
                    f"limit {limit}" if limit else "",
                    "" if t["observed"] is None else f"observed {t['observed']:g}") if x)
                lines.append(f"      {'ok  ' if t['passed'] else 'FAIL'} {t['rule']}"
                             + (f" ({detail})" if detail else ""))
                if not t["passed"]:
                    break
        if not_applicable:
            lines.append(f"    not applicable to the gene's MOI: {', '.join(not_applicable)}")
    return lines
