-- Bill cells of one billing period: allocatable token usage grouped by the keys a request can match.
-- The keys are interval, account, region, usage type, model, token class, tier, route, inference
-- profile and IAM principal. Each cell gets the requests that fall in it, their tokens, an estimate at
-- the reference (non-bill) price and, when no request matched, the reason.
--
-- Matching rules, shared with request_costs.sql:
-- * A request falls in a cell when its timestamp, truncated to the account's bill granularity (hour,
--   day or month), equals the cell's usage_start and account, region, model id and token class agree.
--   For a cell with an inference profile the profile takes the place of the model id.
-- * A NULL profile, principal or route on the bill does not restrict the match, and an in_region cell
--   also takes geo requests. A request whose
--   profile (or principal) has a cell of its own matches only that cell; the others match the cell
--   without one. Requests carry no tier, so every tier's cell of the same keys matches.
-- Requests are matched as whole usage groups (attribution_usage_groups): every request of a group has
-- the same keys, so it matches the same cells.
-- Parameters: billing period, divergence tolerance share.
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS billing_period
),
cell_lines AS (
    SELECT
        b.*,
        b.usage_start AT TIME ZONE 'UTC' AS bucket,
        CASE
            WHEN date_diff('minute', b.usage_start, b.usage_end) <= 60 THEN 1
            WHEN date_diff('minute', b.usage_start, b.usage_end) <= 1440 THEN 2
            ELSE 3
        END AS grain_rank
    FROM attribution_bill_lines AS b
    CROSS JOIN params AS p
    WHERE b.billing_period = p.billing_period AND b.reason IS NULL
),
grouped AS (
    SELECT
        usage_start,
        usage_end,
        bucket,
        usage_account_id,
        region,
        usage_type,
        model_id,
        token_class,
        tier,
        route,
        inference_profile_id,
        iam_principal,
        min(grain_rank) AS grain_rank,
        CAST(sum(cost) AS DECIMAL(38, 10)) AS cost,
        sum(tokens) AS billed_tokens
    FROM cell_lines
    GROUP BY
        usage_start, usage_end, bucket, usage_account_id, region, usage_type, model_id, token_class, tier, route,
        inference_profile_id, iam_principal
),
cells AS (
    SELECT
        row_number() OVER (
            ORDER BY bucket, usage_end, usage_account_id, region, usage_type, model_id, token_class, tier, route,
                inference_profile_id, iam_principal
        ) AS cell_id,
        g.*
    FROM grouped AS g
),
account_grain AS (
    SELECT usage_account_id, min(grain_rank) AS grain_rank
    FROM cells
    GROUP BY usage_account_id
),
usage_groups AS (
    SELECT
        u.group_id,
        u.account_id,
        u.region,
        u.route,
        u.inference_profile_id,
        u.principal,
        coalesce(a.model_id, u.model) AS model_id,
        u.day,
        CASE g.grain_rank
            WHEN 1 THEN u.hour
            WHEN 2 THEN date_trunc('day', u.hour)
            ELSE date_trunc('month', u.hour)
        END AS bucket,
        u.input_tokens,
        u.input_requests,
        u.output_tokens,
        u.output_requests,
        u.cache_read_tokens,
        u.cache_read_requests,
        u.cache_write_tokens,
        u.cache_write_requests,
        u.cache_write_1h_tokens,
        u.cache_write_1h_requests
    FROM attribution_usage_groups AS u
    CROSS JOIN params AS p
    JOIN account_grain AS g ON g.usage_account_id = u.account_id
    LEFT JOIN model_aliases AS a ON a.billing_period = p.billing_period AND a.name = u.model
    WHERE u.billing_period = p.billing_period
),
request_tokens AS (
    SELECT
        r.*,
        c.token_class,
        CASE c.token_class
            WHEN 'input' THEN r.input_tokens
            WHEN 'output' THEN r.output_tokens
            WHEN 'cache_read' THEN r.cache_read_tokens
            WHEN 'cache_write' THEN r.cache_write_tokens
            ELSE r.cache_write_1h_tokens
        END AS weight,
        CASE c.token_class
            WHEN 'input' THEN r.input_requests
            WHEN 'output' THEN r.output_requests
            WHEN 'cache_read' THEN r.cache_read_requests
            WHEN 'cache_write' THEN r.cache_write_requests
            ELSE r.cache_write_1h_requests
        END AS weighted_requests
    FROM usage_groups AS r
    CROSS JOIN (VALUES ('input'), ('output'), ('cache_read'), ('cache_write'), ('cache_write_1h')) AS c (token_class)
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
    FROM request_tokens AS t
    LEFT JOIN profile_keys AS k
        ON k.bucket = t.bucket
        AND k.usage_account_id = t.account_id
        AND k.region = t.region
        AND k.token_class = t.token_class
        AND k.inference_profile_id = t.inference_profile_id
    WHERE t.weight > 0
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
        t.weighted_requests,
        t.weight,
        t.day,
        c.model_id,
        t.token_class,
        coalesce(c.tier, 'standard') AS tier,
        coalesce(t.region, '*') AS price_region,
        coalesce(t.route, '*') AS price_route
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
),
-- Matched rows are summed per cell and price key before the price join, so the join reads one row per
-- group instead of one per request. Sums of exact decimals are the same either way.
match_groups AS (
    SELECT
        cell_id,
        day,
        model_id,
        token_class,
        tier,
        price_region,
        price_route,
        sum(weighted_requests) AS matched_requests,
        sum(weight) AS matched_tokens
    FROM matches
    GROUP BY cell_id, day, model_id, token_class, tier, price_region, price_route
),
match_stats AS (
    SELECT
        m.cell_id,
        sum(m.matched_requests) AS matched_requests,
        sum(m.matched_tokens) AS matched_tokens,
        sum(CASE WHEN pc.reference_price_per_million IS NULL THEN m.matched_requests ELSE 0 END) AS unpriced_requests,
        CAST(
            sum(CAST(m.matched_tokens AS DECIMAL(20, 0)) * CAST(pc.reference_price_per_million AS DECIMAL(18, 10)))
            * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 10)
        ) AS estimated_cost
    FROM match_groups AS m
    CROSS JOIN params AS p
    LEFT JOIN price_catalog AS pc
        ON pc.billing_period = p.billing_period
        AND pc.day = m.day
        AND pc.model_id = m.model_id
        AND pc.token_class = m.token_class
        AND pc.tier = m.tier
        AND pc.region = m.price_region
        AND pc.route = m.price_route
    GROUP BY m.cell_id
),
logged_regions AS (
    SELECT DISTINCT account_id, region
    FROM usage_groups
),
scored AS (
    SELECT
        c.*,
        coalesce(s.matched_requests, 0) AS matched_requests,
        coalesce(s.matched_tokens, 0) AS matched_tokens,
        CASE WHEN s.unpriced_requests = 0 THEN s.estimated_cost END AS estimated_cost,
        CASE
            WHEN s.unpriced_requests = 0 AND c.cost <> 0
                THEN abs(CAST(c.cost AS DOUBLE) - CAST(s.estimated_cost AS DOUBLE)) / abs(CAST(c.cost AS DOUBLE))
        END AS divergence_share,
        CASE
            WHEN coalesce(s.matched_tokens, 0) > 0 THEN NULL
            WHEN l.account_id IS NULL THEN 'logging_off'
            ELSE 'no_matching_requests'
        END AS reason
    FROM cells AS c
    LEFT JOIN match_stats AS s ON s.cell_id = c.cell_id
    LEFT JOIN logged_regions AS l ON l.account_id = c.usage_account_id AND l.region = c.region
)
SELECT
    s.cell_id,
    s.usage_start,
    s.usage_end,
    CASE s.grain_rank WHEN 1 THEN 'hour' WHEN 2 THEN 'day' ELSE 'month' END AS grain,
    s.usage_account_id,
    s.region,
    s.usage_type,
    s.model_id,
    s.token_class,
    s.tier,
    s.route,
    s.inference_profile_id,
    s.iam_principal,
    s.cost,
    s.billed_tokens,
    s.matched_requests,
    s.matched_tokens,
    s.estimated_cost,
    s.divergence_share,
    coalesce(abs(s.cost - s.estimated_cost) > CAST(? AS DECIMAL(20, 10)) * abs(s.cost), FALSE) AS diverges,
    s.reason
FROM scored AS s
