"""VCF text of the simulated cohort, built a chunk of records at a time with numpy.

Every FORMAT cell is laid out in a fixed-width byte matrix (one row per call, one slot per
piece: GT, AD values, DP, GQ, separator) with a mask of the bytes that exist; ``matrix[mask]``
is then the calls' text in file order. The per-record columns (CHROM..FORMAT) are built with
elementwise string operations over the chunk, and the two are joined record by record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cohort import AMINO, AMINO1, INDEL_CONSEQUENCES, SNV_CONSEQUENCES, Calls, Sites, \
    gnomad_counts

GRCH38_CONTIGS = {
    "chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555,
    "chr5": 181538259, "chr6": 170805979, "chr7": 159345973, "chr8": 145138636,
    "chr9": 138394717, "chr10": 133797422, "chr11": 135086622, "chr12": 133275309,
    "chr13": 114364328, "chr14": 107043718, "chr15": 101991189, "chr16": 90338345,
    "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
    "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415, "chrM": 16569,
}
CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
              "HGVSc|HGVSp|Protein_position|Amino_acids|CANONICAL|MANE_SELECT|am_class|"
              "am_pathogenicity|REVEL")
IMPACT = {term: impact for term, (impact, _) in {**SNV_CONSEQUENCES,
                                                 **INDEL_CONSEQUENCES}.items()}
IMPACT.update(inframe_deletion="MODERATE", inframe_insertion="MODERATE")
CODING = ("missense_variant", "synonymous_variant", "stop_gained", "start_lost", "stop_lost",
          "frameshift_variant", "inframe_deletion", "inframe_insertion")


def header(samples: list[str], source: str) -> str:
    """The VCF header (meta lines and the #CHROM line), newline-terminated."""
    lines = ["##fileformat=VCFv4.2", f"##source={source}", "##reference=GRCh38"]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in GRCH38_CONTIGS.items()]
    lines += [
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="Low quality">',
        '##FILTER=<ID=VQSRTrancheSNP99.90to100.00,Description="Truth sensitivity tranche '
        'level for SNP model at VQS Lod < -10.0">',
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called '
        'genotypes">',
        '##INFO=<ID=gnomad_AF,Number=A,Type=Float,Description="gnomAD v4.1 joint AF">',
        '##INFO=<ID=gnomad_AC,Number=A,Type=Integer,Description="gnomAD v4.1 joint AC">',
        '##INFO=<ID=gnomad_nhomalt,Number=A,Type=Integer,Description="gnomAD homozygotes">',
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        f'Ensembl VEP. Format: {CSQ_FORMAT}">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
    ]
    cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]
    return "\n".join(lines + ["\t".join(cols)]) + "\n"


