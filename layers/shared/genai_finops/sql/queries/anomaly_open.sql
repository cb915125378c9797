-- Open anomalies of one source (hourly_logs or daily_bill), to continue their lifecycle.
-- Parameters: source.
SELECT *
FROM anomalies
WHERE state = 'open'
    AND source = CAST(? AS VARCHAR)
