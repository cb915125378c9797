-- Demo report: unit economics per feature for one billing period, from the requests' allocated cost.
-- Active users are distinct user keys across all of the feature's requests.
SELECT
    feature,
    count(*) AS requests,
    count(DISTINCT user_key) AS active_users,
    sum(cost) AS cost,
    sum(cost) / count(*) AS cost_per_request,
    sum(cost) / nullif(count(DISTINCT user_key), 0) AS cost_per_active_user,
    avg(input_tokens + cache_read_tokens + cache_write_tokens) AS input_tokens_per_request,
    avg(output_tokens) AS output_tokens_per_request
FROM request_costs
WHERE billing_period = ?
GROUP BY feature
ORDER BY cost DESC
