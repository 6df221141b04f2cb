"""Benchmarks: each starts its own throwaway server and measures raw asyncpg in the same run."""
