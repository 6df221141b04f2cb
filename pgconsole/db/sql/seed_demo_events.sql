-- seed_demo_events.sql: insert $1 (bigint, the row count) rows into shop.events.
--
-- Runs after seed_demo.sql (customer_id draws from the customers it made) and before
-- seed_demo_finish.sql, which adds the primary key, the foreign key and the indexes once the
-- rows are in. A single statement, so it can be sent with a bound parameter.
--
-- The events are spread evenly over 2024-07-01 .. 2025-06-30 UTC in id order, with up to a
-- minute of jitter, like an append-only log. As in seed_demo.sql every choice is a hash of the
-- row number, so the same rows come out on every run. Share of SQL NULLs: customer_id ~35%
-- (anonymous browsing), payload 10%, tags 35% (plus 5% empty arrays), amount ~80% (only
-- money events have one), raw 80%, note 98%.
INSERT INTO shop.events (id, occurred_at, customer_id, kind, payload, tags, amount, raw, note)
OVERRIDING SYSTEM VALUE
SELECT
    r.g,
    timestamptz '2024-07-01 00:00:00+00'
        + interval '365 days' * ((r.g - 1)::double precision / $1::bigint)
        + interval '1 millisecond' * (r.h1 % 60000),
    CASE
        WHEN r.kind IN ('page_view', 'search', 'add_to_cart', 'remove_from_cart')
            AND r.h2 % 100 < 45 THEN NULL
        ELSE 1 + (r.h3 % cust.n) * (r.h4 % 1000) / 1000
    END,
    r.kind,
    CASE
        WHEN r.h5 % 10 = 0 THEN NULL
        WHEN r.kind = 'page_view' THEN jsonb_build_object(
            'path', CASE r.h6 % 4
                WHEN 0 THEN '/'
                WHEN 1 THEN '/cart'
                ELSE '/products/' || (1 + r.h7 % 400)
            END,
            -- A JSON null inside the document, unlike the SQL NULL payload above.
            'referrer', (ARRAY['https://www.google.com/', 'https://duckduckgo.com/',
                               'newsletter', NULL])[1 + r.h8 % 4],
            'duration_ms', r.h9 % 30000)
        WHEN r.kind = 'search' THEN jsonb_build_object(
            'query', (ARRAY['usb-c hub', 'ergonomic keyboard', 'mug', 'hoodie size L',
                            'stylo plume', 'キーボード', 'socks "wool"', 'desk lamp'])[1 + r.h6 % 8],
            'results', r.h7 % 120,
            'page', 1 + r.h8 % 3)
        WHEN r.kind IN ('add_to_cart', 'remove_from_cart') THEN jsonb_build_object(
            'product_id', 1 + r.h6 % 400,
            'quantity', 1 + r.h7 % 3)
        WHEN r.kind = 'checkout' THEN jsonb_build_object(
            'step', (ARRAY['shipping', 'payment', 'review'])[1 + r.h6 % 3],
            'items', 1 + r.h7 % 6,
            'currency', 'EUR')
        WHEN r.kind = 'purchase' THEN jsonb_build_object(
            'order_id', 1 + r.h6 % 40000,
            'currency', 'EUR',
            'payment', jsonb_build_object(
                'method', (ARRAY['card', 'card', 'paypal', 'invoice'])[1 + r.h7 % 4],
                'card_brand', CASE WHEN r.h7 % 4 < 2
                    THEN (ARRAY['visa', 'mastercard', 'amex'])[1 + r.h8 % 3] END))
        WHEN r.kind = 'refund' THEN jsonb_build_object(
            'order_id', 1 + r.h6 % 40000,
            'reason', (ARRAY['damaged', 'wrong size', 'changed my mind'])[1 + r.h7 % 3])
        WHEN r.kind = 'login' THEN jsonb_build_object(
            'method', (ARRAY['password', 'sso', 'passkey'])[1 + r.h6 % 3],
            'ip', '198.51.100.' || (1 + r.h7 % 254),
            'user_agent', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'ShopApp/3.2 (iOS 17)',
                                 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'])[1 + r.h8 % 3])
        WHEN r.kind = 'logout' THEN jsonb_build_object(
            'session_minutes', 1 + r.h6 % 240)
        ELSE jsonb_build_object(
            'ticket', 'T-' || lpad((r.h6 % 100000)::text, 5, '0'),
            'priority', (ARRAY['low', 'normal', 'normal', 'high'])[1 + r.h7 % 4],
            'subject', (ARRAY['Where is my parcel?', 'Invoice address wrong',
                              'Item arrived broken'])[1 + r.h8 % 3])
    END,
    CASE
        WHEN r.h9 % 100 < 35 THEN NULL
        WHEN r.h9 % 100 < 40 THEN '{}'::text[]
        ELSE ARRAY[(ARRAY['mobile', 'desktop', 'tablet', 'app'])[1 + r.h10 % 4]]
            || CASE WHEN r.h10 % 5 = 0 THEN ARRAY['returning'] ELSE '{}'::text[] END
            || CASE r.h10 % 9
                WHEN 0 THEN ARRAY['campaign:spring-sale']
                WHEN 1 THEN ARRAY['ab:checkout-v2']
                ELSE '{}'::text[]
            END
    END,
    CASE
        WHEN r.kind IN ('add_to_cart', 'remove_from_cart') THEN round(5 + (r.h6 % 30000) / 100.0, 2)
        WHEN r.kind IN ('checkout', 'purchase') THEN round(10 + (r.h7 % 60000) / 100.0, 2)
        WHEN r.kind = 'refund' THEN -round(5 + (r.h7 % 20000) / 100.0, 2)
    END,
    CASE WHEN r.h2 % 5 = 0
        THEN substring(sha256(int8send(r.g)) FROM 1 FOR 4 + (r.h1 % 13)::integer)
    END,
    CASE WHEN r.h3 % 50 = 0
        THEN (ARRAY['Customer reported a slow page', E'Flagged by fraud check.\nManual review: OK',
                    'Bot? 40 requests/s from one IP', 'Price shown as [b]€0[/b] on mobile',
                    '🚚 Delayed by carrier', 'Follow-up needed'])[1 + r.h4 % 6]
    END
FROM (
    SELECT d.*, CASE
        WHEN d.kind_draw < 52 THEN 'page_view'
        WHEN d.kind_draw < 66 THEN 'search'
        WHEN d.kind_draw < 76 THEN 'add_to_cart'
        WHEN d.kind_draw < 79 THEN 'remove_from_cart'
        WHEN d.kind_draw < 83 THEN 'checkout'
        WHEN d.kind_draw < 87 THEN 'purchase'
        WHEN d.kind_draw < 88 THEN 'refund'
        WHEN d.kind_draw < 94 THEN 'login'
        WHEN d.kind_draw < 98 THEN 'logout'
        ELSE 'support_ticket'
    END::shop.event_kind AS kind
    FROM (
        SELECT g,
               hashint8extended(g, 801) & 2147483647 AS h1,
               hashint8extended(g, 802) & 2147483647 AS h2,
               hashint8extended(g, 803) & 2147483647 AS h3,
               hashint8extended(g, 804) & 2147483647 AS h4,
               hashint8extended(g, 805) & 2147483647 AS h5,
               hashint8extended(g, 806) & 2147483647 AS h6,
               hashint8extended(g, 807) & 2147483647 AS h7,
               hashint8extended(g, 808) & 2147483647 AS h8,
               hashint8extended(g, 809) & 2147483647 AS h9,
               hashint8extended(g, 810) & 2147483647 AS h10,
               (hashint8extended(g, 811) & 2147483647) % 100 AS kind_draw
        FROM generate_series(1, $1::bigint) AS g
        -- OFFSET 0 keeps the planner from inlining these columns into every expression that
        -- uses them: each hash is computed once per row instead of once per reference.
        OFFSET 0
    ) AS d
    OFFSET 0
) AS r
-- Customer ids are 1..n: seed_demo.sql inserts them in one go into a fresh identity column.
CROSS JOIN (SELECT max(id) AS n FROM shop.customers) AS cust
