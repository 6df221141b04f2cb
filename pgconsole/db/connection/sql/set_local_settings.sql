-- set_local_settings: apply session settings to the current transaction only (behind a pooler).
-- $1 text[]: setting names; $2 text[]: their values.
SELECT count(set_config(s.name, s.value, true))
FROM unnest($1::text[], $2::text[]) AS s(name, value)
