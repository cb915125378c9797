-- Cost of each end user (user_key) per feature over one billing period, for the plan-price comparison.
-- Requests without a user_key or without a known cost are left out. Parameter: billing period.
SELECT
    feature,
    user_key,
    count(*) AS request_count,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM request_costs
WHERE billing_period = CAST(? AS VARCHAR)
    AND user_key IS NOT NULL
    AND cost IS NOT NULL
GROUP BY feature, user_key
