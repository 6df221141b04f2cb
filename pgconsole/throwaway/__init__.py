"""A throwaway PostgreSQL server with its own CA, and the demo seeded into it: tooling for
`--demo`, the tests and the benchmarks, never used against a user's server."""
