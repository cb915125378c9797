-- Hourly usage and estimated cost of invocation requests, grouped by every key anomaly detection
-- watches: one row per hour, team, feature, environment, model id, inference profile, principal, region
-- and route. The estimate prices each token class at the standard tier with the price_catalog row of
-- the request's day, with the same per-request rounding as request_costs.estimated_cost. Requests whose
-- day, model, region or route has no catalog row yet (attribution has not run since) are counted with
-- priced = false and NULL costs, so that the caller prices them from the shipped list prices.
--
-- The principal is the IAM role when the caller is an assumed-role session, else the caller ARN.
-- Parameters: first partition date, end partition date (exclusive), start, end (UTC timestamps, end
-- exclusive).
WITH logged AS (
    SELECT
        date_trunc('hour', i.timestamp AT TIME ZONE 'UTC') AS hour,
        CAST(i.timestamp AT TIME ZONE 'UTC' AS DATE) AS day,
        i.team,
        i.feature,
        i.environment,
        coalesce(a.model_id, i.model) AS model_id,
        i.inference_profile_id,
        coalesce(i.iam_role, i.principal) AS principal,
        i.region,
        i.route,
        CASE WHEN i.status = 'error' THEN 1 ELSE 0 END AS is_error,
        coalesce(i.input_tokens, 0) AS input_tokens,
        coalesce(i.cache_read_tokens, 0) AS cache_read_tokens,
        coalesce(i.cache_write_tokens, 0) AS cache_write_tokens,
        coalesce(i.cache_write_1h_tokens, 0) AS cache_write_1h_tokens,
        greatest(coalesce(i.cache_write_tokens, 0) - coalesce(i.cache_write_1h_tokens, 0), 0) AS cache_write_5m_tokens,
        coalesce(i.output_tokens, 0) AS output_tokens
    FROM invocations AS i
    LEFT JOIN model_aliases AS a
        ON a.billing_period = substr(i.date, 1, 7) AND a.name = i.model
    WHERE i.date >= CAST(? AS VARCHAR)
        AND i.date < CAST(? AS VARCHAR)
        AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
        AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
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
        max(CASE WHEN pc.token_class = 'cache_write_1h' THEN pc.price_per_million END) AS cache_write_1h_price,
        count(*) AS catalog_rows
    FROM price_catalog AS pc
    WHERE pc.tier = 'standard'
    GROUP BY pc.day, pc.model_id, pc.region, pc.route
),
-- A class with tokens and no price gives NULL, and NULL propagates through the sums below.
priced AS (
    SELECT
        r.*,
        sp.catalog_rows IS NOT NULL AS in_catalog,
        CASE
            WHEN r.input_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.input_tokens AS DECIMAL(20, 0)) * CAST(sp.input_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS input_cost,
        CASE
            WHEN r.cache_read_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.cache_read_tokens AS DECIMAL(20, 0)) * CAST(sp.cache_read_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS cache_read_cost,
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
        END AS cache_write_cost,
        CASE
            WHEN r.output_tokens = 0 THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(
                CAST(r.output_tokens AS DECIMAL(20, 0)) * CAST(sp.output_price AS DECIMAL(18, 10))
                * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
            )
        END AS output_cost
    FROM logged AS r
    LEFT JOIN standard_prices AS sp
        ON sp.day = r.day
        AND sp.model_id = r.model_id
        AND sp.region = coalesce(r.region, '*')
        AND sp.route = coalesce(r.route, '*')
)
SELECT
    hour,
    team,
    feature,
    environment,
    model_id AS model,
    inference_profile_id,
    principal,
    region,
    route,
    in_catalog AS priced,
    count(*) AS requests,
    sum(is_error) AS errors,
    sum(input_tokens) AS input_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
    sum(output_tokens) AS output_tokens,
    CAST(sum(input_cost) AS DECIMAL(38, 10)) AS input_cost,
    CAST(sum(cache_read_cost) AS DECIMAL(38, 10)) AS cache_read_cost,
    CAST(sum(cache_write_cost) AS DECIMAL(38, 10)) AS cache_write_cost,
    CAST(sum(output_cost) AS DECIMAL(38, 10)) AS output_cost
FROM priced
GROUP BY hour, team, feature, environment, model_id, inference_profile_id, principal, region, route, in_catalog
