-- seed_demo.sql: create the demo `shop` schema and fill every table except shop.events. No $n.
--
-- A small web shop: customers, products, orders and their lines, plus the tables an operator
-- meets next to them (an audit log without any key, exchange rates keyed only by a unique
-- index, sensor readings in a partitioned table). shop.events is created here but left empty:
-- its row count is a parameter, so seed_demo_events.sql fills it, and seed_demo_finish.sql
-- indexes it and runs ANALYZE.
--
-- Determinism: every "random" choice is hashint8extended(row number, salt) & 2147483647, a
-- pure function of the row number that is the same on every PostgreSQL version and platform
-- (hash partitioning depends on that). random() is never used, so each run makes the same
-- rows and tests can rely on counts; only the gen_random_uuid() columns differ between runs.
-- Each table uses its own salts so that the n-th customer and the n-th order do not share
-- their choices. Timestamps carry an explicit UTC offset, so the session's TimeZone cannot
-- move data or partition bounds. The data's "now" is the end of 2025-06-30 UTC.

-- Each statement of the seed runs once, so compiling it to machine code (JIT) costs more
-- than it saves: about half a second in total. SET LOCAL lasts until the end of the
-- transaction, which demo.seed() keeps open over all three seed files.
SET LOCAL jit = off;

CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'pgconsole demo data: a small web shop';

CREATE TYPE shop.order_status AS ENUM
    ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'returned');
CREATE TYPE shop.event_kind AS ENUM
    ('page_view', 'search', 'add_to_cart', 'remove_from_cart', 'checkout', 'purchase',
     'refund', 'login', 'logout', 'support_ticket');

-- Foreign keys are added after the bulk inserts below: checking a constraint over a whole
-- table is a single join, checking it row by row is a trigger call per row.

CREATE TABLE shop.customers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id        uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    email            text NOT NULL UNIQUE,
    full_name        text NOT NULL,
    country          char(2) NOT NULL,
    phone            text,
    birth_date       date,
    marketing_opt_in boolean NOT NULL DEFAULT false,
    preferences      jsonb,
    created_at       timestamptz NOT NULL,
    last_login_at    timestamptz
);
COMMENT ON TABLE shop.customers IS 'People who signed up; about a third never gave a phone number';
COMMENT ON COLUMN shop.customers.public_id IS
    'Identifier shown to the customer (ids stay internal)';

CREATE TABLE shop.products (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku             text NOT NULL UNIQUE,
    name            text NOT NULL,
    category        text NOT NULL,
    description     text,
    price           numeric(10, 2) NOT NULL CHECK (price >= 0),
    weight_grams    integer,
    dimensions_cm   numeric(6, 1)[],
    attributes      json,
    warranty        interval,
    discontinued_at timestamp,
    created_at      timestamptz NOT NULL
);
COMMENT ON TABLE shop.products IS
    'Catalogue; rows 1-3 carry markup and control characters on purpose';
COMMENT ON COLUMN shop.products.dimensions_cm IS
    'Length, width, height; NULL element = not measured';
COMMENT ON COLUMN shop.products.discontinued_at IS
    'Local warehouse time (timestamp without time zone)';

CREATE TABLE shop.orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_no         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    customer_id      bigint NOT NULL,
    status           shop.order_status NOT NULL,
    placed_at        timestamptz NOT NULL,
    shipped_at       timestamptz,
    shipping_address jsonb NOT NULL,
    coupon_code      text,
    notes            text
);
COMMENT ON TABLE shop.orders IS 'One row per checkout';

CREATE TABLE shop.order_items (
    order_id   bigint NOT NULL,
    line_no    smallint NOT NULL,
    product_id integer NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL,
    discount   numeric(4, 3) CHECK (discount >= 0 AND discount < 1),
    PRIMARY KEY (order_id, line_no)
);
COMMENT ON TABLE shop.order_items IS 'Order lines: composite primary key (order_id, line_no)';
COMMENT ON COLUMN shop.order_items.discount IS 'Fraction off unit_price; NULL = no discount';

-- The click stream. No primary key, index or foreign key yet: seed_demo_finish.sql adds them
-- after seed_demo_events.sql has inserted the rows, in less than half the time.
CREATE TABLE shop.events (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    customer_id bigint,
    kind        shop.event_kind NOT NULL,
    payload     jsonb,
    tags        text[],
    amount      numeric(12, 2),
    raw         bytea,
    note        text
);
COMMENT ON TABLE shop.events IS
    'Click stream and account events; customer_id NULL = anonymous visitor';

