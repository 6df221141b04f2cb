"""The SQL console: its own connection, statement splitting, completion, EXPLAIN, history."""
