-- Attribution totals of one billing period, which showback must reconcile with.
-- Parameter: billing period (YYYY-MM).
SELECT total_cost, credit_cost, spend, estimated_request_cost, attributable_percent
FROM attribution_coverage
WHERE billing_period = ?