-- Deliberately without a primary key or any unique index: exact duplicate rows exist, and
-- only ctid tells them apart.
CREATE TABLE shop.audit_log (
    logged_at    timestamp NOT NULL,
    actor        text,
    action       text NOT NULL,
    target_table text,
    target_id    bigint,
    details      json,
    client_addr  inet
);
COMMENT ON TABLE shop.audit_log IS
    'Legacy audit trail: no key at all, some rows are exact duplicates';

-- Keyed only by a unique index on NOT NULL columns, not by a primary key constraint.
CREATE TABLE shop.exchange_rates (
    currency   char(3) NOT NULL,
    rate_date  date NOT NULL,
    rate       numeric(14, 6) NOT NULL,
    source     text,
    fetched_at timestamptz
);
CREATE UNIQUE INDEX exchange_rates_currency_rate_date_key
    ON shop.exchange_rates (currency, rate_date);
COMMENT ON TABLE shop.exchange_rates IS
    'EUR reference rates on business days; unique index, no primary key';

CREATE TABLE shop.measurements (
    sensor_id     smallint NOT NULL,
    measured_at   timestamptz NOT NULL,
    temperature_c numeric(5, 2),
    humidity_pct  real,
    reading       jsonb,
    PRIMARY KEY (sensor_id, measured_at)
) PARTITION BY RANGE (measured_at);
COMMENT ON TABLE shop.measurements IS 'Cold-store sensors every 3 hours; one partition per month';
CREATE TABLE shop.measurements_2025_01 PARTITION OF shop.measurements
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00');
CREATE TABLE shop.measurements_2025_02 PARTITION OF shop.measurements
    FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00');
CREATE TABLE shop.measurements_2025_03 PARTITION OF shop.measurements
    FOR VALUES FROM ('2025-03-01 00:00:00+00') TO ('2025-04-01 00:00:00+00');
CREATE TABLE shop.measurements_2025_04 PARTITION OF shop.measurements
    FOR VALUES FROM ('2025-04-01 00:00:00+00') TO ('2025-05-01 00:00:00+00');
-- December and May have no partition of their own: their rows land here.
CREATE TABLE shop.measurements_default PARTITION OF shop.measurements DEFAULT;


-- 5,000 customers, signed up every ~6 hours from 2022-01-01. Names include accents, Cyrillic
-- and CJK (double-width in a terminal); e-mail addresses keep only the ASCII letters.
INSERT INTO shop.customers
    (email, full_name, country, phone, birth_date, marketing_opt_in, preferences,
     created_at, last_login_at)
SELECT
    lower(rtrim(
        regexp_replace(translate(f.name, 'éëØáłươễüí', 'eeOaluoeui'), '[^A-Za-z]', '', 'g')
        || '.'
        || regexp_replace(translate(l.name, 'éëØáłươễüí', 'eeOaluoeui'), '[^A-Za-z]', '', 'g'),
        '.')) || g || '@example.com',
    f.name || ' ' || l.name,
    c.code,
    CASE WHEN r.h4 % 100 >= 35
        THEN '+' || (1 + r.h4 % 98) || ' ' || lpad((r.h5 % 1000000000)::text, 9, '0')
    END,
    CASE WHEN r.h6 % 100 >= 25 THEN date '1950-01-01' + (r.h6 % 20000)::integer END,
    r.h7 % 3 = 0,
    CASE WHEN r.h8 % 2 = 0 THEN jsonb_build_object(
        'language', c.language,
        'newsletter', r.h7 % 3 = 0,
        'theme', CASE WHEN r.h8 % 6 = 0 THEN 'light' ELSE 'dark' END,
        'notify', CASE WHEN r.h8 % 10 = 0 THEN '[]'::jsonb ELSE '["email", "push"]'::jsonb END)
    END,
    t.created_at,
    CASE WHEN r.h9 % 100 >= 20
        THEN t.created_at
            + (timestamptz '2025-06-30 23:59:59+00' - t.created_at) * ((r.h9 % 1000) / 1000.0)
    END
