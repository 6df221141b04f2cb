-- list_local_settings: the settings set in this session or transaction (behind a pooler, the
-- pool's session settings SET LOCAL), to be set again in each transaction of the console's.
-- No parameters. client_encoding is the driver's own business.
SELECT name, current_setting(name) AS value
FROM pg_settings
WHERE source = 'session' AND name <> 'client_encoding'
ORDER BY name
