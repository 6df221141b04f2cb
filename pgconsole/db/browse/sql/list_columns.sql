-- list_columns: the live columns of one relation in attnum order, with type, type category,
-- default or generated expression, identity and comment. $1 oid: the relation.
SELECT a.attnum,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       -- Without its modifier: the type a typed value is cast to. `character` alone would
       -- mean char(1), so blank-padded types are written bpchar.
       CASE a.atttypid WHEN 'bpchar'::regtype THEN 'bpchar'
                       WHEN '_bpchar'::regtype THEN 'bpchar[]'
                       ELSE format_type(a.atttypid, NULL) END AS base_type,
       a.atttypid AS type_oid,
       t.typcategory::text AS category,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default_expr,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END
           AS generated_expr,
       a.attidentity::text AS identity,
       d.description AS comment
FROM pg_attribute AS a
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description AS d
  ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
WHERE a.attrelid = $1::oid
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