FROM generate_series(1, 5000) AS g
CROSS JOIN LATERAL (
    SELECT hashint8extended(g, 101) & 2147483647 AS h1,
           hashint8extended(g, 102) & 2147483647 AS h2,
           hashint8extended(g, 103) & 2147483647 AS h3,
           hashint8extended(g, 104) & 2147483647 AS h4,
           hashint8extended(g, 105) & 2147483647 AS h5,
           hashint8extended(g, 106) & 2147483647 AS h6,
           hashint8extended(g, 107) & 2147483647 AS h7,
           hashint8extended(g, 108) & 2147483647 AS h8,
           hashint8extended(g, 109) & 2147483647 AS h9
) AS r
CROSS JOIN LATERAL (
    SELECT timestamptz '2022-01-01 00:00:00+00'
        + interval '6 hours' * (g - 1) + interval '1 second' * (r.h3 % 21600) AS created_at
) AS t
JOIN (VALUES
    (0, 'Ada'), (1, 'Alan'), (2, 'Grace'), (3, 'Linus'), (4, 'Margaret'), (5, 'Ken'),
    (6, 'Barbara'), (7, 'Dennis'), (8, 'Frances'), (9, 'Edsger'), (10, 'Radia'),
    (11, 'Guido'), (12, 'Yukihiro'), (13, 'Bjarne'), (14, 'Anders'), (15, 'Sophie'),
    (16, 'José'), (17, 'Zoë'), (18, 'Øyvind'), (19, 'Siobhán'), (20, 'Małgorzata'),
    (21, 'Dương'), (22, 'Chidi'), (23, 'Aiyana'), (24, 'Kwame'), (25, 'Priya'), (26, 'Mei'),
    (27, 'Hiroshi'), (28, 'Olga'), (29, 'Nikolai'), (30, 'Fatima'), (31, 'Leila')
) AS f (i, name) ON f.i = r.h1 % 32
JOIN (VALUES
    (0, 'Lovelace'), (1, 'Turing'), (2, 'Hopper'), (3, 'Torvalds'), (4, 'Hamilton'),
    (5, 'Thompson'), (6, 'Liskov'), (7, 'Ritchie'), (8, 'Allen'), (9, 'Dijkstra'),
    (10, 'Perlman'), (11, 'van Rossum'), (12, 'Matsumoto'), (13, 'Stroustrup'),
    (14, 'Hejlsberg'), (15, 'Wilson'), (16, 'García'), (17, 'Müller'), (18, 'Ødegaard'),
    (19, 'O''Brien'), (20, 'Kowalska'), (21, 'Nguyễn'), (22, 'Okafor'), (23, 'Begaye'),
    (24, 'Mensah'), (25, 'Patel'), (26, '王'), (27, '山田'), (28, 'Иванова'), (29, 'Петров'),
    (30, 'Haddad'), (31, 'Karimi')
) AS l (i, name) ON l.i = r.h2 % 32
-- Repeated codes weight the draw: most customers come from the US and Germany.
JOIN (VALUES
    (0, 'US', 'en'), (1, 'US', 'en'), (2, 'US', 'en'), (3, 'DE', 'de'), (4, 'DE', 'de'),
    (5, 'GB', 'en'), (6, 'FR', 'fr'), (7, 'NL', 'nl'), (8, 'SE', 'sv'), (9, 'PL', 'pl'),
    (10, 'JP', 'ja'), (11, 'IN', 'en'), (12, 'BR', 'pt'), (13, 'NG', 'en'), (14, 'CA', 'fr'),
    (15, 'ES', 'es'), (16, 'VN', 'vi'), (17, 'UA', 'uk')
) AS c (i, code, language) ON c.i = r.h3 % 18
ORDER BY g;


-- 400 products. The first three come first so that they are on the first screen of the table:
-- their text must be shown literally, not interpreted as markup or terminal control codes.
INSERT INTO shop.products
    (sku, name, category, description, price, weight_grams, dimensions_cm, attributes,
     warranty, discontinued_at, created_at)
VALUES
    ('DEMO-MARKUP-1', 'Sticker pack [red]SALE[/] [@click=app.quit]free[/]', 'Accessories',
     'Its name is console markup: a viewer that renders it turns this red, or quits.',
     4.99, 20, '{10.0,7.0,0.1}', '{"color": "[red]", "action": "[@click=app.quit]"}',
     NULL, NULL, '2023-03-01 09:00:00+00'),
    ('DEMO-MARKUP-2', E'Retro terminal poster \x1b[31mred edition\x1b[0m\t(A2)', 'Home',
     E'The name holds ESC [31m, ESC [0m and a tab.\nThis description has a line break.',
     19.50, 180, '{59.4,42.0,NULL}', '{"escape": "\u001b[31m", "tab": "\t"}',
     '90 days', NULL, '2023-03-01 09:05:00+00'),
    ('DEMO-MARKUP-3', E'Mug [b]bold[/b] with a back\\slash and \\[escaped] brackets',
     'Home', NULL, 12.00, 350, NULL, NULL, '1 year', NULL, '2023-03-01 09:10:00+00');

