-- Mean absolute percentage error of earlier base-scenario forecasts per team and feature, up to a period.
-- Parameter: last billing period (YYYY-MM, inclusive).
SELECT
    team,
    feature,
    avg(absolute_percentage_error) AS mean_absolute_percentage_error,
    count(absolute_percentage_error) AS forecasts_compared
FROM forecast_accuracy
WHERE billing_period <= ?
    AND scenario = 'base'
    AND absolute_percentage_error IS NOT NULL
GROUP BY team, feature
