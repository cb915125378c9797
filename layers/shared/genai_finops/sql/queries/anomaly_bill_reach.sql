-- The end of the latest usage hour the bill covers, over the given billing periods.
-- Parameters: billing periods (array of YYYY-MM).
SELECT max(usage_end) AS bill_through
FROM cost_lines
WHERE contains(CAST(? AS ARRAY(VARCHAR)), billing_period)