INSERT INTO shop.products
    (sku, name, category, description, price, weight_grams, dimensions_cm, attributes,
     warranty, discontinued_at, created_at)
SELECT
    'SKU-' || lpad(g::text, 5, '0'),
    adj.word || ' ' || noun.word
        || CASE WHEN r.h3 % 5 = 0 THEN ' Mk ' || (2 + r.h3 % 3) ELSE '' END,
    noun.category,
    CASE
        WHEN r.h4 % 10 < 3 THEN NULL
        WHEN r.h4 % 10 = 3 THEN repeat('A long description that a narrow column has to cut. ', 12)
        ELSE adj.word || ' ' || lower(noun.word) || ', ' || lower(noun.category) || ' range.'
    END,
    round(noun.base_price * (0.5 + (r.h5 % 1000) / 500.0), 2),
    CASE WHEN r.h6 % 100 >= 20 THEN 50 + (r.h6 % 5000)::integer END,
    CASE
        WHEN r.h7 % 100 < 25 THEN NULL
        WHEN r.h7 % 40 = 25 THEN ARRAY[(10 + r.h7 % 90)::numeric, (5 + r.h7 % 40)::numeric, NULL]
        ELSE ARRAY[(10 + r.h7 % 90)::numeric, (5 + r.h7 % 40)::numeric, (1 + r.h8 % 30)::numeric]
    END,
    CASE WHEN r.h8 % 100 >= 15 THEN json_build_object(
        'color', (ARRAY['black', 'white', 'red', 'blue', 'sand', 'olive'])[1 + r.h8 % 6],
        'material', (ARRAY['aluminium', 'cotton', 'ceramic', 'oak', 'recycled PET'])[1 + r.h9 % 5],
        'eco', r.h9 % 4 = 0)
    END,
    CASE WHEN r.h9 % 100 >= 40
        THEN (ARRAY[interval '90 days', interval '6 months', interval '1 year',
                    interval '2 years', interval '1 year 6 months'])[1 + r.h9 % 5]
    END,
    CASE WHEN r.h1 % 10 = 0
        THEN timestamp '2024-01-01 18:00:00' + interval '1 day' * (r.h1 % 500)
    END,
    timestamptz '2023-03-01 10:00:00+00'
        + interval '1 day' * (g / 2) + interval '1 minute' * (r.h2 % 600)
FROM generate_series(4, 400) AS g
CROSS JOIN LATERAL (
    SELECT hashint8extended(g, 201) & 2147483647 AS h1,
           hashint8extended(g, 202) & 2147483647 AS h2,
           hashint8extended(g, 203) & 2147483647 AS h3,
           hashint8extended(g, 204) & 2147483647 AS h4,
           hashint8extended(g, 205) & 2147483647 AS h5,
           hashint8extended(g, 206) & 2147483647 AS h6,
           hashint8extended(g, 207) & 2147483647 AS h7,
           hashint8extended(g, 208) & 2147483647 AS h8,
           hashint8extended(g, 209) & 2147483647 AS h9
) AS r
JOIN (VALUES
    (0, 'Ergonomic'), (1, 'Wireless'), (2, 'Compact'), (3, 'Heavy-duty'), (4, 'Vintage'),
    (5, 'Smart'), (6, 'Foldable'), (7, 'Organic'), (8, 'Minimalist'), (9, 'Waterproof'),
    (10, 'Limited'), (11, 'Classic')
) AS adj (i, word) ON adj.i = r.h1 % 12
JOIN (VALUES
    (0, 'Keyboard', 'Electronics', 89.00), (1, 'Mouse', 'Electronics', 39.00),
    (2, 'Monitor', 'Electronics', 329.00), (3, 'Headphones', 'Electronics', 149.00),
    (4, 'USB-C Hub', 'Electronics', 49.00), (5, 'Webcam', 'Electronics', 79.00),
    (6, 'Desk Lamp', 'Home', 45.00), (7, 'Office Chair', 'Home', 259.00),
    (8, 'Desk Mat', 'Home', 25.00), (9, 'Plant Pot', 'Home', 18.00),
    (10, 'Hoodie', 'Apparel', 59.00), (11, 'T-Shirt', 'Apparel', 22.00),
    (12, 'Socks', 'Apparel', 9.00), (13, 'Cap', 'Apparel', 19.00),
    (14, 'Notebook', 'Stationery', 12.00), (15, 'Fountain Pen', 'Stationery', 65.00)
) AS noun (i, word, category, base_price) ON noun.i = r.h2 % 16
ORDER BY g;


