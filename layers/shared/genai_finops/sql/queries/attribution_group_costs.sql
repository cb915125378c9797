-- The bill allocated to usage groups: one row per group of attribution_usage_groups. For each token
-- class, a row has the group's tokens, its share of the matched cells' cost, the number of cells it
-- matched and the standard-tier price that estimates its requests.
--
-- Allocation: each allocated cell of attribution_cells is split across its matched groups in
-- proportion to their tokens of the cell's token class, exactly, with the largest-remainder method at
-- the money quantum 1e-10. A group gets floor(units * weight / total weight) quanta. The quanta left
-- over go one each to the groups with the largest remainders, ties to the smaller group id.
-- request_costs.sql then splits each group's share across its requests. The matching rules are the
-- ones in attribution_cells.sql and must stay identical.
--
-- The integer quotient is computed portably: Athena rounds decimal division half up and DuckDB divides
-- decimals in double precision, so a first quotient can be off. Two correction steps on the exact
-- decimal remainder make it the true floor in both engines for cell costs below 1e9 in the money unit.
--
-- Parameter: billing period.
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS billing_period
),
cells AS (
    SELECT
        c.cell_id,
        c.usage_start AT TIME ZONE 'UTC' AS bucket,
        c.usage_end AT TIME ZONE 'UTC' AS bucket_end,
        CASE c.grain WHEN 'hour' THEN 1 WHEN 'day' THEN 2 ELSE 3 END AS grain_rank,
        c.usage_account_id,
        c.region,
        c.model_id,
        c.token_class,
        c.route,
        c.inference_profile_id,
        c.iam_principal,
        c.cost,
        c.reason,
        -- Allocation works on integers: the cell cost in money quanta, its sign, and the matched tokens.
        CAST(abs(c.cost) * 10000000000 AS DECIMAL(38, 0)) AS units,
        CASE WHEN c.cost < 0 THEN -1 ELSE 1 END AS cost_sign,
        -- The cell's matched tokens, found by the same matching rules. If they ever differed from the sum
        -- of the matched weights, the shares would not add up to the cell cost and the reconciliation
        -- check would fail.
        CAST(c.matched_tokens AS DECIMAL(38, 0)) AS total_weight
    FROM attribution_cells AS c
    CROSS JOIN params AS p
    WHERE c.billing_period = p.billing_period
),
account_grain AS (
    SELECT usage_account_id, min(grain_rank) AS grain_rank
    FROM cells
    GROUP BY usage_account_id
),
bill_reached AS (
    SELECT usage_account_id, model_id, max(bucket_end) AS bill_through
    FROM cells
    GROUP BY usage_account_id, model_id
),
standard_prices AS (
    SELECT
        pc.day,
        pc.model_id,
        pc.region,
        pc.route,
        max(CASE WHEN pc.token_class = 'input' THEN pc.price_per_million END) AS input_price,
        max(CASE WHEN pc.token_class = 'output' THEN pc.price_per_million END) AS output_price,
        max(CASE WHEN pc.token_class = 'cache_read' THEN pc.price_per_million END) AS cache_read_price,
        max(CASE WHEN pc.token_class = 'cache_write' THEN pc.price_per_million END) AS cache_write_price,
        max(CASE WHEN pc.token_class = 'cache_write_1h' THEN pc.price_per_million END) AS cache_write_1h_price
    FROM price_catalog AS pc
    CROSS JOIN params AS p
    WHERE pc.billing_period = p.billing_period AND pc.tier = 'standard'
    GROUP BY pc.day, pc.model_id, pc.region, pc.route
),
usage_groups AS (
    SELECT
        u.*,
        coalesce(a.model_id, u.model) AS model_id,
        CASE g.grain_rank
            WHEN 1 THEN u.hour
            WHEN 2 THEN date_trunc('day', u.hour)
            WHEN 3 THEN date_trunc('month', u.hour)
        END AS bucket
    FROM attribution_usage_groups AS u
    CROSS JOIN params AS p
    LEFT JOIN account_grain AS g ON g.usage_account_id = u.account_id
    LEFT JOIN model_aliases AS a ON a.billing_period = p.billing_period AND a.name = u.model
    WHERE u.billing_period = p.billing_period
),
group_tokens AS (
    SELECT
        u.group_id,
        u.account_id,
        u.region,
        u.route,
        u.inference_profile_id,
        u.principal,
        u.model_id,
        u.bucket,
        c.token_class,
        CASE c.token_class
            WHEN 'input' THEN u.input_tokens
            WHEN 'output' THEN u.output_tokens
            WHEN 'cache_read' THEN u.cache_read_tokens
            WHEN 'cache_write' THEN u.cache_write_tokens
            ELSE u.cache_write_1h_tokens
        END AS weight
    FROM usage_groups AS u
    CROSS JOIN (VALUES ('input'), ('output'), ('cache_read'), ('cache_write'), ('cache_write_1h')) AS c (token_class)
),
positive_tokens AS (
    SELECT *
    FROM group_tokens
    WHERE weight > 0
),
-- A cell with an inference profile is matched by the profile, not the model: the profile fixes the
-- model, and its ARN is what the invocation log and the bill share. match_model is '' for such cells.
profile_keys AS (
    SELECT DISTINCT bucket, usage_account_id, region, token_class, inference_profile_id
    FROM cells
    WHERE inference_profile_id IS NOT NULL
),
principal_keys AS (
    SELECT DISTINCT
        bucket, usage_account_id, region, token_class, iam_principal,
        coalesce(inference_profile_id, '') AS profile_key,
        CASE WHEN inference_profile_id IS NULL THEN model_id ELSE '' END AS match_model
    FROM cells
    WHERE iam_principal IS NOT NULL
),
with_profile AS (
    SELECT
        t.*,
        k.inference_profile_id AS matched_profile,
        CASE WHEN k.inference_profile_id IS NULL THEN t.model_id ELSE '' END AS match_model
    FROM positive_tokens AS t
    LEFT JOIN profile_keys AS k
        ON k.bucket = t.bucket
        AND k.usage_account_id = t.account_id
        AND k.region = t.region
        AND k.token_class = t.token_class
        AND k.inference_profile_id = t.inference_profile_id
),
with_principal AS (
    SELECT t.*, k.iam_principal AS matched_principal
    FROM with_profile AS t
    LEFT JOIN principal_keys AS k
        ON k.bucket = t.bucket
        AND k.usage_account_id = t.account_id
        AND k.region = t.region
        AND k.match_model = t.match_model
        AND k.token_class = t.token_class
        AND k.profile_key = coalesce(t.matched_profile, '')
        AND k.iam_principal = t.principal
),
matches AS (
    SELECT
        c.cell_id,
        c.cost_sign,
        t.group_id,
        t.token_class,
        c.units,
        CAST(t.weight AS DECIMAL(38, 0)) AS weight,
        c.total_weight
    FROM with_principal AS t
    JOIN cells AS c
        ON c.bucket = t.bucket
        AND c.usage_account_id = t.account_id
        AND c.region = t.region
        AND CASE WHEN c.inference_profile_id IS NULL THEN c.model_id ELSE '' END = t.match_model
        AND c.token_class = t.token_class
        AND coalesce(c.inference_profile_id, '') = coalesce(t.matched_profile, '')
        AND coalesce(c.iam_principal, '') = coalesce(t.matched_principal, '')
        -- Geographic cross-region calls are billed under the in-region usage type, so an in_region cell
        -- also takes geo requests. Only global routing has a usage type of its own.
        AND (c.route IS NULL OR c.route = t.route OR (c.route = 'in_region' AND t.route = 'geo'))
    WHERE c.reason IS NULL
),
quotient_first AS (
    SELECT
        m.*,
        m.units * m.weight AS scaled,
        CAST(floor(m.units * m.weight / m.total_weight) AS DECIMAL(38, 0)) AS q0
    FROM matches AS m
),
quotient_second AS (
    SELECT
        q.*,
        q.q0 + CAST(floor((q.scaled - q.q0 * q.total_weight) / q.total_weight) AS DECIMAL(38, 0)) AS q1
    FROM quotient_first AS q
),
quotient_exact AS (
    SELECT
        q.cell_id,
        q.cost_sign,
        q.group_id,
        q.token_class,
        q.units,
        q.q1 + q.step AS quotient,
        q.r1 - q.step * q.total_weight AS remainder
    FROM (
        SELECT
            t.*,
            t.scaled - t.q1 * t.total_weight AS r1,
            CASE
                WHEN t.scaled - t.q1 * t.total_weight < 0 THEN -1
                WHEN t.scaled - t.q1 * t.total_weight >= t.total_weight THEN 1
                ELSE 0
            END AS step
        FROM quotient_second AS t
    ) AS q
),
leftovers AS (
    SELECT cell_id, min(units) - sum(quotient) AS leftover
    FROM quotient_exact
    GROUP BY cell_id
),
quanta AS (
    SELECT
        q.group_id,
        q.token_class,
        q.cost_sign * (
            q.quotient + CASE
                WHEN row_number() OVER (PARTITION BY q.cell_id ORDER BY q.remainder DESC, q.group_id) <= l.leftover
                    THEN 1
                ELSE 0
            END
        ) AS quanta
    FROM quotient_exact AS q
    JOIN leftovers AS l ON l.cell_id = q.cell_id
),
group_shares AS (
    SELECT
        group_id,
        token_class,
        count(*) AS cells,
        CAST(
            CAST(sum(quanta) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
        ) AS cost
    FROM quanta
    GROUP BY group_id, token_class
),
pivoted AS (
    SELECT
        group_id,
        max(CASE WHEN token_class = 'input' THEN cost END) AS input_cost,
        max(CASE WHEN token_class = 'input' THEN cells END) AS input_cells,
        max(CASE WHEN token_class = 'output' THEN cost END) AS output_cost,
        max(CASE WHEN token_class = 'output' THEN cells END) AS output_cells,
        max(CASE WHEN token_class = 'cache_read' THEN cost END) AS cache_read_cost,
        max(CASE WHEN token_class = 'cache_read' THEN cells END) AS cache_read_cells,
        max(CASE WHEN token_class = 'cache_write' THEN cost END) AS cache_write_cost,
        max(CASE WHEN token_class = 'cache_write' THEN cells END) AS cache_write_cells,
        max(CASE WHEN token_class = 'cache_write_1h' THEN cost END) AS cache_write_1h_cost,
        max(CASE WHEN token_class = 'cache_write_1h' THEN cells END) AS cache_write_1h_cells
    FROM group_shares
    GROUP BY group_id
)
SELECT
    u.group_id,
    u.hour,
    u.day,
    u.account_id,
    u.region,
    u.model,
    u.model_id,
    u.inference_profile_id,
    u.principal,
    u.route,
    u.request_count,
    br.bill_through,
    u.input_tokens,
    coalesce(s.input_cost, CAST(0 AS DECIMAL(38, 10))) AS input_cost,
    coalesce(s.input_cells, 0) AS input_cells,
    sp.input_price,
    u.cache_read_tokens,
    coalesce(s.cache_read_cost, CAST(0 AS DECIMAL(38, 10))) AS cache_read_cost,
    coalesce(s.cache_read_cells, 0) AS cache_read_cells,
    sp.cache_read_price,
    u.cache_write_tokens,
    coalesce(s.cache_write_cost, CAST(0 AS DECIMAL(38, 10))) AS cache_write_cost,
    coalesce(s.cache_write_cells, 0) AS cache_write_cells,
    sp.cache_write_price,
    u.cache_write_1h_tokens,
    coalesce(s.cache_write_1h_cost, CAST(0 AS DECIMAL(38, 10))) AS cache_write_1h_cost,
    coalesce(s.cache_write_1h_cells, 0) AS cache_write_1h_cells,
    sp.cache_write_1h_price,
    u.output_tokens,
    coalesce(s.output_cost, CAST(0 AS DECIMAL(38, 10))) AS output_cost,
    coalesce(s.output_cells, 0) AS output_cells,
    sp.output_price
FROM usage_groups AS u
LEFT JOIN pivoted AS s ON s.group_id = u.group_id
LEFT JOIN bill_reached AS br ON br.usage_account_id = u.account_id AND br.model_id = u.model_id
LEFT JOIN standard_prices AS sp
    ON sp.day = u.day
    AND sp.model_id = u.model_id
    AND sp.region = coalesce(u.region, '*')
    AND sp.route = coalesce(u.route, '*')
