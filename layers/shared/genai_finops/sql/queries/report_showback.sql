-- Demo report: one billing period's showback per team.
SELECT
    team,
    sum(direct_cost) AS direct_cost,
    sum(shared_cost) AS shared_cost,
    sum(credits_applied) AS credits_applied,
    sum(net_cost) AS net_cost,
    max(statement_mode) AS statement_mode
FROM showback
WHERE billing_period = ?
GROUP BY team
ORDER BY net_cost DESC
