-- The bill's own rate inputs: cost and tokens of allocatable usage per model, token class, tier, region
-- and route, for the current and the previous billing period. Parameters: current period, previous period.
SELECT
    billing_period,
    model_id,
    token_class,
    tier,
    region,
    route,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost,
    sum(tokens) AS tokens
FROM attribution_bill_lines
WHERE billing_period IN (CAST(? AS VARCHAR), CAST(? AS VARCHAR))
    AND reason IS NULL
    AND tokens > 0
GROUP BY billing_period, model_id, token_class, tier, region, route
