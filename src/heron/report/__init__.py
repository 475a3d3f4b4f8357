"""Report: the JSON, TSV and HTML outputs of a run."""
