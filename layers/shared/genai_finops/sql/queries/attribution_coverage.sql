-- How much of one billing period's GenAI cost is attributed to a team, feature and environment.
-- Spend is cost before credits: credits and refunds are reported apart and never spread into usage.
-- Parameters: billing period, cost column name (recorded in the row).
WITH params AS (
    SELECT CAST(? AS VARCHAR) AS billing_period, CAST(? AS VARCHAR) AS cost_column
),
bill AS (
    SELECT
        CAST(coalesce(sum(b.cost), 0) AS DECIMAL(38, 10)) AS total_cost,
        CAST(coalesce(sum(CASE WHEN b.reason = 'credit' THEN b.cost END), 0) AS DECIMAL(38, 10)) AS credit_cost
    FROM attribution_bill_lines AS b
    CROSS JOIN params AS p
    WHERE b.billing_period = p.billing_period
),
requests AS (
    SELECT
        CAST(coalesce(sum(r.billed_cost), 0) AS DECIMAL(38, 10)) AS billed_request_cost,
        CAST(coalesce(sum(CASE WHEN r.state = 'estimated' THEN r.cost END), 0) AS DECIMAL(38, 10))
            AS estimated_request_cost,
        CAST(coalesce(sum(
            CASE
                WHEN r.team IS NOT NULL AND r.feature IS NOT NULL AND r.environment IS NOT NULL THEN r.billed_cost
            END
        ), 0) AS DECIMAL(38, 10)) AS attributed_cost,
        count(*) AS request_count,
        sum(CASE WHEN r.state = 'billed' THEN 1 ELSE 0 END) AS billed_requests,
        sum(CASE WHEN r.state = 'estimated' THEN 1 ELSE 0 END) AS estimated_requests,
        sum(CASE WHEN NOT r.priced THEN 1 ELSE 0 END) AS unpriced_requests
    FROM request_costs AS r
    CROSS JOIN params AS p
    WHERE r.billing_period = p.billing_period
),
remainder AS (
    SELECT
        CAST(coalesce(sum(x.cost), 0) AS DECIMAL(38, 10)) AS remainder_cost,
        CAST(coalesce(sum(
            CASE
                WHEN x.team IS NOT NULL AND x.feature IS NOT NULL AND x.environment IS NOT NULL THEN x.cost
            END
        ), 0) AS DECIMAL(38, 10)) AS attributed_cost
    FROM attribution_remainder AS x
    CROSS JOIN params AS p
    WHERE x.billing_period = p.billing_period AND x.reason <> 'credit'
),
cells AS (
    SELECT sum(CASE WHEN c.diverges THEN 1 ELSE 0 END) AS diverging_cells
    FROM attribution_cells AS c
    CROSS JOIN params AS p
    WHERE c.billing_period = p.billing_period
)
SELECT
    p.cost_column,
    b.total_cost,
    b.credit_cost,
    CAST(b.total_cost - b.credit_cost AS DECIMAL(38, 10)) AS spend,
    r.billed_request_cost,
    x.remainder_cost,
    r.estimated_request_cost,
    CAST(r.attributed_cost + x.attributed_cost AS DECIMAL(38, 10)) AS attributed_cost,
    100 * CAST(r.attributed_cost + x.attributed_cost AS DOUBLE)
        / nullif(CAST(b.total_cost - b.credit_cost AS DOUBLE), 0) AS attributable_percent,
    r.request_count,
    coalesce(r.billed_requests, 0) AS billed_requests,
    coalesce(r.estimated_requests, 0) AS estimated_requests,
    coalesce(r.unpriced_requests, 0) AS unpriced_requests,
    coalesce(c.diverging_cells, 0) AS diverging_cells
FROM params AS p
CROSS JOIN bill AS b
CROSS JOIN requests AS r
CROSS JOIN remainder AS x
CROSS JOIN cells AS c
