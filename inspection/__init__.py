"""Inspection records: enterprises, sampling batches, imports, the series aggregate, statistics."""
