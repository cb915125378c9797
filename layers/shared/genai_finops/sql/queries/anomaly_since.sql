-- Anomalies opened, still open, or closed at or after a time, for the daily digest.
-- Parameters: time (UTC timestamp), the same time again.
SELECT *
FROM anomalies
WHERE state = 'open'
    OR opened_at AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
    OR closed_at AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
