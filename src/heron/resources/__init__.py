"""Reference resources: download, versioned snapshots and readers, one module per source."""
