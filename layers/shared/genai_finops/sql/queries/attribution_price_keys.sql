-- The model, tier, region and route combinations that one billing period's requests and allocatable
-- bill lines use, so that the price catalog is resolved for exactly those. Requests are priced at the
-- standard tier. Parameters: billing period, first partition date, end partition date (exclusive),
-- period start, period end (UTC timestamps, end exclusive).
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS billing_period
)
SELECT DISTINCT coalesce(a.model_id, i.model) AS model_id, 'standard' AS tier, i.region, i.route
FROM invocations AS i
CROSS JOIN params AS p
LEFT JOIN model_aliases AS a
    ON a.billing_period = p.billing_period AND a.name = i.model
WHERE i.date >= CAST(? AS VARCHAR)
    AND i.date < CAST(? AS VARCHAR)
    AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
    AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
    AND i.model IS NOT NULL
UNION
SELECT DISTINCT b.model_id, coalesce(b.tier, 'standard') AS tier, b.region, b.route
FROM attribution_bill_lines AS b
CROSS JOIN params AS p
WHERE b.billing_period = p.billing_period AND b.reason IS NULL
