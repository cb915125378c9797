-- Billed cost of one period that no request received: bill-line groups that cannot be allocated
-- (credits, non-usage lines, provisioned throughput, guardrails, ...) and allocatable groups whose cell
-- matched no request. Each keeps the tags of its lines. Parameter: billing period.
SELECT
    b.usage_start,
    b.usage_end,
    b.usage_account_id,
    b.region,
    b.line_item_type,
    b.product_code,
    b.usage_type,
    b.usage_family,
    b.model_id,
    b.token_class,
    b.tier,
    b.route,
    b.resource_id,
    b.iam_principal,
    b.team,
    b.feature,
    b.environment,
    b.cost_center,
    coalesce(b.reason, c.reason) AS reason,
    b.line_count,
    b.tokens,
    b.cost
FROM attribution_bill_lines AS b
LEFT JOIN attribution_cells AS c
    ON c.billing_period = b.billing_period
    AND b.reason IS NULL
    AND c.usage_start IS NOT DISTINCT FROM b.usage_start
    AND c.usage_end IS NOT DISTINCT FROM b.usage_end
    AND c.usage_account_id IS NOT DISTINCT FROM b.usage_account_id
    AND c.region IS NOT DISTINCT FROM b.region
    AND c.usage_type IS NOT DISTINCT FROM b.usage_type
    AND c.model_id IS NOT DISTINCT FROM b.model_id
    AND c.token_class IS NOT DISTINCT FROM b.token_class
    AND c.tier IS NOT DISTINCT FROM b.tier
    AND c.route IS NOT DISTINCT FROM b.route
    AND c.inference_profile_id IS NOT DISTINCT FROM b.inference_profile_id
    AND c.iam_principal IS NOT DISTINCT FROM b.iam_principal
WHERE b.billing_period = CAST(? AS VARCHAR)
    AND (b.reason IS NOT NULL OR c.reason IS NOT NULL)
