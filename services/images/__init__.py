"""Image processing of progress photos: the ingest pipeline and comparisons."""