def _number_table(max_value: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits of -1 ('.') .. max_value: (max_value + 2, width) uint8 and (max_value + 2,) int."""
    text = ["."] + [str(i) for i in range(max_value + 1)]
    width = len(text[-1])
    table = np.zeros((len(text), width), np.uint8)
    raw = np.frombuffer("".join(t.ljust(width, "\0") for t in text).encode(), np.uint8)
    table[:] = raw.reshape(len(text), width)
    return table, np.array([len(t) for t in text])


_DIGITS, _DIGIT_LEN = _number_table(999)


def format_calls(calls: Calls, n_alts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample columns of each record: (flat uint8 text, (r,) int64 bytes per record).

    Each record's text is its calls joined by tabs and ended with a newline; a no-call is
    ``./.`` with ``.`` values or, where ``calls.dropped``, a bare ``./.``.
    """
    r, n = calls.lo.shape
    cells = r * n
    missing = (calls.lo < 0).ravel()
    dropped = calls.dropped.ravel()
    two = np.repeat(n_alts == 2, n)
    width = 3 + 4 * 5 + 1
    text = np.zeros((cells, width), np.uint8)
    length = np.zeros((cells, width), bool)
    lo, hi = calls.lo.ravel(), calls.hi.ravel()
    text[:, 0] = np.where(missing, ord("."), ord("0") + lo)
    text[:, 1] = ord("/")
    text[:, 2] = np.where(missing, ord("."), ord("0") + hi)
    length[:, :3] = True
    col = 3
    values = [(calls.ad[..., 0], ord(":"), ~dropped), (calls.ad[..., 1], ord(","), ~missing),
              (calls.ad[..., 2], ord(","), two & ~missing), (calls.dp, ord(":"), ~dropped),
              (calls.gq, ord(":"), ~dropped)]
    for value, sep, present in values:
        v = np.minimum(value.ravel(), _DIGITS.shape[0] - 2) + 1
        text[:, col] = sep
        text[:, col + 1:col + 4] = _DIGITS[v]
        used = np.where(present, 1 + _DIGIT_LEN[v], 0)
        length[:, col:col + 4] = np.arange(4) < used[:, None]
        col += 4
    last = np.zeros((r, n), bool)
    last[:, -1] = True
    text[:, col] = np.where(last.ravel(), ord("\n"), ord("\t"))
    length[:, col] = True
    per_record = length.reshape(r, n * width).sum(axis=1)
    return text[length], per_record


def _s(values) -> np.ndarray:
    return np.asarray(values).astype(str).astype(object)


def _join_alts(values: np.ndarray, n_alts: np.ndarray) -> np.ndarray:
    """(r, 2) object → (r,) 'a' or 'a,b' by the record's number of ALTs."""
    return np.where(n_alts == 2, values[:, 0] + "," + values[:, 1], values[:, 0])


class Annotator:
    """VEP-style CSQ strings for the sites, with transcript ids fixed per gene."""

    def __init__(self, genes: pd.DataFrame, seed: int):
        g = len(genes)
        rng = np.random.default_rng([seed, 2])
        self.symbol = _s(genes["symbol"])
        self.gene_id = _s(genes["gene_id"])
        tx = rng.choice(np.arange(300_000, 700_000), (g, 2), replace=False)
        self.transcript = np.stack([_s(np.char.add("ENST", np.char.zfill(tx[:, i].astype(str), 11)))
                                    for i in range(2)], 1)
        self.protein = _s(np.char.add("ENSP", np.char.zfill((tx[:, 0] + 7).astype(str), 11)))
        mane = rng.integers(1000, 999_999, g)
        self.mane = _s(np.char.add(np.char.add("NM_", np.char.zfill(mane.astype(str), 6)),
                                   np.char.add(".", rng.integers(1, 8, g).astype(str))))
        self.exons = rng.integers(3, 40, g)
        self.protein_length = rng.integers(150, 3000, g)

    def csq(self, sites: Sites, rows: slice, seed: int, chunk: int) -> np.ndarray:
        """(r,) CSQ value of each record: per ALT a canonical MANE transcript, and for about
        half of the records a second (non-canonical) transcript with the same consequence."""
        rng = np.random.default_rng([seed, 3, chunk])
        n_alts = sites.n_alts[rows]
        r = len(n_alts)
        second = rng.random(r) < 0.5
        out = np.full(r, "", dtype=object)
        for a in range(2):
            present = n_alts > a
            entry = [self._entry(sites, rows, a, tx, rng) for tx in (0, 1)]
            alt_text = np.where(second, entry[0] + "," + entry[1], entry[0])
            out = np.where(present, np.where(out == "", alt_text, out + "," + alt_text), out)
        return out

    def _entry(self, sites: Sites, rows: slice, a: int, tx: int, rng) -> np.ndarray:
        gene = sites.gene[rows]
        r = len(gene)
        ref, alt = sites.ref[rows], sites.alt[rows][:, a]
        term = sites.consequence[rows][:, a]
        ref_len = np.strings.str_len(ref.astype(str))
        indel = np.strings.str_len(alt.astype(str)) != ref_len
        # VEP drops the shared first base of an indel; a deletion's allele is then '-'
        trimmed = _s(np.strings.slice(alt.astype(str), 1, None))
        allele = np.where(indel, np.where(trimmed == "", "-", trimmed), alt)
        impact = pd.Series(term).map(IMPACT).fillna("MODIFIER").to_numpy(object)
        coding = np.isin(term, CODING)
        intronic = np.char.find(term.astype(str), "intron") >= 0
        exons = self.exons[gene]
        exon_no = rng.integers(1, exons + 1)
        ppos = rng.integers(2, self.protein_length[gene])
        cpos = 3 * ppos - rng.integers(0, 3, r)
        aa_from, aa_to = rng.integers(0, 20, r), rng.integers(0, 20, r)
        aa_to = np.where(aa_to == aa_from, (aa_to + 1) % 20, aa_to)
        p_from, p_to = _s(AMINO[aa_from]), _s(AMINO[aa_to])
        pp = _s(ppos)
        change = np.select(
            [term == "missense_variant", term == "stop_gained", term == "synonymous_variant",
             term == "frameshift_variant", term == "inframe_deletion",
             term == "inframe_insertion", term == "start_lost", term == "stop_lost"],
            [p_from + pp + p_to, p_from + pp + "Ter", p_from + pp + "=",
             p_from + pp + p_to + "fsTer" + _s(rng.integers(2, 40, r)), p_from + pp + "del",
             p_from + pp + "_" + _s(ppos + 1) + "ins" + p_to, "Met1?",
             "Ter" + pp + p_to + "ext*?"], "")
        hgvsp = np.where(change != "", self.protein[gene] + ":p." + change, "")
        cp = _s(cpos)
        dna = np.where(indel & (ref_len > 1), "del", np.where(indel, "dup", ref + ">" + alt))
        offset = np.where(intronic, "+" + _s(rng.integers(3, 200, r)), "")
        hgvsc = self.transcript[gene, tx] + ":c." + cp + offset + dna
        aa = np.where(term == "missense_variant",
                      _s(AMINO1[aa_from]) + "/" + _s(AMINO1[aa_to]),
                      np.where(term == "stop_gained", _s(AMINO1[aa_from]) + "/*", ""))
        missense = term == "missense_variant"
        am = np.round(rng.beta(0.8, 1.6, r), 4)
        am_class = np.select([am > 0.564, am >= 0.34], ["likely_pathogenic", "ambiguous"],
                             "likely_benign")
        canonical = "YES" if tx == 0 else ""
        mane = self.mane[gene] if tx == 0 else np.full(r, "", dtype=object)
        fields = [
            allele, term, impact, self.symbol[gene], self.gene_id[gene], "Transcript",
            self.transcript[gene, tx], "protein_coding",
            np.where(coding, _s(exon_no) + "/" + _s(exons), ""),
            np.where(intronic, _s(np.minimum(exon_no, exons - 1)) + "/" + _s(exons - 1), ""),
            hgvsc, hgvsp, np.where(coding, pp, ""), aa, canonical, mane,
            np.where(missense, am_class, ""), np.where(missense, _s(am), ""),
            np.where(missense, _s(np.round(rng.beta(1.0, 3.0, r), 3)), ""),
        ]
        out = np.full(r, "", dtype=object)
        for i, f in enumerate(fields):
            out = out + f if i == 0 else out + "|" + f
        return out


def site_columns(sites: Sites, rows: slice, calls: Calls, csq: np.ndarray) -> np.ndarray:
    """(r,) object: CHROM..FORMAT of each record, tab-joined, with a trailing tab."""
    n_alts = sites.n_alts[rows]
    counts = np.stack([(calls.lo == k).sum(1) + (calls.hi == k).sum(1) for k in (1, 2)], 1)
    an = 2 * (calls.lo >= 0).sum(1)
    af = counts / np.maximum(an, 1)[:, None]
    gaf = sites.gnomad_af[rows].copy()
    # a two-ALT record is in gnomAD when either allele is; the other then gets the floor
    either = ~np.isnan(gaf[:, 0]) | ((n_alts == 2) & ~np.isnan(gaf[:, 1]))
    gaf = np.where(np.isnan(gaf) & either[:, None], 1e-6, gaf)
    gac, ghom = gnomad_counts(gaf)
    info = ("AC=" + _join_alts(_s(counts), n_alts) + ";AF=" + _join_alts(_s(np.char.mod(
        "%.4g", af)), n_alts) + ";AN=" + _s(an))
    gnomad = (";gnomad_AF=" + _join_alts(_s(np.char.mod("%.3g", np.nan_to_num(gaf))), n_alts)
              + ";gnomad_AC=" + _join_alts(_s(gac), n_alts)
              + ";gnomad_nhomalt=" + _join_alts(_s(ghom), n_alts))
    info = np.where(either, info + gnomad, info) + ";CSQ=" + csq
    alt = _join_alts(sites.alt[rows], n_alts)
    return (sites.chrom[rows] + "\t" + _s(sites.pos[rows]) + "\t.\t" + sites.ref[rows] + "\t"
            + alt + "\t" + _s(np.char.mod("%.2f", sites.qual[rows])) + "\t"
            + sites.filter[rows] + "\t" + info + "\tGT:AD:DP:GQ\t")


def interleave(prefix: np.ndarray, body: np.ndarray, body_len: np.ndarray) -> bytes:
    """Records' text: prefix[i] followed by its slice of ``body`` (lengths ``body_len``).

    One join over two byte strings per record (the calls inside are already one block).
    """
    text = body.tobytes()
    ends = np.cumsum(body_len).tolist()
    starts = [0, *ends[:-1]]
    parts = []
    for head, start, end in zip(prefix.tolist(), starts, ends):
        parts += (head.encode("ascii"), text[start:end])
    return b"".join(parts)
