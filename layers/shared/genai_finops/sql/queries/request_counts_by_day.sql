-- Requests per invocations partition (UTC day) in a range of days, to cut request_costs into slices
-- of bounded size. Parameters: first partition date, end partition date (exclusive).
SELECT date, count(*) AS request_count
FROM invocations
WHERE date >= CAST(? AS VARCHAR) AND date < CAST(? AS VARCHAR)
GROUP BY date
ORDER BY date