-- 40,000 orders from 2024-07-01 to 2025-06-30, in id order. Older customers (lower ids)
-- order more often: the product of two uniform draws leans towards small numbers.
INSERT INTO shop.orders
    (customer_id, status, placed_at, shipped_at, shipping_address, coupon_code, notes)
SELECT
    cu.id,
    s.status,
    t.placed_at,
    CASE WHEN s.status IN ('shipped', 'delivered', 'returned')
        THEN t.placed_at + interval '1 hour' * (4 + r.h4 % 70)
    END,
    jsonb_build_object(
        'name', cu.full_name,
        'line1', (1 + r.h5 % 240) || ' '
            || (ARRAY['Main Street', 'Station Road', 'Harbour Lane', 'Elm Avenue'])[1 + r.h5 % 4],
        'line2', CASE WHEN r.h5 % 7 = 0 THEN 'Apartment ' || (1 + r.h6 % 40) END,
        'postal_code', lpad((r.h6 % 99999)::text, 5, '0'),
        'country', cu.country),
    CASE WHEN r.h7 % 100 >= 85
        THEN (ARRAY['SPRING10', 'WELCOME5', 'VIP20', 'FREESHIP'])[1 + r.h7 % 4]
    END,
    CASE WHEN r.h8 % 100 < 3
        THEN (ARRAY['Leave at the door', E'Gift wrap, please.\nNo invoice in the box.',
                    'Call before delivery 📞', 'Deliver to the neighbour (no. 12)'])[1 + r.h8 % 4]
    END
FROM generate_series(1, 40000) AS g
CROSS JOIN LATERAL (
    SELECT hashint8extended(g, 301) & 2147483647 AS h1,
           hashint8extended(g, 302) & 2147483647 AS h2,
           hashint8extended(g, 303) & 2147483647 AS h3,
           hashint8extended(g, 304) & 2147483647 AS h4,
           hashint8extended(g, 305) & 2147483647 AS h5,
           hashint8extended(g, 306) & 2147483647 AS h6,
           hashint8extended(g, 307) & 2147483647 AS h7,
           hashint8extended(g, 308) & 2147483647 AS h8
) AS r
JOIN shop.customers AS cu ON cu.id = 1 + (r.h1 % 5000) * (r.h2 % 1000) / 1000
CROSS JOIN LATERAL (
    -- Never before the customer signed up.
    SELECT greatest(
        timestamptz '2024-07-01 00:00:00+00'
            + interval '365 days' * ((g - 1) / 40000.0) + interval '1 second' * (r.h3 % 780),
        cu.created_at + interval '1 hour') AS placed_at
) AS t
CROSS JOIN LATERAL (
    -- The last week's orders are still on their way; older ones have mostly arrived.
    SELECT CASE
        WHEN g > 39200 THEN (ARRAY['pending', 'paid', 'shipped'])[1 + r.h3 % 3]
        WHEN r.h3 % 100 < 2 THEN 'pending'
        WHEN r.h3 % 100 < 6 THEN 'paid'
        WHEN r.h3 % 100 < 12 THEN 'shipped'
        WHEN r.h3 % 100 < 92 THEN 'delivered'
        WHEN r.h3 % 100 < 97 THEN 'cancelled'
        ELSE 'returned'
    END::shop.order_status AS status
) AS s
ORDER BY g;


-- 1 to 6 lines per order: most orders have one or two, one in twenty has six. Popular
-- products (low ids) are drawn more often.
INSERT INTO shop.order_items (order_id, line_no, product_id, quantity, unit_price, discount)
SELECT
    o.id,
    n.line_no,
    p.id,
    CASE WHEN r.h3 % 10 < 7 THEN 1 ELSE 2 + r.h3 % 4 END,
    p.price,
    CASE WHEN r.h4 % 100 >= 80
        THEN (ARRAY[0.05, 0.10, 0.15, 0.25])[1 + r.h4 % 4]
    END
