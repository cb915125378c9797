-- Credit lines per billing period (negative amounts) in the configured cost column.
-- Parameters: cost column name (cost_unblended, cost_net or cost_amortized), first and last billing period.
SELECT
    billing_period,
    CAST(
        sum(
            CASE ?
                WHEN 'cost_unblended' THEN cost_unblended
                WHEN 'cost_amortized' THEN cost_amortized
                ELSE cost_net
            END
        ) AS DECIMAL(38, 10)
    ) AS credits
FROM cost_lines
WHERE line_item_type = 'Credit'
    AND billing_period BETWEEN ? AND ?
GROUP BY billing_period
ORDER BY billing_period
