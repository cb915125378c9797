-- Every anomaly of one billing period partition, to merge a run's changes into it.
-- Parameters: billing period (YYYY-MM).
SELECT *
FROM anomalies
WHERE billing_period = CAST(? AS VARCHAR)
