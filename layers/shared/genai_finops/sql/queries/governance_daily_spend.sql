-- Daily spend of one billing period per team, feature and environment, for budget checks: requests
-- (billed share or estimate) and remainder lines by their usage day. Credits and refunds are excluded.
-- Parameters: billing period, billing period (YYYY-MM).
SELECT day, team, feature, environment, CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM (
    SELECT day, team, feature, environment, cost
    FROM request_costs
    WHERE billing_period = ?
        AND cost IS NOT NULL
    UNION ALL
    SELECT CAST(usage_start AS DATE) AS day, team, feature, environment, cost
    FROM attribution_remainder
    WHERE billing_period = ?
        AND reason <> 'credit'
) AS spend
GROUP BY day, team, feature, environment
ORDER BY day
