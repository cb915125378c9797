-- Requests, tokens and distinct users of one billing period per team and feature, and per team
-- (team_total = true marks the per-team rows, whose users are counted once across features).
-- Parameter: billing period (YYYY-MM).
SELECT
    team,
    feature,
    GROUPING(feature) = 1 AS team_total,
    count(*) AS requests,
    sum(
        coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0)
        + coalesce(output_tokens, 0)
    ) AS tokens,
    count(DISTINCT user_key) AS active_users
FROM request_costs
WHERE billing_period = ?
GROUP BY GROUPING SETS ((team, feature), (team))
