-- The model, tier, region and route combinations that one billing period's requests and allocatable
-- bill lines use, so that the price catalog is resolved for exactly those. Requests are priced at the
-- standard tier and read from attribution_usage_groups. Parameter: billing period.
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS billing_period
)
SELECT DISTINCT coalesce(a.model_id, g.model) AS model_id, 'standard' AS tier, g.region, g.route
FROM attribution_usage_groups AS g
CROSS JOIN params AS p
LEFT JOIN model_aliases AS a
    ON a.billing_period = p.billing_period AND a.name = g.model
WHERE g.billing_period = p.billing_period AND g.model IS NOT NULL
UNION
SELECT DISTINCT b.model_id, coalesce(b.tier, 'standard') AS tier, b.region, b.route
FROM attribution_bill_lines AS b
CROSS JOIN params AS p
WHERE b.billing_period = p.billing_period AND b.reason IS NULL
