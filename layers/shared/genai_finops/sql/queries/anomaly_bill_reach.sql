-- The end of the latest usage interval the bill covers, over a range of billing periods.
-- Parameters: first and last billing period (YYYY-MM).
SELECT max(usage_end) AS bill_through
FROM cost_lines
WHERE billing_period BETWEEN CAST(? AS VARCHAR) AND CAST(? AS VARCHAR)
