"""Bulk import of sampling batches from CSV and XLSX files."""
