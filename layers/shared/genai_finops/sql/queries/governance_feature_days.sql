-- Daily cost and priced requests per team and feature in one billing period: the day-of-week profile of
-- the daily forecast and the daily cost per request. Parameter: billing period (YYYY-MM).
SELECT
    day,
    team,
    feature,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost,
    count(*) AS requests
FROM request_costs
WHERE billing_period = ?
    AND cost IS NOT NULL
GROUP BY day, team, feature
ORDER BY day, team, feature
