-- Distinct model names in one billing period's bill lines and requests, to map to model ids. The
-- requests' names come from attribution_usage_groups, which has one row per model and hour.
-- Parameters: billing period, billing period.
SELECT DISTINCT model AS name
FROM cost_lines
WHERE billing_period = CAST(? AS VARCHAR) AND model IS NOT NULL
UNION
SELECT DISTINCT model AS name
FROM attribution_usage_groups
WHERE billing_period = CAST(? AS VARCHAR) AND model IS NOT NULL
