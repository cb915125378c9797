-- The largest sources of one period's spend that lack a team, feature or environment: billed requests
-- grouped by inference profile, principal and model, and remainder lines (credits excluded) grouped by
-- reason, resource, principal, usage type and model. Parameters: billing period, maximum rows.
WITH params AS (
    SELECT CAST(? AS VARCHAR) AS billing_period, CAST(? AS BIGINT) AS row_limit
),
sources AS (
    SELECT
        'requests' AS source,
        'missing_keys' AS reason,
        r.inference_profile_id AS resource_id,
        r.principal,
        CAST(NULL AS VARCHAR) AS usage_type,
        r.model_id,
        CAST(sum(r.billed_cost) AS DECIMAL(38, 10)) AS cost,
        count(*) AS request_count
    FROM request_costs AS r
    CROSS JOIN params AS p
    WHERE r.billing_period = p.billing_period
        AND r.billed_cost <> 0
        AND (r.team IS NULL OR r.feature IS NULL OR r.environment IS NULL)
    GROUP BY r.inference_profile_id, r.principal, r.model_id
    UNION ALL
    SELECT
        'remainder' AS source,
        x.reason,
        x.resource_id,
        x.iam_principal AS principal,
        x.usage_type,
        x.model_id,
        CAST(sum(x.cost) AS DECIMAL(38, 10)) AS cost,
        CAST(NULL AS BIGINT) AS request_count
    FROM attribution_remainder AS x
    CROSS JOIN params AS p
    WHERE x.billing_period = p.billing_period
        AND x.reason <> 'credit'
        AND (x.team IS NULL OR x.feature IS NULL OR x.environment IS NULL)
    GROUP BY x.reason, x.resource_id, x.iam_principal, x.usage_type, x.model_id
),
ranked AS (
    SELECT
        row_number() OVER (
            ORDER BY s.cost DESC, s.source, s.reason, s.resource_id, s.principal, s.usage_type, s.model_id
        ) AS cost_rank,
        s.*
    FROM sources AS s
)
SELECT
    r.cost_rank,
    r.source,
    r.reason,
    r.resource_id,
    r.principal,
    r.usage_type,
    r.model_id,
    r.cost,
    r.request_count
FROM ranked AS r
CROSS JOIN params AS p
WHERE r.cost_rank <= p.row_limit
ORDER BY r.cost_rank
