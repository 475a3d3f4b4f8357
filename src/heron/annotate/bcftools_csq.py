"""Consequences for a VCF that has none: ``bcftools csq`` (bundled in pysam) from a GFF3 and a
reference FASTA, written as a ``BCSQ``-annotated, bgzipped and indexed VCF that the ingest
reads like any other (``ingest.csq_field: BCSQ``).

Two modes:

* ``local`` (default) — ``--local-csq --samples -``: each record is predicted on its own, like
  VEP. The consequence is a property of the site, the same for every carrier, so heron's
  comp-het and MOI logic (which works on genotypes) sees the same thing it sees with VEP
  input. Genotypes are not read, which keeps large cohorts fast. Two variants in one codon
  are each called on their own (e.g. ``stop_gained`` for a C>T that, in cis with a second
  change in the codon, is really a missense).
* ``haplotype`` — bcftools' haplotype-aware calling over the samples' genotypes, for phased
  VCFs (read-backed or trio phasing). ``phase`` says what to do with unphased
  heterozygotes: ``r`` (default) refuses them, so unphased input fails loudly instead of
  being silently guessed; ``a`` takes 0/1 as 0|1 (all hets on one haplotype, i.e. assumes
  cis); ``R`` takes 0/1 as 1|1; ``m`` merges all genotypes into one haplotype; ``s`` skips
  unphased hets (their variants then get no consequence). INFO/BCSQ is then the union over
  the samples' haplotypes: a compound consequence is written once, at the first variant of
  the compound, and its partners carry ``@<pos>`` pointers to it; a consequence downstream of
  a stop or frameshift on the same haplotype is prefixed ``*``. The per-sample FORMAT/BCSQ
  bitmask says which entries each sample carries.

Contig names: Ensembl GFF3 uses ``21`` where a GRCh38 VCF or FASTA may use ``chr21``; when the
three files disagree, ``--unify-chr-names`` strips ``chr`` from the ones that have it
(output keeps the VCF's names). ``force`` passes ``--force`` for GFF3 files that fail
bcftools' sanity checks (non-Ensembl flavours); Ensembl GFF3 needs none.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from heron.errors import InputError

MODES = ("local", "haplotype")
PHASES = ("r", "a", "R", "m", "s")
#: INFO fields that already carry consequences (VEP, bcftools csq, snpEff).
CONSEQUENCE_FIELDS = ("CSQ", "BCSQ", "ANN")


def consequence_field(vcf: str | Path, fields: tuple[str, ...] = CONSEQUENCE_FIELDS) -> str | None:
    """The first of ``fields`` declared as an INFO field in the VCF's header, or None when the
    VCF carries no consequences (then run :func:`run_bcftools_csq`)."""
    import pysam

    try:
        with pysam.VariantFile(str(vcf)) as handle:
            declared = set(handle.header.info)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read as VCF/BCF ({exc})", path=str(vcf),
                         hint="give a bgzipped VCF or a BCF") from None
    return next((f for f in fields if f in declared), None)


def _has_chr(names) -> bool | None:
    names = [n for n in names if n]
    return names[0].lower().startswith("chr") if names else None


def _vcf_contigs(vcf: Path) -> list[str]:
    import pysam

    with pysam.VariantFile(str(vcf)) as handle:
        names = list(handle.header.contigs)
        if not names:
            first = next(iter(handle), None)
            names = [first.chrom] if first is not None else []
    return names


def _gff_contig(gff: Path) -> str | None:
    """Sequence id of the first feature line of a GFF3 (plain or gzipped)."""
    with open(gff, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    with (gzip.open(gff, "rt") if gz else open(gff)) as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                return line.split("\t", 1)[0]
    return None


def _fasta_contigs(fasta: Path) -> list[str]:
    import pysam

    try:
        with pysam.FastaFile(str(fasta)) as handle:
            return list(handle.references)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open as an indexed FASTA ({exc})", path=str(fasta),
                         hint="give a FASTA with its .fai (samtools faidx), bgzipped with .gzi "
                              "if compressed") from None


def unify_chr_names(vcf: Path, gff: Path, fasta: Path) -> str | None:
    """The ``--unify-chr-names`` value for these files (``chr,-,chr`` strips ``chr`` from the
    VCF and FASTA names), or None when they already agree."""
    spelled = [_has_chr(_vcf_contigs(vcf)), _has_chr([_gff_contig(gff)]),
               _has_chr(_fasta_contigs(fasta))]
    known = {s for s in spelled if s is not None}
    if len(known) < 2:
        return None
    return ",".join("chr" if s else "-" for s in spelled)


def _file_region(vcf: Path, region: str) -> str:
    """``region`` with its contig spelt as the VCF spells it."""
    contig, sep, span = region.partition(":")
    bare = contig[3:] if contig.lower().startswith("chr") else contig
    for name in _vcf_contigs(vcf):
        if (name[3:] if name.lower().startswith("chr") else name) == bare:
            return f"{name}{sep}{span}"
    return region


def run_bcftools_csq(vcf: str | Path, out: str | Path, *, gff: str | Path, fasta: str | Path,
                     region: str | None = None, mode: str = "local", phase: str = "r",
                     tag: str = "BCSQ", force: bool = False, ncsq: int = 15) -> Path:
    """Annotate ``vcf`` with consequences into ``out`` (bgzipped VCF, indexed ``.tbi``).

    gff: Ensembl GFF3 (plain or gzipped); fasta: the reference, indexed (.fai). region:
    ``chr21`` or ``chr21:1-5000000`` (either contig spelling; needs the VCF's index). mode:
    ``local`` or ``haplotype`` (see the module docstring); phase: unphased-heterozygote
    policy of haplotype mode. tag: INFO field written. force: run past bcftools' GFF sanity
    checks. ncsq: per-haplotype consequences kept per site in haplotype mode (bcftools'
    FORMAT/BCSQ bitmask width). Returns ``out``. InputError names the file and bcftools'
    message when it fails.
    """
    import pysam
    from pysam import bcftools

    vcf, out, gff, fasta = Path(vcf), Path(out), Path(gff), Path(fasta)
    if mode not in MODES:
        raise InputError(f"unknown bcftools csq mode {mode!r}",
                         hint=f"use one of {', '.join(MODES)}")
    if phase not in PHASES:
        raise InputError(f"unknown bcftools csq phase policy {phase!r}",
                         hint=f"use one of {', '.join(PHASES)}")
    for path, what in ((vcf, "VCF"), (gff, "GFF3 gene models"), (fasta, "reference FASTA")):
        if not path.is_file():
            raise InputError(f"{what} not found", path=str(path), hint="check the path")
    args = ["--fasta-ref", str(fasta), "--gff-annot", str(gff), "--custom-tag", tag,
            "--output-type", "z", "--output", str(out), "--write-index=tbi"]
    if mode == "local":
        args += ["--local-csq", "--samples", "-"]
    else:
        args += ["--phase", phase, "--ncsq", str(ncsq)]
    unify = unify_chr_names(vcf, gff, fasta)
    if unify:
        args += ["--unify-chr-names", unify]
    if force:
        args.append("--force")
    if region:
        args += ["--regions", _file_region(vcf, region)]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        bcftools.csq(*args, str(vcf), catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        out.unlink(missing_ok=True)
        Path(f"{out}.tbi").unlink(missing_ok=True)
        # pysam's message holds bcftools' whole stderr; its last line says what went wrong
        stderr = str(exc).split("stderr=", 1)[-1].replace("\\n", "\n").strip(" '\"\n")
        message = stderr.splitlines()[-1] if stderr else str(exc)
        hint = ("phase the VCF, or choose a phase policy for unphased genotypes (phase='a', "
                "'R', 'm' or 's'), or use mode='local'" if "unphased" in message.lower() else
                "check that the GFF3 (Ensembl format), FASTA and VCF are of the same build; "
                "force=True skips bcftools' GFF sanity checks")
        raise InputError(f"bcftools csq failed: {message}", path=str(vcf),
                         hint=hint) from None
    return out
