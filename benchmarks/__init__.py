"""Benchmarks: each starts its own throwaway server and measures raw asyncpg in the same run."""

# pgconsole sets Textual's frame rate when it is imported, before Textual reads it; the
# benchmarks must run with the settings the `pgconsole` command runs with.
import pgconsole  # noqa: F401
