"""Real genotype quality: FORMAT GT:AD:DP:GQ values resampled from real joint-called trio exomes.

Every call of the simulated cohort takes the AD/DP/GQ of a real call of the same genotype class
(hom-ref, het, hom-alt, no-call) from ../shared/data/vcf (GIAB Ashkenazi trio, HapMap exome
trios). The real trios' Mendelian-error sites (child genotype impossible given the parents) are
kept as whole (child, father, mother) triples and planted at the observed rate, so simulated
trios carry the same apparent de novo artefacts the QC gates must reject.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cyvcf2
import numpy as np

from heron.errors import InputError

HOM_REF, HET, HOM_ALT, NO_CALL = 0, 1, 2, 3
_GT_TEXT = ("0/0", "0/1", "1/1", "./.")

# Real trios of the shared exomes: (vcf file, [(child, father, mother), ...]).
REAL_TRIOS = (
    ("giab_ashk_trio.b37.first10k.vcf.gz", (("HG002", "HG003", "HG004"),)),
    ("hapmap_exome_chr22.vcf.gz", (("NA12878", "NA12891", "NA12892"), ("NA07048", "NA07034", "NA07055"),
                                   ("NA10847", "NA12146", "NA12239"), ("NA18503", "NA18504", "NA18505"),
                                   ("NA18914", "NA18912", "NA18913"))),
)


@dataclass
class FormatPool:
    """Real FORMAT strings, ready to be gathered into VCF text.

    buffer: (b,) uint8, every entry's text followed by a tab; start, length: (k,) int64 byte
    span of entry k (tab included). class_offset, class_size: (4,) int64 — entries of genotype
    class c (0 hom-ref, 1 het, 2 hom-alt, 3 no-call) are class_offset[c] .. + class_size[c].
    me_entries: (m, 3) int64 entries of the real Mendelian-error triples (child, father,
    mother); me_dosage: (m, 3) int8 their alt-allele counts (-1 no-call).
    me_rate: Mendelian errors per informative trio site in the real data (float).
    nocall_rate: no-calls per (hom-ref + no-call) call in the real data (float).
    """

    buffer: np.ndarray
    start: np.ndarray
    length: np.ndarray
    class_offset: np.ndarray
    class_size: np.ndarray
    me_entries: np.ndarray
    me_dosage: np.ndarray
    me_rate: float
    nocall_rate: float

    def draw(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Entry index per call: classes (any shape) int8 0..3 -> same shape int64."""
        u = rng.random(classes.shape)
        return self.class_offset[classes] + (u * self.class_size[classes]).astype(np.int64)


def _text(values: np.ndarray) -> np.ndarray:
    """Integers to text, negatives (cyvcf2's missing) as '.'."""
    out = values.astype(np.int64).astype(str).astype(object)
    out[values < 0] = "."
    return out


def _read_calls(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bi-allelic calls of one VCF: samples, dosage (v, s) int8 (-1 no-call), FORMAT text (v, s)."""
    reader = cyvcf2.VCF(str(path))
    samples = [s.split("@")[0] for s in reader.samples]
    dosage, text = [], []
    for record in reader:
        if len(record.ALT) != 1:
            continue
        gt = record.gt_types  # 0 hom-ref, 1 het, 2 unknown, 3 hom-alt
        dose = np.select([gt == 0, gt == 1, gt == 3], [0, 1, 2], -1).astype(np.int8)
        n = len(samples)
        ad = record.format("AD")
        ad = ad[:, :2] if ad is not None and ad.shape[1] >= 2 else np.full((n, 2), -1)
        dp = record.format("DP")
        dp = dp[:, 0] if dp is not None else np.full(n, -1)
        gq = record.format("GQ")
        gq = gq[:, 0] if gq is not None else np.full(n, -1)
        gt_text = np.array(_GT_TEXT, dtype=object)[np.where(dose < 0, NO_CALL, dose)]
        text.append(gt_text + ":" + _text(ad[:, 0]) + "," + _text(ad[:, 1]) + ":" + _text(dp) + ":" + _text(gq))
        dosage.append(dose)
    reader.close()
    return samples, np.array(dosage, dtype=np.int8), np.array(text, dtype=object)


def _mendel_ok(child: np.ndarray, father: np.ndarray, mother: np.ndarray) -> np.ndarray:
    """Child dosage possible from the parents' (all called, autosomal)."""
    lo = (father == 2).astype(np.int8) + (mother == 2).astype(np.int8)
    hi = (father > 0).astype(np.int8) + (mother > 0).astype(np.int8)
    return (child >= lo) & (child <= hi)


def load_format_pool(vcf_dir: str | Path, trios=REAL_TRIOS) -> FormatPool:
    """Read the real trio exomes once and build the pools."""
    vcf_dir = Path(vcf_dir)
    by_class: list[list[np.ndarray]] = [[], [], [], []]
    me_text, me_dose = [], []
    informative = errors = 0
    for name, file_trios in trios:
        path = vcf_dir / name
        if not path.exists():
            raise InputError("real trio exome not found", path=str(path),
                             hint="point --data at the shared data folder (it holds vcf/)")
        samples, dosage, text = _read_calls(path)
        for cls in (HOM_REF, HET, HOM_ALT):
            by_class[cls].append(text[dosage == cls])
        by_class[NO_CALL].append(text[dosage < 0])
        for trio in file_trios:
            missing = [s for s in trio if s not in samples]
            if missing:
                raise InputError(f"trio samples {missing} absent", path=str(path))
            cols = [samples.index(s) for s in trio]
            d = dosage[:, cols]
            called = (d >= 0).all(axis=1)
            inf = called & (d > 0).any(axis=1)
            bad = inf & ~_mendel_ok(d[:, 0], d[:, 1], d[:, 2])
            informative += int(inf.sum())
            errors += int(bad.sum())
            me_text.append(text[bad][:, cols])
            me_dose.append(d[bad])
    entries = [np.concatenate(parts) for parts in by_class]
    me_text_all = np.concatenate(me_text)
    all_text = np.concatenate(entries + [me_text_all.ravel()])
    encoded = [(t + "\t").encode() for t in all_text]
    length = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    start = np.concatenate([[0], np.cumsum(length)[:-1]])
    size = np.array([len(e) for e in entries], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(size)[:-1]])
    n_me = len(me_text_all)
    me_entries = (size.sum() + np.arange(n_me * 3)).reshape(n_me, 3)
    n_ref, n_nc = size[HOM_REF], size[NO_CALL]
    return FormatPool(buffer=np.frombuffer(b"".join(encoded), dtype=np.uint8), start=start, length=length,
                      class_offset=offset, class_size=size, me_entries=me_entries,
                      me_dosage=np.concatenate(me_dose).astype(np.int8),
                      me_rate=errors / max(informative, 1), nocall_rate=n_nc / max(n_ref + n_nc, 1))
