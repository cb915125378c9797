-- GenAI total of one billing period in the allocated cost column, straight from cost_lines, for the
-- reconciliation check. Parameters: cost column, billing period 'YYYY-MM'.
WITH params AS (
    SELECT CAST(? AS VARCHAR) AS cost_column, CAST(? AS VARCHAR) AS billing_period
)
SELECT
    CAST(coalesce(sum(
        CASE p.cost_column
            WHEN 'cost_unblended' THEN l.cost_unblended
            WHEN 'cost_amortized' THEN l.cost_amortized
            ELSE coalesce(l.cost_net, l.cost_unblended)
        END
    ), 0) AS DECIMAL(38, 10)) AS total_cost,
    count(*) AS line_count
FROM cost_lines AS l
CROSS JOIN params AS p
WHERE l.billing_period = p.billing_period
