-- Credit lines per billing period (negative amounts) in each cost column; the caller picks the
-- configured one. Parameters: first and last billing period (YYYY-MM, inclusive).
SELECT
    billing_period,
    CAST(sum(cost_unblended) AS DECIMAL(38, 10)) AS cost_unblended,
    CAST(sum(coalesce(cost_net, cost_unblended)) AS DECIMAL(38, 10)) AS cost_net,
    CAST(sum(cost_amortized) AS DECIMAL(38, 10)) AS cost_amortized
FROM cost_lines
WHERE line_item_type = 'Credit'
    AND billing_period BETWEEN ? AND ?
GROUP BY billing_period
