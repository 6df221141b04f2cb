-- list_indexes: the indexes of one relation, primary key first, with definition, access method,
-- flags, key and INCLUDE columns by name (NULL for an expression) and size. $1 oid: the
-- relation.
SELECT i.indexrelid AS oid,
       ic.relname AS name,
       pg_get_indexdef(i.indexrelid) AS definition,
       am.amname AS method,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       i.indisvalid AS is_valid,
       i.indpred IS NOT NULL AS is_partial,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
           LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord
       ) AS key_columns,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
           JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord > i.indnkeyatts
           ORDER BY k.ord
       ) AS include_columns,
       pg_relation_size(i.indexrelid) AS size_bytes
FROM pg_index AS i
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_am AS am ON am.oid = ic.relam
WHERE i.indrelid = $1::oid
ORDER BY i.indisprimary DESC, ic.relname
