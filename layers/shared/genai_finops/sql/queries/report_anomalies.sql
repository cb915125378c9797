-- Demo report: anomalies found on invocation logs, with their owner and the largest part of the change.
SELECT
    opened_at,
    kind,
    dimension || '=' || boundary_value AS boundary,
    owner_team,
    state,
    impact,
    CASE
        WHEN volume_effect >= greatest(input_tokens_effect, output_tokens_effect, rate_mix_effect)
            THEN 'request volume'
        WHEN rate_mix_effect >= greatest(input_tokens_effect, output_tokens_effect) THEN 'rate or model mix'
        WHEN input_tokens_effect >= output_tokens_effect THEN 'input tokens per request'
        ELSE 'output tokens per request'
    END AS main_driver
FROM anomalies
WHERE source = 'hourly_logs'
ORDER BY opened_at
