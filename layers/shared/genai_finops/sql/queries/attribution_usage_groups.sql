-- Usage groups of one billing period: its requests grouped by every key that decides which bill cells
-- a request matches and at which price. The keys are UTC hour, account, region, model as logged,
-- inference profile, principal and route. Bills are hourly at the finest, so each cell takes whole
-- groups, and cells are matched against groups, not against each request. Token sums are the
-- allocation weights of each token class. Counts are requests with tokens of that class. The 5-minute
-- cache writes are cache_write_tokens minus the 1-hour share.
-- Parameters: first partition date, end partition date (exclusive), period start, period end (UTC,
-- exclusive). The bounds are placeholders in the WHERE clause itself so that both engines prune
-- invocations partitions by date.
WITH requests AS (
    SELECT
        date_trunc('hour', i.timestamp AT TIME ZONE 'UTC') AS hour,
        i.account_id,
        i.region,
        i.model,
        i.inference_profile_id,
        i.principal,
        i.route,
        coalesce(i.input_tokens, 0) AS input_tokens,
        coalesce(i.output_tokens, 0) AS output_tokens,
        coalesce(i.cache_read_tokens, 0) AS cache_read_tokens,
        greatest(coalesce(i.cache_write_tokens, 0) - coalesce(i.cache_write_1h_tokens, 0), 0) AS cache_write_tokens,
        coalesce(i.cache_write_1h_tokens, 0) AS cache_write_1h_tokens
    FROM invocations AS i
    WHERE i.date >= CAST(? AS VARCHAR)
        AND i.date < CAST(? AS VARCHAR)
        AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
        AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
),
grouped AS (
    SELECT
        hour,
        account_id,
        region,
        model,
        inference_profile_id,
        principal,
        route,
        count(*) AS request_count,
        sum(input_tokens) AS input_tokens,
        sum(CASE WHEN input_tokens > 0 THEN 1 ELSE 0 END) AS input_requests,
        sum(output_tokens) AS output_tokens,
        sum(CASE WHEN output_tokens > 0 THEN 1 ELSE 0 END) AS output_requests,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(CASE WHEN cache_read_tokens > 0 THEN 1 ELSE 0 END) AS cache_read_requests,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(CASE WHEN cache_write_tokens > 0 THEN 1 ELSE 0 END) AS cache_write_requests,
        sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
        sum(CASE WHEN cache_write_1h_tokens > 0 THEN 1 ELSE 0 END) AS cache_write_1h_requests
    FROM requests
    GROUP BY hour, account_id, region, model, inference_profile_id, principal, route
)
SELECT
    row_number() OVER (
        ORDER BY
            hour,
            account_id NULLS FIRST,
            region NULLS FIRST,
            model NULLS FIRST,
            inference_profile_id NULLS FIRST,
            principal NULLS FIRST,
            route NULLS FIRST
    ) AS group_id,
    hour,
    CAST(hour AS DATE) AS day,
    account_id,
    region,
    model,
    inference_profile_id,
    principal,
    route,
    request_count,
    input_tokens,
    input_requests,
    output_tokens,
    output_requests,
    cache_read_tokens,
    cache_read_requests,
    cache_write_tokens,
    cache_write_requests,
    cache_write_1h_tokens,
    cache_write_1h_requests
FROM grouped
