"""Annotate: consequences, ClinVar, population frequencies and scores joined to the store."""
