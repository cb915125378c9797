-- Unit economics of the whole billing period per team, feature, environment, model, inference profile and tenant,
-- from request_costs. GROUP BY keeps NULL keys as their own groups. Ratios are rounded to 10 places;
-- percentiles are approx_percentile in Athena
-- and exact locally (quantile_disc). Parameter: billing period.
SELECT
    team,
    feature,
    environment,
    model_id,
    inference_profile_id,
    tenant,
    count(*) AS request_count,
    count(DISTINCT user_key) AS active_users,
    sum(input_tokens) AS input_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(output_tokens) AS output_tokens,
    avg(CAST(input_tokens AS DOUBLE)) AS input_tokens_mean,
    CAST(approx_percentile(input_tokens, ARRAY[0.5, 0.95])[1] AS DOUBLE) AS input_tokens_p50,
    CAST(approx_percentile(input_tokens, ARRAY[0.5, 0.95])[2] AS DOUBLE) AS input_tokens_p95,
    avg(CAST(cache_read_tokens AS DOUBLE)) AS cache_read_tokens_mean,
    CAST(approx_percentile(cache_read_tokens, ARRAY[0.5, 0.95])[1] AS DOUBLE) AS cache_read_tokens_p50,
    CAST(approx_percentile(cache_read_tokens, ARRAY[0.5, 0.95])[2] AS DOUBLE) AS cache_read_tokens_p95,
    avg(CAST(cache_write_tokens AS DOUBLE)) AS cache_write_tokens_mean,
    CAST(approx_percentile(cache_write_tokens, ARRAY[0.5, 0.95])[1] AS DOUBLE) AS cache_write_tokens_p50,
    CAST(approx_percentile(cache_write_tokens, ARRAY[0.5, 0.95])[2] AS DOUBLE) AS cache_write_tokens_p95,
    avg(CAST(output_tokens AS DOUBLE)) AS output_tokens_mean,
    CAST(approx_percentile(output_tokens, ARRAY[0.5, 0.95])[1] AS DOUBLE) AS output_tokens_p50,
    CAST(approx_percentile(output_tokens, ARRAY[0.5, 0.95])[2] AS DOUBLE) AS output_tokens_p95,
    CAST(coalesce(sum(cost), 0) AS DECIMAL(38, 10)) AS total_cost,
    CAST(coalesce(sum(CASE WHEN state = 'billed' THEN cost END), 0) AS DECIMAL(38, 10)) AS billed_cost,
    CAST(coalesce(sum(CASE WHEN state = 'estimated' THEN cost END), 0) AS DECIMAL(38, 10)) AS estimated_cost,
    sum(CASE WHEN cost IS NULL THEN 1 ELSE 0 END) AS unpriced_requests,
    CAST(sum(cost) / nullif(count(cost), 0) AS DECIMAL(38, 10)) AS cost_per_request,
    CAST(sum(cost) / nullif(count(DISTINCT user_key), 0) AS DECIMAL(38, 10)) AS cost_per_active_user,
    CAST(sum(input_cost) * 1000000 / nullif(sum(input_tokens), 0) AS DECIMAL(38, 10)) AS input_cost_per_million,
    CAST(
        sum(cache_read_cost) * 1000000 / nullif(sum(cache_read_tokens), 0) AS DECIMAL(38, 10)
    ) AS cache_read_cost_per_million,
    CAST(
        sum(cache_write_cost) * 1000000 / nullif(sum(cache_write_tokens), 0) AS DECIMAL(38, 10)
    ) AS cache_write_cost_per_million,
    CAST(sum(output_cost) * 1000000 / nullif(sum(output_tokens), 0) AS DECIMAL(38, 10)) AS output_cost_per_million,
    CAST(coalesce(sum(CASE WHEN state = 'billed' THEN cost END), 0) AS DOUBLE)
        / nullif(CAST(sum(cost) AS DOUBLE), 0)
        AS billed_share,
    CAST(coalesce(sum(CASE WHEN state = 'estimated' THEN cost END), 0) AS DOUBLE)
        / nullif(CAST(sum(cost) AS DOUBLE), 0)
        AS estimated_share
FROM request_costs
WHERE billing_period = CAST(? AS VARCHAR)
GROUP BY team, feature, environment, model_id, inference_profile_id, tenant
