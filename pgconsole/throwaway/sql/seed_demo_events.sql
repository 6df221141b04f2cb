-- seed_demo_events.sql: insert $1 (bigint, the row count) rows into shop.events.
--
-- Runs after seed_demo.sql (customer_id draws from the customers it made) and before
-- seed_demo_finish.sql, which adds the primary key, the foreign key and the indexes once the
-- rows are in (less than half the time of inserting into an indexed table). A single
-- statement, so that it can be sent with a bound parameter.
--
-- Row n gets id n and happens (n - 1)/$1 of a year after 2024-07-01 UTC, plus up to a
-- minute of jitter, like an append-only log. As in seed_demo.sql every choice is a hash of
-- the row number, so the same rows come out on every run. Share of SQL NULLs: customer_id
-- ~35% (anonymous browsing), payload 10%, tags 35% (plus 5% empty arrays), amount ~80%
-- (only money events have one), raw 80%, note 98%.
WITH slots AS MATERIALIZED (
    -- The kinds' weights, as 100 slots: an event's kind is that of slot (hash % 100).
    SELECT (row_number() OVER (ORDER BY w.ord, n) - 1)::integer AS slot, w.kind
    FROM (VALUES
        (1, 'page_view'::shop.event_kind, 52), (2, 'search', 14), (3, 'add_to_cart', 10),
        (4, 'remove_from_cart', 3), (5, 'checkout', 4), (6, 'purchase', 4), (7, 'refund', 1),
        (8, 'login', 6), (9, 'logout', 4), (10, 'support_ticket', 2)
    ) AS w (ord, kind, pct)
    CROSS JOIN generate_series(1, w.pct) AS n
),
kinds AS MATERIALIZED (
    SELECT array_agg(kind ORDER BY slot) AS by_slot FROM slots
),
payloads AS MATERIALIZED (
    -- 100 payload documents per slot, in one jsonb array: event n takes element
    -- slot * 100 + (hash % 100). Building a jsonb value costs a microsecond or two, and
    -- `->` on an array is cheap, so building 10,000 documents and sharing them is much
    -- faster than building a million; nobody browsing the demo notices the repeats.
    SELECT jsonb_agg(CASE kind
        WHEN 'page_view' THEN jsonb_build_object(
            'path', CASE p.h1 % 4
                WHEN 0 THEN '/'
                WHEN 1 THEN '/cart'
                ELSE '/products/' || (1 + p.h2 % 400)
            END,
            -- A JSON null inside the document, unlike the SQL NULL payloads.
            'referrer', (ARRAY['https://www.google.com/', 'https://duckduckgo.com/',
                               'newsletter', NULL])[1 + p.h3 % 4],
            'duration_ms', p.h4 % 30000)
        WHEN 'search' THEN jsonb_build_object(
            'query', (ARRAY['usb-c hub', 'ergonomic keyboard', 'mug', 'hoodie size L',
                            'stylo plume', 'キーボード', 'socks "wool"', 'desk lamp'])[1 + p.h1 % 8],
            'results', p.h2 % 120,
            'page', 1 + p.h3 % 3)
        WHEN 'add_to_cart' THEN jsonb_build_object(
            'product_id', 1 + p.h1 % 400,
            'quantity', 1 + p.h2 % 3)
        WHEN 'remove_from_cart' THEN jsonb_build_object(
            'product_id', 1 + p.h1 % 400,
            'quantity', 1 + p.h2 % 3)
        WHEN 'checkout' THEN jsonb_build_object(
            'step', (ARRAY['shipping', 'payment', 'review'])[1 + p.h1 % 3],
            'items', 1 + p.h2 % 6,
            'currency', 'EUR')
        WHEN 'purchase' THEN jsonb_build_object(
            'order_id', 1 + p.h1 % 40000,
            'currency', 'EUR',
            'payment', jsonb_build_object(
                'method', (ARRAY['card', 'card', 'paypal', 'invoice'])[1 + p.h2 % 4],
                'card_brand', CASE WHEN p.h2 % 4 < 2
                    THEN (ARRAY['visa', 'mastercard', 'amex'])[1 + p.h3 % 3] END))
        WHEN 'refund' THEN jsonb_build_object(
            'order_id', 1 + p.h1 % 40000,
            'reason', (ARRAY['damaged', 'wrong size', 'changed my mind'])[1 + p.h2 % 3])
        WHEN 'login' THEN jsonb_build_object(
            'method', (ARRAY['password', 'sso', 'passkey'])[1 + p.h1 % 3],
            'ip', '198.51.100.' || (1 + p.h2 % 254),
            'user_agent', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'ShopApp/3.2 (iOS 17)',
                                 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'])[1 + p.h3 % 3])
        WHEN 'logout' THEN jsonb_build_object(
            'session_minutes', 1 + p.h1 % 240)
        WHEN 'support_ticket' THEN jsonb_build_object(
            'ticket', 'T-' || lpad((p.h1 % 100000)::text, 5, '0'),
            'priority', (ARRAY['low', 'normal', 'normal', 'high'])[1 + p.h2 % 4],
            'subject', (ARRAY['Where is my parcel?', 'Invoice address wrong',
                              'Item arrived broken'])[1 + p.h3 % 3])
    END ORDER BY slot, v) AS docs
    FROM slots
    CROSS JOIN generate_series(0, 99) AS v
    CROSS JOIN LATERAL (
        SELECT hashint8extended(slot * 100 + v, 821) & 2147483647 AS h1,
               hashint8extended(slot * 100 + v, 822) & 2147483647 AS h2,
               hashint8extended(slot * 100 + v, 823) & 2147483647 AS h3,
               hashint8extended(slot * 100 + v, 824) & 2147483647 AS h4
    ) AS p
)
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
    CASE WHEN r.h5 % 10 <> 0 THEN payloads.docs -> (r.slot * 100 + r.h11 % 100)::integer END,
    CASE
        WHEN r.h6 % 100 < 35 THEN NULL
        WHEN r.h6 % 100 < 40 THEN '{}'::text[]
        ELSE ARRAY[(ARRAY['mobile', 'desktop', 'tablet', 'app'])[1 + r.h7 % 4]]
            || CASE WHEN r.h7 % 5 = 0 THEN ARRAY['returning'] ELSE '{}'::text[] END
            || CASE r.h7 % 9
                WHEN 0 THEN ARRAY['campaign:spring-sale']
                WHEN 1 THEN ARRAY['ab:checkout-v2']
                ELSE '{}'::text[]
            END
    END,
    CASE
        WHEN r.kind IN ('add_to_cart', 'remove_from_cart') THEN round(5 + (r.h8 % 30000) / 100.0, 2)
        WHEN r.kind IN ('checkout', 'purchase') THEN round(10 + (r.h8 % 60000) / 100.0, 2)
        WHEN r.kind = 'refund' THEN -round(5 + (r.h8 % 20000) / 100.0, 2)
    END,
    CASE WHEN r.h9 % 5 = 0
        THEN substring(sha256(int8send(r.g)) FROM 1 FOR 4 + (r.h9 % 13)::integer)
    END,
    CASE WHEN r.h10 % 50 = 0
        THEN (ARRAY['Customer reported a slow page', E'Flagged by fraud check.\nManual review: OK',
                    'Bot? 40 requests/s from one IP', 'Price shown as [b]€0[/b] on mobile',
                    '🚚 Delayed by carrier', 'Follow-up needed'])[1 + r.h10 / 50 % 6]
    END
FROM (
    SELECT d.*, kinds.by_slot[d.slot + 1] AS kind
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
               hashint8extended(g, 811) & 2147483647 AS h11,
               ((hashint8extended(g, 812) & 2147483647) % 100)::integer AS slot
        FROM generate_series(1, $1::bigint) AS g
        -- OFFSET 0 keeps the planner from copying these expressions into every place that
        -- uses them: each hash is computed once per row, not once per reference.
        OFFSET 0
    ) AS d
    CROSS JOIN kinds
    OFFSET 0
) AS r
-- Customer ids are 1..n: seed_demo.sql inserts them in one go into a fresh identity column.
CROSS JOIN (SELECT max(id) AS n FROM shop.customers) AS cust
CROSS JOIN payloads
