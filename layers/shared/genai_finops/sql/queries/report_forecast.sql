-- Demo report: the monthly forecast made in one billing period's run, summed over features per scenario.
-- cost_low and cost_high add up the features' own interval bounds, so they are wider than a joint interval.
SELECT
    scenario,
    target_period,
    sum(cost) AS cost,
    sum(cost_low) AS cost_low,
    sum(cost_high) AS cost_high
FROM forecasts
WHERE billing_period = ? AND granularity = 'month'
GROUP BY scenario, target_period
ORDER BY scenario, target_period