FROM shop.orders AS o
CROSS JOIN LATERAL (
    SELECT (hashint8extended(o.id, 401) & 2147483647) % 20 AS x
) AS lc
CROSS JOIN LATERAL generate_series(1,
    CASE WHEN lc.x < 1 THEN 6 WHEN lc.x < 2 THEN 5 WHEN lc.x < 3 THEN 4
         WHEN lc.x < 6 THEN 3 WHEN lc.x < 13 THEN 2 ELSE 1 END) AS n (line_no)
CROSS JOIN LATERAL (
    SELECT hashint8extended(o.id * 8 + n.line_no, 402) & 2147483647 AS h1,
           hashint8extended(o.id * 8 + n.line_no, 403) & 2147483647 AS h2,
           hashint8extended(o.id * 8 + n.line_no, 404) & 2147483647 AS h3,
           hashint8extended(o.id * 8 + n.line_no, 405) & 2147483647 AS h4
) AS r
JOIN shop.products AS p ON p.id = 1 + (r.h1 % 400) * (r.h2 % 1000) / 1000
ORDER BY o.id, n.line_no;

ALTER TABLE shop.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)
        REFERENCES shop.customers (id);
ALTER TABLE shop.order_items
    ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id)
        REFERENCES shop.orders (id) ON DELETE CASCADE,
    ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES shop.products (id);
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
CREATE INDEX orders_placed_at_idx ON shop.orders (placed_at);
CREATE INDEX order_items_product_id_idx ON shop.order_items (product_id);


-- 500 audit entries, one every 80 minutes from 2025-06-01 (local time, no time zone). Every
-- 100th row repeats the row before it exactly, so the table holds five duplicate pairs.
INSERT INTO shop.audit_log
    (logged_at, actor, action, target_table, target_id, details, client_addr)
SELECT
    timestamp '2025-06-01 00:00:00' + interval '80 minutes' * k,
    CASE WHEN r.h1 % 100 >= 20
        THEN (ARRAY['alice', 'bob', 'carol', 'deploy-bot', 'dave'])[1 + r.h1 % 5]
    END,
    act.action,
    act.target_table,
    CASE WHEN act.target_table IS NOT NULL AND r.h2 % 10 <> 0 THEN 1 + r.h2 % 40000 END,
    CASE
        -- json (unlike jsonb) keeps its text as written: the spacing and the repeated key.
        WHEN k = 7 THEN '{"note":  "json keeps   its spacing",  "note": "and repeated keys"}'::json
        WHEN r.h3 % 4 = 0 THEN NULL
        ELSE json_build_object(
            'changed', json_build_array('status', 'notes'),
            'reason', CASE WHEN r.h3 % 3 = 0 THEN 'ticket #' || (r.h3 % 9000) END)
    END,
    CASE WHEN r.h1 % 100 >= 20 THEN ('10.0.' || (r.h4 % 4) || '.' || (1 + r.h4 % 250))::inet END
FROM generate_series(1, 500) AS g
CROSS JOIN LATERAL (SELECT g - (g % 100 = 0)::integer AS k) AS dup
CROSS JOIN LATERAL (
    SELECT hashint8extended(k, 501) & 2147483647 AS h1,
           hashint8extended(k, 502) & 2147483647 AS h2,
           hashint8extended(k, 503) & 2147483647 AS h3,
           hashint8extended(k, 504) & 2147483647 AS h4,
           hashint8extended(k, 505) & 2147483647 AS h5
) AS r
JOIN (VALUES
    (0, 'login', NULL), (1, 'update', 'orders'), (2, 'update', 'products'),
    (3, 'delete', 'order_items'), (4, 'export', 'customers'), (5, 'grant', NULL),
    (6, 'vacuum', 'events'), (7, 'update', 'orders')
) AS act (i, action, target_table) ON act.i = r.h5 % 8
ORDER BY g;


-- EUR reference rates for six currencies on the 65 weekdays from 2025-04-01 to 2025-06-30.
INSERT INTO shop.exchange_rates (currency, rate_date, rate, source, fetched_at)
SELECT
    cur.code,
    d::date,
    round(cur.base * (1 + ((r.h1 % 2001) - 1000) / 50000.0), 6),
    CASE WHEN r.h2 % 10 <> 0 THEN 'ECB' END,
    CASE WHEN r.h2 % 10 <> 0 THEN (d::date + time '16:05')::timestamp AT TIME ZONE 'UTC' END
