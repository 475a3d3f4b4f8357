"""Classify: gene sets, rows, pre-filters, categories and frequency filters."""
