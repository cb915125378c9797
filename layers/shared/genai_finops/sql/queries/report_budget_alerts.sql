-- Demo report: budget and cap alerts sent for one billing period.
SELECT
    kind,
    team,
    severity,
    subject
FROM messages_sent
WHERE billing_period = ? AND kind LIKE 'budget%'
ORDER BY team, kind