FROM (VALUES (1, 'USD', 1.0832), (2, 'GBP', 0.8467), (3, 'JPY', 161.38),
             (4, 'SEK', 11.2105), (5, 'PLN', 4.2761), (6, 'CHF', 0.9412)) AS cur (i, code, base)
CROSS JOIN generate_series(timestamp '2025-04-01', timestamp '2025-06-30', interval '1 day') AS d
CROSS JOIN LATERAL (
    SELECT hashint8extended(cur.i * 100000 + (d::date - date '2025-01-01'), 601) & 2147483647 AS h1,
           hashint8extended(cur.i * 100000 + (d::date - date '2025-01-01'), 602) & 2147483647 AS h2
) AS r
WHERE extract(isodow FROM d) < 6
ORDER BY d, cur.i;


-- Six sensors every 3 hours from 2024-12-16 to 2025-05-15: 7,248 readings, of which the
-- December and May ones (1,488) fall into the default partition.
INSERT INTO shop.measurements (sensor_id, measured_at, temperature_c, humidity_pct, reading)
SELECT
    s,
    ts,
    CASE WHEN r.h1 % 100 >= 3
        THEN round((3.5 + s * 0.4
                    + 1.5 * sin(extract(epoch FROM ts) / 86400.0 * 2 * pi())
                    + (r.h2 % 100) / 100.0)::numeric, 2)
    END,
    CASE WHEN r.h1 % 100 >= 5 THEN (80 + (r.h3 % 150) / 10.0)::real END,
    CASE WHEN r.h4 % 10 <> 0 THEN jsonb_build_object(
        'battery_v', round((3.3 - extract(epoch FROM ts - timestamptz '2024-12-16 00:00:00+00')
                                  / 1.0e8)::numeric, 3),
        'firmware', CASE WHEN ts < '2025-03-10 00:00:00+00' THEN '1.4.2' ELSE '1.5.0' END,
        'door_open', r.h4 % 97 = 0)
    END
FROM generate_series(1, 6) AS s
CROSS JOIN generate_series(timestamptz '2024-12-16 00:00:00+00',
                           timestamptz '2025-05-15 21:00:00+00', interval '3 hours') AS ts
CROSS JOIN LATERAL (
    SELECT hashint8extended(s * 1000000 + (extract(epoch FROM ts) / 10800)::bigint, 701)
               & 2147483647 AS h1,
           hashint8extended(s * 1000000 + (extract(epoch FROM ts) / 10800)::bigint, 702)
               & 2147483647 AS h2,
           hashint8extended(s * 1000000 + (extract(epoch FROM ts) / 10800)::bigint, 703)
               & 2147483647 AS h3,
           hashint8extended(s * 1000000 + (extract(epoch FROM ts) / 10800)::bigint, 704)
               & 2147483647 AS h4
) AS r
ORDER BY ts, s;


CREATE VIEW shop.order_totals AS
SELECT
    o.id AS order_id,
    o.customer_id,
    o.status,
    o.placed_at,
    count(*) AS lines,
    sum(i.quantity) AS items,
    sum(i.quantity * i.unit_price * (1 - coalesce(i.discount, 0)))::numeric(12, 2) AS total,
    o.shipped_at - o.placed_at AS time_to_ship
FROM shop.orders AS o
JOIN shop.order_items AS i ON i.order_id = o.id
GROUP BY o.id;
COMMENT ON VIEW shop.order_totals IS 'One row per order with its value after line discounts';

-- Revenue per UTC day of orders that were not cancelled or returned.
CREATE MATERIALIZED VIEW shop.daily_revenue AS
SELECT
    (placed_at AT TIME ZONE 'UTC')::date AS day,
    count(*) AS orders,
    sum(total) AS revenue,
    round(avg(total), 2) AS avg_order_value,
    avg(time_to_ship) AS avg_time_to_ship
FROM shop.order_totals
WHERE status NOT IN ('cancelled', 'returned')
GROUP BY 1;
-- A unique index makes REFRESH MATERIALIZED VIEW CONCURRENTLY possible.
CREATE UNIQUE INDEX daily_revenue_day_key ON shop.daily_revenue (day);
COMMENT ON MATERIALIZED VIEW shop.daily_revenue IS 'Refresh after loading orders';
