"""Incident diagnostics: the vacuum horizon and what holds it (more to come: statements,
waits, progress, replication)."""
