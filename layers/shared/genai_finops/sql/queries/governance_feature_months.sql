-- Monthly request volume, active users and cost per team and feature, for the bottom-up forecast.
-- Parameters: first billing period, last billing period (YYYY-MM, inclusive).
-- Unpriced requests (cost NULL) are left out, so cost / requests is the cost of a priced request.
SELECT
    billing_period,
    team,
    feature,
    count(*) AS requests,
    count(DISTINCT user_key) AS active_users,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM request_costs
WHERE billing_period BETWEEN ? AND ?
    AND cost IS NOT NULL
GROUP BY billing_period, team, feature
ORDER BY billing_period, team, feature
