-- Monthly forecasts made before a billing period for that period, summed per run, team, feature and
-- scenario. Parameters: target billing period, target billing period (YYYY-MM).
SELECT
    billing_period AS forecast_period,
    run_id AS forecast_run_id,
    team,
    feature,
    scenario,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS forecast_cost,
    CAST(sum(cost_low) AS DECIMAL(38, 10)) AS cost_low,
    CAST(sum(cost_high) AS DECIMAL(38, 10)) AS cost_high
FROM forecasts
WHERE target_period = ?
    AND granularity = 'month'
    AND billing_period < ?
GROUP BY billing_period, run_id, team, feature, scenario
