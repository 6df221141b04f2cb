"""Changing rows: the visible edit transaction with its lost-update checks."""
