"""Writers: BGZF-compressed VCFs (cohort batches, ClinVar), PED, PanelApp JSON.

VCF text is assembled whole-block: every genotype call is an index into a byte pool of real
FORMAT strings; a block of rows is gathered with numpy in one pass, then compressed as BGZF
blocks on a thread pool (zlib releases the GIL) and indexed with ``pysam.tabix_index``.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from heron.genome import chrom_label

from .hgvs import SO_ACCESSION

# GRCh38 primary contigs (lengths from the GRCh38 assembly report).
GRCH38_LENGTHS = {
    1: 248956422, 2: 242193529, 3: 198295559, 4: 190214555, 5: 181538259, 6: 170805979, 7: 159345973,
    8: 145138636, 9: 138394717, 10: 133797422, 11: 135086622, 12: 133275309, 13: 114364328,
    14: 107043718, 15: 101991189, 16: 90338345, 17: 83257441, 18: 80373285, 19: 58617616,
    20: 64444167, 21: 46709983, 22: 50818468, 23: 156040895, 24: 57227415, 25: 16569,
}
CSQ_FIELDS = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|"
              "Protein_position|Amino_acids|CANONICAL|MANE_SELECT|am_class|am_pathogenicity|REVEL")
SPLICEAI_FIELDS = "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL"
BGZF_BLOCK = 65280
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class BgzfWriter:
    """Minimal multi-threaded BGZF writer (the gzip-member block format tabix reads)."""

    def __init__(self, path: str | Path, level: int = 3, threads: int = 2):
        self.handle = open(path, "wb")
        self.level = level
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.pending = b""

    def _block(self, data: bytes) -> bytes:
        comp = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        body = comp.compress(data) + comp.flush()
        header = struct.pack("<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(body) + 25)
        return header + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))

    def write(self, data: bytes) -> None:
        data = self.pending + data
        full = len(data) - len(data) % BGZF_BLOCK
        self.pending = data[full:]
        chunks = [data[i:i + BGZF_BLOCK] for i in range(0, full, BGZF_BLOCK)]
        for block in self.pool.map(self._block, chunks):
            self.handle.write(block)

    def close(self) -> None:
        if self.pending:
            self.handle.write(self._block(self.pending))
        self.handle.write(_BGZF_EOF)
        self.handle.close()
        self.pool.shutdown()


def vep_allele(ref: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """VEP's Allele: shared first base of an indel removed, a deletion's allele is ``-``.

    ref, alt: (n,) object arrays of str. Returns (n,) object array.
    """
    ref_s, alt_s = pd.Series(ref, dtype=object), pd.Series(alt, dtype=object)
    indel = ((ref_s.str.len() != alt_s.str.len()) | (ref_s.str.len() > 1)).to_numpy()
    shared = indel & (ref_s.str[0] == alt_s.str[0]).to_numpy()
    out = np.asarray(alt, dtype=object).copy()
    trimmed = alt_s[shared].str[1:].to_numpy(dtype=object).copy()
    trimmed[trimmed == ""] = "-"
    out[shared] = trimmed
    return out


def _escape(values: np.ndarray) -> np.ndarray:
    """Percent-encode the characters that would break INFO parsing, as VEP does."""
    out = np.asarray(values, dtype=object).copy()
    has = out != ""
    if has.any():
        out[has] = (pd.Series(out[has], dtype=object).str.replace("%", "%25", regex=False)
                    .str.replace(";", "%3B", regex=False).str.replace(",", "%2C", regex=False)
                    .str.replace("=", "%3D", regex=False).str.replace(" ", "_", regex=False)
                    .to_numpy(dtype=object))
    return out


def csq_text(sites: pd.DataFrame) -> np.ndarray:
    """VEP CSQ value of each site (one canonical-transcript entry): (n,) object array of str."""
    def col(name: str) -> np.ndarray:
        return sites[name].to_numpy(dtype=object)

    pp = sites["protein_position"].to_numpy()
    am = sites["am_score"].to_numpy()
    position = np.where(pp > 0, pp.astype(str), "").astype(object)
    am_txt = np.where(np.isnan(am), "", np.round(am, 4).astype(str)).astype(object)
    return (vep_allele(col("ref"), col("alt")) + "|" + col("consequence") + "|" + col("impact") + "|"
            + col("symbol") + "||Transcript|" + col("feature") + "|protein_coding|" + col("exon") + "|"
            + col("intron") + "|" + _escape(col("hgvsc")) + "|" + _escape(col("hgvsp")) + "|" + position + "|"
            + col("amino_acids") + "|YES|" + col("mane") + "|" + col("am_class") + "|" + am_txt + "|")


_HUNDREDTHS = np.array([f"{i / 100:.2f}" for i in range(101)], dtype=object)
_MANTISSA = np.array([f"{i / 100:.2f}" for i in range(100, 1000)], dtype=object)


def scientific(values: np.ndarray) -> np.ndarray:
    """Positive floats as 3-significant-digit scientific text (``1.78e-06``) by table lookup.

    values: (n,) float64 > 0. Returns (n,) object array of str.
    """
    exponent = np.floor(np.log10(values)).astype(np.int64)
    mantissa = np.rint(values / 10.0 ** exponent * 100).astype(np.int64)
    carry = mantissa >= 1000
    exponent, mantissa = exponent + carry, np.where(carry, 100, mantissa)
    sign = np.where(exponent < 0, "e-", "e+").astype(object)
    digits = np.char.zfill(np.abs(exponent).astype(str), 2).astype(object)
    return _MANTISSA[mantissa - 100] + sign + digits


def annotation_info(sites: pd.DataFrame, gnomad: pd.DataFrame, rng: np.random.Generator,
                    protocol) -> np.ndarray:
    """INFO text of each site (CSQ, gnomAD, SpliceAI), without the callset AC/AN.

    sites: site table; gnomad: (n,) ac/nhomalt/nhemi from ``sites.gnomad_counts``.
    Returns (n,) object array of str.
    """
    n = len(sites)
    af = sites["af"].to_numpy()
    present = ~np.isnan(af)
    gn = np.full(n, "", dtype=object)
    gn[present] = (";gnomad_AF=" + scientific(af[present])
                   + ";gnomad_AC=" + gnomad["ac"].to_numpy()[present].astype(str).astype(object)
                   + ";gnomad_nhomalt=" + gnomad["nhomalt"].to_numpy()[present].astype(str).astype(object)
                   + ";gnomad_nhemi=" + gnomad["nhemi"].to_numpy()[present].astype(str).astype(object))
    high = sites["splice_high"].to_numpy()
    ds = rng.uniform(0.0, 0.05, size=(n, 4))
    which = rng.integers(0, 4, size=n)
    ds[np.arange(n), which] = np.where(high, rng.uniform(protocol.spliceai_min, 1.0, n), rng.uniform(0.0, 0.1, n))
    ds_txt = _HUNDREDTHS[np.floor(ds * 100).astype(np.int64)]
    dp_txt = np.arange(-50, 51).astype(str).astype(object)[rng.integers(0, 101, size=(n, 4))]
    spliceai = (";SpliceAI=" + sites["alt"].to_numpy(dtype=object) + "|" + sites["symbol"].to_numpy(dtype=object))
    for j in range(4):
        spliceai = spliceai + "|" + ds_txt[:, j]
    for j in range(4):
        spliceai = spliceai + "|" + dp_txt[:, j]
    return "CSQ=" + csq_text(sites) + gn + spliceai


def cohort_header(samples: list[str], source: str) -> str:
    lines = ["##fileformat=VCFv4.2", f"##source={source}", "##reference=GRCh38"]
    lines += [f"##contig=<ID={chrom_label(c)},length={n},assembly=GRCh38>" for c, n in GRCH38_LENGTHS.items()]
    lines += [
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in called genotypes">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {CSQ_FIELDS}">',
        '##INFO=<ID=gnomad_AF,Number=A,Type=Float,Description="gnomAD allele frequency">',
        '##INFO=<ID=gnomad_AC,Number=A,Type=Integer,Description="gnomAD allele count">',
        '##INFO=<ID=gnomad_nhomalt,Number=A,Type=Integer,Description="gnomAD homozygous individuals">',
        '##INFO=<ID=gnomad_nhemi,Number=A,Type=Integer,Description="gnomAD hemizygous individuals">',
        f'##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3.1 variant annotation. Format: {SPLICEAI_FIELDS}">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + samples),
    ]
    return "\n".join(lines) + "\n"


def gather_rows(prefix: np.ndarray, calls: np.ndarray, pool) -> bytes:
    """VCF lines from per-row prefixes and a matrix of pool entries.

    prefix: (r,) object str — the first nine columns, tab-terminated. calls: (r, s) int64
    entries of ``pool`` (a ``genotypes.FormatPool``; each entry carries its trailing tab).
    Returns the bytes of r lines.
    """
    encoded = [p.encode() for p in prefix]
    pre_len = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    pre_buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    base = len(pool.buffer)
    buffer = np.concatenate([pool.buffer, pre_buf])
    pre_start = base + np.concatenate([[0], np.cumsum(pre_len)[:-1]])
    starts = np.concatenate([pre_start[:, None], pool.start[calls]], axis=1).ravel()
    lengths = np.concatenate([pre_len[:, None], pool.length[calls]], axis=1).ravel()
    out_start = np.cumsum(lengths) - lengths
    index = np.repeat(starts - out_start, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
    text = buffer[index]
    row_len = np.concatenate([pre_len[:, None], pool.length[calls]], axis=1).sum(axis=1)
    text[np.cumsum(row_len) - 1] = ord("\n")
    return text.tobytes()


def index_vcf(path: Path) -> None:
    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)


def write_ped(path: Path, people: pd.DataFrame) -> None:
    """PLINK PED with a header and a 7th column of HPO terms (comma separated)."""
    seq = people[people["sequenced"]]
    ids = people["sample_id"].to_numpy()
    sequenced = people["sequenced"].to_numpy()

    def parent(col: str) -> np.ndarray:
        p = seq[col].to_numpy()
        ok = p >= 0
        out = np.full(len(p), "0", dtype=object)
        out[ok] = np.where(sequenced[p[ok]], ids[p[ok]], "0")
        return out

    table = pd.DataFrame({"family": seq["family_id"], "individual": seq["sample_id"], "father": parent("father"),
                          "mother": parent("mother"), "sex": seq["sex"], "phenotype": seq["affected"],
                          "hpo": seq["hpo"].map(",".join)})
    with open(path, "w") as handle:
        handle.write("#family\tindividual\tfather\tmother\tsex\tphenotype\thpo\n")
        table.to_csv(handle, sep="\t", header=False, index=False)


def write_clinvar_vcf(path: Path, records: pd.DataFrame, real: pd.DataFrame, info_csq: np.ndarray,
                      file_date: str) -> None:
    """ClinVar-format VCF (contigs without ``chr``) of the chosen published variants.

    records: ``knowledge.clinvar_records`` output (index = real rows); info_csq: (len(real),)
    CSQ value of every real variant (``csq_text``).
    """
    rows = real.loc[records.index]
    order = np.lexsort((rows["pos"].to_numpy(), rows["chrom"].to_numpy()))
    rows, rec = rows.iloc[order], records.iloc[order]
    names = np.array([""] + [chrom_label(c, with_chr=False) for c in range(1, 26)], dtype=object)
    chrom = names[rows["chrom"].to_numpy(np.int64)]
    vid = rec.index.to_numpy() + 1
    info = ("ALLELEID=" + (vid + 1_000_000).astype(str) + ";CLNSIG=" + rec["clnsig"].to_numpy()
            + ";CLNREVSTAT=" + rec["clnrevstat"].to_numpy() + ";GENEINFO=" + rows["symbol"].to_numpy() + ":0"
            + ";MC=" + rows["consequence"].map(SO_ACCESSION).fillna("SO:0001060").to_numpy() + "|"
            + rows["consequence"].to_numpy() + ";CSQ=" + info_csq[rec.index.to_numpy()])
    body = pd.DataFrame({"c": chrom, "p": rows["pos"].to_numpy(), "id": vid, "r": rows["ref"].to_numpy(),
                         "a": rows["alt"].to_numpy(), "q": ".", "f": ".", "i": info})
    header = ["##fileformat=VCFv4.1", f"##fileDate={file_date}", "##source=ClinVar", "##reference=GRCh38"]
    header += [f"##contig=<ID={chrom_label(c, with_chr=False)},length={n}>" for c, n in GRCH38_LENGTHS.items()]
    header += [
        '##ID=<Description="ClinVar Variation ID">',
        '##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">',
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Aggregate germline classification for this single variant">',
        '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status of germline classification for the Variation ID">',
        '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant reported as gene symbol:gene id (gene id unknown here: 0)">',
        '##INFO=<ID=MC,Number=.,Type=String,Description="comma separated list of molecular consequence in the form of Sequence Ontology ID|molecular_consequence">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {CSQ_FIELDS}">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    writer = BgzfWriter(path)
    writer.write(("\n".join(header) + "\n").encode())
    writer.write(body.to_csv(sep="\t", header=False, index=False).encode())
    writer.close()
    index_vcf(path)


def write_json_gz(path: Path, data: dict) -> None:
    # json.dumps runs the C encoder; json.dump to a stream would not.
    with gzip.open(path, "wb") as handle:
        handle.write(json.dumps(data).encode())
