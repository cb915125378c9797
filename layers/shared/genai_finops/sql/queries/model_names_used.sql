-- Distinct model names in one billing period's bill lines and requests, to map to model ids.
-- Parameters: billing period, first partition date, end partition date (exclusive).
SELECT DISTINCT model AS name
FROM cost_lines
WHERE billing_period = CAST(? AS VARCHAR) AND model IS NOT NULL
UNION
SELECT DISTINCT model AS name
FROM invocations
WHERE date >= CAST(? AS VARCHAR) AND date < CAST(? AS VARCHAR) AND model IS NOT NULL
