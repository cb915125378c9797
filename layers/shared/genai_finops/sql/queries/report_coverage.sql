-- Demo report: the attributable share of GenAI spend per billing period.
SELECT
    billing_period,
    spend,
    credit_cost,
    attributed_cost,
    attributable_percent,
    request_count
FROM attribution_coverage
ORDER BY billing_period
