"""Ingest: VCFs into the columnar store; pedigrees and phenotypes."""
