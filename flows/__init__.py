"""Prefect flows: thin wrappers over piiscan that pass lake keys and PII-free summaries."""
