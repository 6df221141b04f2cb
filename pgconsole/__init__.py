"""pgconsole: a keyboard-driven terminal admin console for PostgreSQL."""

__version__ = "0.1.0"
"""Kept in step with pyproject.toml (a test checks); importlib.metadata costs 40 ms at start."""
