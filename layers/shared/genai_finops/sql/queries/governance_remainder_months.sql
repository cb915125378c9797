-- Billed cost that no request received, per month, team and feature, credits and refunds excluded.
-- Parameters: first billing period, last billing period (YYYY-MM, inclusive).
SELECT
    billing_period,
    team,
    feature,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM attribution_remainder
WHERE billing_period BETWEEN ? AND ?
    AND reason <> 'credit'
GROUP BY billing_period, team, feature
ORDER BY billing_period, team, feature
