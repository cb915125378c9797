-- Every invocation request of one billing period with its estimated cost, its share of the bill and
-- which of the two counts.
--
-- Allocation: each allocated cell of attribution_cells is split across its matched requests in
-- proportion to their tokens of the cell's token class, exactly, with the largest-remainder method at
-- the money quantum 1e-10. A request gets floor(units * weight / total weight) quanta. The quanta left
-- over go one each to the requests with the largest remainders, ties to the smaller request id.
-- The matching rules are the ones in attribution_cells.sql and must stay identical.
--
-- The integer quotient is computed portably: Athena rounds decimal division half up and DuckDB divides
-- decimals in double precision, so a first quotient can be off. Two correction steps on the exact
-- decimal remainder make it the true floor in both engines for cell costs below 1e9 in the money unit.
--
-- Parameters: billing period, first partition date, end partition date (exclusive), period start,
-- period end (UTC, exclusive). The request bounds are placeholders in the WHERE clause itself, not
-- columns of the params CTE, so that DuckDB and Athena prune invocations partitions by date.
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
        c.matched_tokens,
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
logged AS (
    SELECT
        i.request_id,
        i.timestamp,
        i.timestamp AT TIME ZONE 'UTC' AS utc_time,
        i.account_id,
        i.region,
        i.model,
        coalesce(a.model_id, i.model) AS model_id,
        i.inference_profile_id,
        i.route,
        i.principal,
        i.iam_role,
        i.team,
        i.feature,
        i.environment,
        i.tenant,
        i.user_key,
        coalesce(i.input_tokens, 0) AS input_tokens,
        coalesce(i.cache_read_tokens, 0) AS cache_read_tokens,
        coalesce(i.cache_write_tokens, 0) AS cache_write_tokens,
        coalesce(i.cache_write_1h_tokens, 0) AS cache_write_1h_tokens,
        greatest(coalesce(i.cache_write_tokens, 0) - coalesce(i.cache_write_1h_tokens, 0), 0) AS cache_write_5m_tokens,
        coalesce(i.output_tokens, 0) AS output_tokens,
        CAST(i.timestamp AT TIME ZONE 'UTC' AS DATE) AS day,
        CASE g.grain_rank
            WHEN 1 THEN date_trunc('hour', i.timestamp AT TIME ZONE 'UTC')
            WHEN 2 THEN date_trunc('day', i.timestamp AT TIME ZONE 'UTC')
            WHEN 3 THEN date_trunc('month', i.timestamp AT TIME ZONE 'UTC')
        END AS bucket
    FROM invocations AS i
    CROSS JOIN params AS p
    LEFT JOIN account_grain AS g ON g.usage_account_id = i.account_id
    LEFT JOIN model_aliases AS a ON a.billing_period = p.billing_period AND a.name = i.model
    WHERE i.date >= CAST(? AS VARCHAR)
        AND i.date < CAST(? AS VARCHAR)
        AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
        AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
),
-- Estimates price each token class at the standard tier. A class with tokens and no price is NULL, and
-- NULL propagates through the sum, so an unpriced request is never costed at zero.
requests AS (
    SELECT
        r.*,
        CASE
            WHEN r.input_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.input_tokens AS DECIMAL(20, 0)) * CAST(sp.input_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS estimated_input_cost,
        CASE
            WHEN r.cache_read_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.cache_read_tokens AS DECIMAL(20, 0)) * CAST(sp.cache_read_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS estimated_cache_read_cost,
        CASE
            WHEN r.cache_write_5m_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.cache_write_5m_tokens AS DECIMAL(20, 0)) * CAST(sp.cache_write_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END
        + CASE
            WHEN r.cache_write_1h_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.cache_write_1h_tokens AS DECIMAL(20, 0)) * CAST(sp.cache_write_1h_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS estimated_cache_write_cost,
        CASE
            WHEN r.output_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.output_tokens AS DECIMAL(20, 0)) * CAST(sp.output_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS estimated_output_cost
    FROM logged AS r
    LEFT JOIN standard_prices AS sp
        ON sp.day = r.day
        AND sp.model_id = r.model_id
        AND sp.region = coalesce(r.region, '*')
        AND sp.route = coalesce(r.route, '*')
),
request_tokens AS (
    SELECT
        r.request_id,
        r.account_id,
        r.region,
        r.route,
        r.inference_profile_id,
        r.principal,
        r.model_id,
        r.day,
        r.bucket,
        c.token_class,
        CASE c.token_class
            WHEN 'input' THEN r.input_tokens
            WHEN 'output' THEN r.output_tokens
            WHEN 'cache_read' THEN r.cache_read_tokens
            WHEN 'cache_write' THEN r.cache_write_5m_tokens
            ELSE r.cache_write_1h_tokens
        END AS weight
    FROM requests AS r
    CROSS JOIN (VALUES ('input'), ('output'), ('cache_read'), ('cache_write'), ('cache_write_1h')) AS c (token_class)
),
positive_tokens AS (
    SELECT *
    FROM request_tokens
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
        t.request_id,
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
quotient_third AS (
    SELECT
        q.cell_id,
        q.cost_sign,
        q.request_id,
        q.token_class,
        q.units,
        q.total_weight,
        q.q1,
        q.scaled - q.q1 * q.total_weight AS r1
    FROM quotient_second AS q
),
quotient_exact AS (
    SELECT
        q.cell_id,
        q.cost_sign,
        q.request_id,
        q.token_class,
        q.units,
        q.total_weight,
        q.q1 + q.step AS quotient,
        q.r1 - q.step * q.total_weight AS remainder
    FROM (
        SELECT
            t.*,
            CASE WHEN t.r1 < 0 THEN -1 WHEN t.r1 >= t.total_weight THEN 1 ELSE 0 END AS step
        FROM quotient_third AS t
    ) AS q
),
leftovers AS (
    SELECT cell_id, min(units) - sum(quotient) AS leftover
    FROM quotient_exact
    GROUP BY cell_id
),
with_leftover AS (
    SELECT
        q.cell_id,
        q.cost_sign,
        q.request_id,
        q.token_class,
        q.quotient,
        q.remainder,
        l.leftover
    FROM quotient_exact AS q
    JOIN leftovers AS l ON l.cell_id = q.cell_id
),
-- Only a row with a positive remainder in a cell with leftover quanta can receive one, so only those
-- rows are ranked. A cell's remainders add up to leftover * total weight, and each is below the total
-- weight. So more than leftover rows have a positive remainder, and they take the same top ranks as
-- when every row of the cell is ranked.
quanta AS (
    SELECT cell_id, cost_sign, request_id, token_class, quotient AS quanta
    FROM with_leftover
    WHERE NOT (leftover > 0 AND remainder > 0)
    UNION ALL
    SELECT
        cell_id,
        cost_sign,
        request_id,
        token_class,
        quotient + CASE
            WHEN row_number() OVER (PARTITION BY cell_id ORDER BY remainder DESC, request_id) <= leftover THEN 1
            ELSE 0
        END AS quanta
    FROM with_leftover
    WHERE leftover > 0 AND remainder > 0
),
shares AS (
    SELECT
        request_id,
        token_class,
        CAST(
            CAST(quanta * cost_sign AS DECIMAL(38, 0))
            * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
        ) AS share
    FROM quanta
),
billed AS (
    SELECT
        request_id,
        count(*) AS matched_cells,
        CAST(sum(share) AS DECIMAL(38, 10)) AS billed_cost,
        CAST(sum(CASE WHEN token_class = 'input' THEN share END) AS DECIMAL(38, 10)) AS input_cost,
        CAST(sum(CASE WHEN token_class = 'cache_read' THEN share END) AS DECIMAL(38, 10)) AS cache_read_cost,
        CAST(
            sum(CASE WHEN token_class IN ('cache_write', 'cache_write_1h') THEN share END) AS DECIMAL(38, 10)
        ) AS cache_write_cost,
        CAST(sum(CASE WHEN token_class = 'output' THEN share END) AS DECIMAL(38, 10)) AS output_cost
    FROM shares
    GROUP BY request_id
),
stated AS (
    SELECT
        r.*,
        -- A request with a share of the bill is billed even when the bill has no cell of its own model,
        -- which happens when a profile cell is matched by the profile.
        CASE
            WHEN b.matched_cells > 0 OR r.utc_time < br.bill_through THEN 'billed'
            ELSE 'estimated'
        END AS state,
        r.estimated_input_cost + r.estimated_cache_read_cost + r.estimated_cache_write_cost
            + r.estimated_output_cost AS estimated_cost,
        coalesce(b.billed_cost, CAST(0 AS DECIMAL(38, 10))) AS billed_cost,
        b.input_cost AS billed_input_cost,
        b.cache_read_cost AS billed_cache_read_cost,
        b.cache_write_cost AS billed_cache_write_cost,
        b.output_cost AS billed_output_cost,
        coalesce(b.matched_cells, 0) AS matched_cells
    FROM requests AS r
    LEFT JOIN bill_reached AS br ON br.usage_account_id = r.account_id AND br.model_id = r.model_id
    LEFT JOIN billed AS b ON b.request_id = r.request_id
)
SELECT
    request_id,
    timestamp,
    date_trunc('hour', utc_time) AS hour,
    day,
    account_id,
    region,
    model,
    model_id,
    inference_profile_id,
    route,
    principal,
    iam_role,
    team,
    feature,
    environment,
    tenant,
    user_key,
    input_tokens,
    cache_read_tokens,
    cache_write_tokens,
    cache_write_1h_tokens,
    output_tokens,
    estimated_cost,
    billed_cost,
    CASE WHEN state = 'billed' THEN billed_cost ELSE estimated_cost END AS cost,
    CASE WHEN state = 'billed' THEN coalesce(billed_input_cost, 0) ELSE estimated_input_cost END AS input_cost,
    CASE
        WHEN state = 'billed' THEN coalesce(billed_cache_read_cost, 0) ELSE estimated_cache_read_cost
    END AS cache_read_cost,
    CASE
        WHEN state = 'billed' THEN coalesce(billed_cache_write_cost, 0) ELSE estimated_cache_write_cost
    END AS cache_write_cost,
    CASE WHEN state = 'billed' THEN coalesce(billed_output_cost, 0) ELSE estimated_output_cost END AS output_cost,
    state,
    estimated_cost IS NOT NULL AS priced,
    matched_cells
FROM stated
