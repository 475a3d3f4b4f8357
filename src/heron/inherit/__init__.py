"""Inherit: mode-of-inheritance models, comp-het pairing and de novo over whole pedigrees."""
