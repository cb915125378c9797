-- Daily billed GenAI spend before credits from cost_lines, grouped by the keys the bill carries: one
-- row per UTC day, team, feature and environment (from tags), model, inference profile and principal.
-- Credit and Refund lines are left out, so that a credit never hides or fakes a spike.
-- Parameters: cost column name (cost_unblended, cost_net or cost_amortized), first and last billing
-- period (YYYY-MM, scalar strings because Athena execution parameters are scalar literals), start, end
-- (UTC timestamps, end exclusive).
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS cost_column
)
SELECT
    CAST(date_trunc('day', c.usage_start AT TIME ZONE 'UTC') AS TIMESTAMP) AS hour,
    c.team,
    c.feature,
    c.environment,
    c.model,
    c.inference_profile_id,
    coalesce(c.iam_role, c.iam_principal) AS principal,
    c.tier,
    count(*) AS line_count,
    CAST(sum(
        CASE p.cost_column
            WHEN 'cost_unblended' THEN c.cost_unblended
            WHEN 'cost_amortized' THEN c.cost_amortized
            ELSE coalesce(c.cost_net, c.cost_unblended)
        END
    ) AS DECIMAL(38, 10)) AS cost
FROM cost_lines AS c
CROSS JOIN params AS p
WHERE c.billing_period BETWEEN CAST(? AS VARCHAR) AND CAST(? AS VARCHAR)
    AND c.usage_start AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
    AND c.usage_start AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
    AND c.line_item_type NOT IN ('Credit', 'Refund')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
