-- Cost of one billing period per team and feature, split by whether the environment is known and
-- whether the cost is still an estimate. Requests and remainder lines both count; credits do not.
-- Parameters: billing period, billing period (YYYY-MM).
SELECT
    team,
    feature,
    environment IS NOT NULL AS has_environment,
    state = 'estimated' AS estimated,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM request_costs
WHERE billing_period = ?
    AND cost IS NOT NULL
GROUP BY team, feature, environment IS NOT NULL, state = 'estimated'
UNION ALL
SELECT
    team,
    feature,
    environment IS NOT NULL AS has_environment,
    false AS estimated,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM attribution_remainder
WHERE billing_period = ?
    AND reason <> 'credit'
GROUP BY team, feature, environment IS NOT NULL
