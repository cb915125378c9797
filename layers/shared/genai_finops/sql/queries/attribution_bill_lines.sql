-- Cost lines of one billing period grouped by every key attribution uses, each group with the reason
-- it cannot be allocated to requests (NULL when it is token usage that requests can share).
-- Parameters: cost column (cost_unblended, cost_net or cost_amortized), billing period 'YYYY-MM',
-- Bedrock product codes (comma-separated, because Athena execution parameters are scalar literals),
-- Marketplace product-name suffix.
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS cost_column,
        CAST(? AS VARCHAR) AS billing_period,
        split(CAST(? AS VARCHAR), ',') AS bedrock_product_codes,
        CAST(? AS VARCHAR) AS marketplace_suffix
),
lines AS (
    SELECT
        l.*,
        CASE p.cost_column
            WHEN 'cost_unblended' THEN l.cost_unblended
            WHEN 'cost_amortized' THEN l.cost_amortized
            -- Exports without net columns carry no discounts, so their unblended cost is the net cost.
            ELSE coalesce(l.cost_net, l.cost_unblended)
        END AS cost,
        lower(coalesce(l.usage_type, '')) AS usage_type_lower,
        coalesce(l.usage_family, '') AS family,
        coalesce(l.tier, 'standard') AS tier_or_standard,
        contains(p.bedrock_product_codes, l.product_code)
            OR coalesce(l.product_name, '') LIKE '%' || p.marketplace_suffix AS is_bedrock,
        a.model_id,
        -- Invocation logs carry a system (geographic or global) profile as its id, us.anthropic...,
        -- while the bill carries its ARN; application profiles are ARNs on both sides.
        CASE
            WHEN l.inference_profile_id LIKE 'arn:%:inference-profile/%'
                THEN split_part(l.inference_profile_id, ':inference-profile/', 2)
            ELSE l.inference_profile_id
        END AS matched_profile_id
    FROM cost_lines AS l
    CROSS JOIN params AS p
    LEFT JOIN model_aliases AS a
        ON a.billing_period = p.billing_period AND a.name = l.model
    WHERE l.billing_period = p.billing_period
),
classified AS (
    SELECT
        lines.*,
        CASE
            WHEN line_item_type IN ('Credit', 'Refund') THEN 'credit'
            WHEN coalesce(line_item_type, '') NOT IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
                THEN 'non_usage_line'
            WHEN NOT is_bedrock THEN 'genai_adjacent'
            WHEN family IN ('provisioned', 'reserved-throughput')
                OR tier_or_standard LIKE 'provisioned%'
                OR tier_or_standard = 'reserved' THEN 'provisioned_throughput'
            WHEN family = 'guardrail' OR usage_type_lower LIKE '%guardrail%' THEN 'guardrails'
            WHEN family = 'knowledge-base' OR usage_type_lower LIKE '%knowledge%' THEN 'knowledge_bases'
            WHEN usage_type_lower LIKE '%mantle%' THEN 'mantle'
            -- NOTE: batch jobs are assumed not to write model invocation log records, so batch cost has
            -- no requests to go to. If they do, this rule keeps their cost as remainder all the same.
            WHEN tier_or_standard = 'batch' THEN 'batch_inference'
            WHEN token_class IS NULL OR tokens IS NULL THEN 'non_token_usage'
            WHEN model_id IS NULL THEN 'unrecognised_model'
        END AS reason
    FROM lines
)
SELECT
    usage_start,
    usage_end,
    usage_account_id,
    region,
    line_item_type,
    product_code,
    usage_type,
    usage_family,
    model,
    model_id,
    token_class,
    tier,
    route,
    matched_profile_id AS inference_profile_id,
    resource_id,
    iam_principal,
    team,
    feature,
    environment,
    cost_center,
    reason,
    count(*) AS line_count,
    sum(tokens) AS tokens,
    CAST(sum(cost) AS DECIMAL(38, 10)) AS cost
FROM classified
GROUP BY
    usage_start, usage_end, usage_account_id, region, line_item_type, product_code, usage_type, usage_family,
    model, model_id, token_class, tier, route, matched_profile_id, resource_id, iam_principal, team, feature,
    environment, cost_center, reason
