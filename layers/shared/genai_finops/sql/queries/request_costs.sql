-- Every invocation request of one billing period with its estimated cost, its share of the bill and
-- which of the two counts.
--
-- Allocation: attribution_group_costs has each usage group's share of the bill per token class.
-- Within a group, that share is split across the group's requests in proportion to their tokens of
-- the class, exactly, at the money quantum 1e-10. A request gets floor(units * weight / group weight)
-- quanta. The quanta left over, fewer than the group's requests with tokens of the class, go to the
-- group's first such request by request id. So request shares add up to the group share, and the
-- group shares to the bill. One aggregate finds the leftovers; no window or sort over requests is
-- needed, which is what keeps allocation fast on large months.
--
-- The integer quotient is exact in both engines. For each group and class, units = a * weight + b with
-- 0 <= b < weight, so floor(units * w / weight) = a * w + floor(b * w / weight). The second quotient is
-- below w, so its first estimate in double precision (DuckDB) or rounded decimal division (Athena) is
-- off by at most one, and one correction step on the exact decimal remainder makes it the true floor.
--
-- Most groups are split in 64-bit integers, which took about a quarter of the CPU of 38-digit
-- decimals in DuckDB. The integer path is exact while every product stays below 2^63. A group weight
-- of at most 3,037,000,499 tokens bounds b * w and the correction terms. A group share of at most 9e18
-- quanta bounds a * w and the sums. A group beyond either limit (over 3 billion tokens of one class
-- in one hour) takes the decimal path, and each CASE computes only the path of its own group.
--
-- Requests join their group on the group keys. The nullable keys are compared through
-- coalesce(key, '~none~'), a value no AWS identifier, model id or route contains, so that NULL
-- matches NULL in both engines with a plain equi-join.
--
-- Parameters: billing period, first partition date, end partition date (exclusive), period start,
-- period end (UTC, exclusive). The request bounds are placeholders in the WHERE clause itself, not
-- columns of the params CTE, so that DuckDB and Athena prune invocations partitions by date.
WITH params AS (
    SELECT
        CAST(? AS VARCHAR) AS billing_period
),
group_units AS (
    SELECT
        g.group_id,
        g.hour AT TIME ZONE 'UTC' AS hour,
        coalesce(g.account_id, '~none~') AS account_key,
        coalesce(g.region, '~none~') AS region_key,
        coalesce(g.model, '~none~') AS model_key,
        coalesce(g.inference_profile_id, '~none~') AS profile_key,
        coalesce(g.principal, '~none~') AS principal_key,
        coalesce(g.route, '~none~') AS route_key,
        g.model_id,
        g.bill_through,
        g.input_cells,
        CAST(g.input_price * 10000000000 AS BIGINT) / 1000000 AS input_price_high,
        CAST(g.input_price * 10000000000 AS BIGINT) % 1000000 AS input_price_low,
        CAST(g.input_tokens AS DECIMAL(38, 0)) AS input_weight,
        CASE WHEN g.input_cost < 0 THEN -1 ELSE 1 END AS input_sign,
        CAST(abs(g.input_cost) * 10000000000 AS DECIMAL(38, 0)) AS input_units,
        g.cache_read_cells,
        CAST(g.cache_read_price * 10000000000 AS BIGINT) / 1000000 AS cache_read_price_high,
        CAST(g.cache_read_price * 10000000000 AS BIGINT) % 1000000 AS cache_read_price_low,
        CAST(g.cache_read_tokens AS DECIMAL(38, 0)) AS cache_read_weight,
        CASE WHEN g.cache_read_cost < 0 THEN -1 ELSE 1 END AS cache_read_sign,
        CAST(abs(g.cache_read_cost) * 10000000000 AS DECIMAL(38, 0)) AS cache_read_units,
        g.cache_write_cells,
        CAST(g.cache_write_price * 10000000000 AS BIGINT) / 1000000 AS cache_write_price_high,
        CAST(g.cache_write_price * 10000000000 AS BIGINT) % 1000000 AS cache_write_price_low,
        CAST(g.cache_write_tokens AS DECIMAL(38, 0)) AS cache_write_weight,
        CASE WHEN g.cache_write_cost < 0 THEN -1 ELSE 1 END AS cache_write_sign,
        CAST(abs(g.cache_write_cost) * 10000000000 AS DECIMAL(38, 0)) AS cache_write_units,
        g.cache_write_1h_cells,
        CAST(g.cache_write_1h_price * 10000000000 AS BIGINT) / 1000000 AS cache_write_1h_price_high,
        CAST(g.cache_write_1h_price * 10000000000 AS BIGINT) % 1000000 AS cache_write_1h_price_low,
        CAST(g.cache_write_1h_tokens AS DECIMAL(38, 0)) AS cache_write_1h_weight,
        CASE WHEN g.cache_write_1h_cost < 0 THEN -1 ELSE 1 END AS cache_write_1h_sign,
        CAST(abs(g.cache_write_1h_cost) * 10000000000 AS DECIMAL(38, 0)) AS cache_write_1h_units,
        g.output_cells,
        CAST(g.output_price * 10000000000 AS BIGINT) / 1000000 AS output_price_high,
        CAST(g.output_price * 10000000000 AS BIGINT) % 1000000 AS output_price_low,
        CAST(g.output_tokens AS DECIMAL(38, 0)) AS output_weight,
        CASE WHEN g.output_cost < 0 THEN -1 ELSE 1 END AS output_sign,
        CAST(abs(g.output_cost) * 10000000000 AS DECIMAL(38, 0)) AS output_units
    FROM attribution_group_costs AS g
    CROSS JOIN params AS p
    WHERE g.billing_period = p.billing_period
),
group_first AS (
    SELECT
        u.*,
        CAST(
            floor(u.input_units / nullif(u.input_weight, 0)) AS DECIMAL(38, 0)
        ) AS input_a0,
        CAST(
            floor(u.cache_read_units / nullif(u.cache_read_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_read_a0,
        CAST(
            floor(u.cache_write_units / nullif(u.cache_write_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_write_a0,
        CAST(
            floor(u.cache_write_1h_units / nullif(u.cache_write_1h_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_write_1h_a0,
        CAST(
            floor(u.output_units / nullif(u.output_weight, 0)) AS DECIMAL(38, 0)
        ) AS output_a0
    FROM group_units AS u
),
group_second AS (
    SELECT
        q.*,
        q.input_a0 + CAST(
            floor((q.input_units - q.input_a0 * q.input_weight) / nullif(q.input_weight, 0)) AS DECIMAL(38, 0)
        ) AS input_a1,
        q.cache_read_a0 + CAST(
            floor((q.cache_read_units - q.cache_read_a0 * q.cache_read_weight) / nullif(q.cache_read_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_read_a1,
        q.cache_write_a0 + CAST(
            floor((q.cache_write_units - q.cache_write_a0 * q.cache_write_weight) / nullif(q.cache_write_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_write_a1,
        q.cache_write_1h_a0 + CAST(
            floor((q.cache_write_1h_units - q.cache_write_1h_a0 * q.cache_write_1h_weight) / nullif(q.cache_write_1h_weight, 0)) AS DECIMAL(38, 0)
        ) AS cache_write_1h_a1,
        q.output_a0 + CAST(
            floor((q.output_units - q.output_a0 * q.output_weight) / nullif(q.output_weight, 0)) AS DECIMAL(38, 0)
        ) AS output_a1
    FROM group_first AS q
),
group_exact AS (
    SELECT
        q.*,
        q.input_a1 + CASE
            WHEN q.input_units - q.input_a1 * q.input_weight < 0 THEN -1
            WHEN q.input_units - q.input_a1 * q.input_weight >= q.input_weight
                THEN 1
            ELSE 0
        END AS input_a,
        q.cache_read_a1 + CASE
            WHEN q.cache_read_units - q.cache_read_a1 * q.cache_read_weight < 0 THEN -1
            WHEN q.cache_read_units - q.cache_read_a1 * q.cache_read_weight >= q.cache_read_weight
                THEN 1
            ELSE 0
        END AS cache_read_a,
        q.cache_write_a1 + CASE
            WHEN q.cache_write_units - q.cache_write_a1 * q.cache_write_weight < 0 THEN -1
            WHEN q.cache_write_units - q.cache_write_a1 * q.cache_write_weight >= q.cache_write_weight
                THEN 1
            ELSE 0
        END AS cache_write_a,
        q.cache_write_1h_a1 + CASE
            WHEN q.cache_write_1h_units - q.cache_write_1h_a1 * q.cache_write_1h_weight < 0 THEN -1
            WHEN q.cache_write_1h_units - q.cache_write_1h_a1 * q.cache_write_1h_weight >= q.cache_write_1h_weight
                THEN 1
            ELSE 0
        END AS cache_write_1h_a,
        q.output_a1 + CASE
            WHEN q.output_units - q.output_a1 * q.output_weight < 0 THEN -1
            WHEN q.output_units - q.output_a1 * q.output_weight >= q.output_weight
                THEN 1
            ELSE 0
        END AS output_a
    FROM group_second AS q
),
groups_split AS (
    SELECT
        q.*,
        q.input_units - q.input_a * q.input_weight AS input_b,
        q.cache_read_units - q.cache_read_a * q.cache_read_weight AS cache_read_b,
        q.cache_write_units - q.cache_write_a * q.cache_write_weight AS cache_write_b,
        q.cache_write_1h_units - q.cache_write_1h_a * q.cache_write_1h_weight AS cache_write_1h_b,
        q.output_units - q.output_a * q.output_weight AS output_b
    FROM group_exact AS q
),
groups_typed AS (
    SELECT
        q.*,
        q.input_units IS NOT NULL AS input_has_cost,
        coalesce(q.input_units > 0, false) AS input_positive,
        coalesce(q.input_weight <= 3037000499 AND q.input_units <= 9000000000000000000, false) AS input_int,
        CASE WHEN q.input_weight <= 3037000499 AND q.input_units <= 9000000000000000000 THEN CAST(q.input_weight AS BIGINT) END AS input_weight_int,
        CASE WHEN q.input_weight <= 3037000499 AND q.input_units <= 9000000000000000000 THEN CAST(q.input_a AS BIGINT) END AS input_a_int,
        CASE WHEN q.input_weight <= 3037000499 AND q.input_units <= 9000000000000000000 THEN CAST(q.input_b AS BIGINT) END AS input_b_int,
        q.cache_read_units IS NOT NULL AS cache_read_has_cost,
        coalesce(q.cache_read_units > 0, false) AS cache_read_positive,
        coalesce(q.cache_read_weight <= 3037000499 AND q.cache_read_units <= 9000000000000000000, false) AS cache_read_int,
        CASE WHEN q.cache_read_weight <= 3037000499 AND q.cache_read_units <= 9000000000000000000 THEN CAST(q.cache_read_weight AS BIGINT) END AS cache_read_weight_int,
        CASE WHEN q.cache_read_weight <= 3037000499 AND q.cache_read_units <= 9000000000000000000 THEN CAST(q.cache_read_a AS BIGINT) END AS cache_read_a_int,
        CASE WHEN q.cache_read_weight <= 3037000499 AND q.cache_read_units <= 9000000000000000000 THEN CAST(q.cache_read_b AS BIGINT) END AS cache_read_b_int,
        q.cache_write_units IS NOT NULL AS cache_write_has_cost,
        coalesce(q.cache_write_units > 0, false) AS cache_write_positive,
        coalesce(q.cache_write_weight <= 3037000499 AND q.cache_write_units <= 9000000000000000000, false) AS cache_write_int,
        CASE WHEN q.cache_write_weight <= 3037000499 AND q.cache_write_units <= 9000000000000000000 THEN CAST(q.cache_write_weight AS BIGINT) END AS cache_write_weight_int,
        CASE WHEN q.cache_write_weight <= 3037000499 AND q.cache_write_units <= 9000000000000000000 THEN CAST(q.cache_write_a AS BIGINT) END AS cache_write_a_int,
        CASE WHEN q.cache_write_weight <= 3037000499 AND q.cache_write_units <= 9000000000000000000 THEN CAST(q.cache_write_b AS BIGINT) END AS cache_write_b_int,
        q.cache_write_1h_units IS NOT NULL AS cache_write_1h_has_cost,
        coalesce(q.cache_write_1h_units > 0, false) AS cache_write_1h_positive,
        coalesce(q.cache_write_1h_weight <= 3037000499 AND q.cache_write_1h_units <= 9000000000000000000, false) AS cache_write_1h_int,
        CASE WHEN q.cache_write_1h_weight <= 3037000499 AND q.cache_write_1h_units <= 9000000000000000000 THEN CAST(q.cache_write_1h_weight AS BIGINT) END AS cache_write_1h_weight_int,
        CASE WHEN q.cache_write_1h_weight <= 3037000499 AND q.cache_write_1h_units <= 9000000000000000000 THEN CAST(q.cache_write_1h_a AS BIGINT) END AS cache_write_1h_a_int,
        CASE WHEN q.cache_write_1h_weight <= 3037000499 AND q.cache_write_1h_units <= 9000000000000000000 THEN CAST(q.cache_write_1h_b AS BIGINT) END AS cache_write_1h_b_int,
        q.output_units IS NOT NULL AS output_has_cost,
        coalesce(q.output_units > 0, false) AS output_positive,
        coalesce(q.output_weight <= 3037000499 AND q.output_units <= 9000000000000000000, false) AS output_int,
        CASE WHEN q.output_weight <= 3037000499 AND q.output_units <= 9000000000000000000 THEN CAST(q.output_weight AS BIGINT) END AS output_weight_int,
        CASE WHEN q.output_weight <= 3037000499 AND q.output_units <= 9000000000000000000 THEN CAST(q.output_a AS BIGINT) END AS output_a_int,
        CASE WHEN q.output_weight <= 3037000499 AND q.output_units <= 9000000000000000000 THEN CAST(q.output_b AS BIGINT) END AS output_b_int
    FROM groups_split AS q
),
-- The leftovers need every floor of a group before any share is final, so a narrow pass over the
-- requests (keys and tokens only) sums the floors per group first. The wide pass below repeats the
-- floor expressions on purpose: one CTE for both passes would make DuckDB keep every wide row.
narrow AS (
    SELECT
        i.request_id,
        coalesce(i.input_tokens, 0) AS input_tokens,
        coalesce(i.cache_read_tokens, 0) AS cache_read_tokens,
        coalesce(i.cache_write_tokens, 0) AS cache_write_tokens,
        coalesce(i.cache_write_1h_tokens, 0) AS cache_write_1h_tokens,
        greatest(coalesce(i.cache_write_tokens, 0) - coalesce(i.cache_write_1h_tokens, 0), 0) AS cache_write_5m_tokens,
        coalesce(i.output_tokens, 0) AS output_tokens,
        g.*
    FROM invocations AS i
    JOIN groups_typed AS g
        ON g.hour = date_trunc('hour', i.timestamp AT TIME ZONE 'UTC')
        AND g.account_key = coalesce(i.account_id, '~none~')
        AND g.region_key = coalesce(i.region, '~none~')
        AND g.model_key = coalesce(i.model, '~none~')
        AND g.profile_key = coalesce(i.inference_profile_id, '~none~')
        AND g.principal_key = coalesce(i.principal, '~none~')
        AND g.route_key = coalesce(i.route, '~none~')
    WHERE i.date >= CAST(? AS VARCHAR)
        AND i.date < CAST(? AS VARCHAR)
        AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
        AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
),
narrow_floors_first AS (
    SELECT
        r.*,
        CASE
            WHEN r.input_tokens > 0 AND r.input_positive AND r.input_int
                THEN CAST(floor(CAST(r.input_b_int * r.input_tokens AS DOUBLE) / r.input_weight_int) AS BIGINT)
        END AS input_f0_int,
        CASE
            WHEN r.input_tokens > 0 AND r.input_positive AND NOT r.input_int
                THEN CAST(
                    floor(r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) / r.input_weight) AS DECIMAL(38, 0)
                )
        END AS input_f0,
        CASE
            WHEN r.cache_read_tokens > 0 AND r.cache_read_positive AND r.cache_read_int
                THEN CAST(floor(CAST(r.cache_read_b_int * r.cache_read_tokens AS DOUBLE) / r.cache_read_weight_int) AS BIGINT)
        END AS cache_read_f0_int,
        CASE
            WHEN r.cache_read_tokens > 0 AND r.cache_read_positive AND NOT r.cache_read_int
                THEN CAST(
                    floor(r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) / r.cache_read_weight) AS DECIMAL(38, 0)
                )
        END AS cache_read_f0,
        CASE
            WHEN r.cache_write_5m_tokens > 0 AND r.cache_write_positive AND r.cache_write_int
                THEN CAST(floor(CAST(r.cache_write_b_int * r.cache_write_5m_tokens AS DOUBLE) / r.cache_write_weight_int) AS BIGINT)
        END AS cache_write_f0_int,
        CASE
            WHEN r.cache_write_5m_tokens > 0 AND r.cache_write_positive AND NOT r.cache_write_int
                THEN CAST(
                    floor(r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) / r.cache_write_weight) AS DECIMAL(38, 0)
                )
        END AS cache_write_f0,
        CASE
            WHEN r.cache_write_1h_tokens > 0 AND r.cache_write_1h_positive AND r.cache_write_1h_int
                THEN CAST(floor(CAST(r.cache_write_1h_b_int * r.cache_write_1h_tokens AS DOUBLE) / r.cache_write_1h_weight_int) AS BIGINT)
        END AS cache_write_1h_f0_int,
        CASE
            WHEN r.cache_write_1h_tokens > 0 AND r.cache_write_1h_positive AND NOT r.cache_write_1h_int
                THEN CAST(
                    floor(r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) / r.cache_write_1h_weight) AS DECIMAL(38, 0)
                )
        END AS cache_write_1h_f0,
        CASE
            WHEN r.output_tokens > 0 AND r.output_positive AND r.output_int
                THEN CAST(floor(CAST(r.output_b_int * r.output_tokens AS DOUBLE) / r.output_weight_int) AS BIGINT)
        END AS output_f0_int,
        CASE
            WHEN r.output_tokens > 0 AND r.output_positive AND NOT r.output_int
                THEN CAST(
                    floor(r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) / r.output_weight) AS DECIMAL(38, 0)
                )
        END AS output_f0
    FROM narrow AS r
),
narrow_floors AS (
    SELECT
        r.*,
        r.input_a_int * r.input_tokens + r.input_f0_int + CASE
            WHEN r.input_b_int * r.input_tokens - r.input_f0_int * r.input_weight_int < 0 THEN -1
            WHEN r.input_b_int * r.input_tokens - r.input_f0_int * r.input_weight_int >= r.input_weight_int THEN 1
            ELSE 0
        END AS input_floor_int,
        CASE
            WHEN r.input_f0 IS NOT NULL THEN r.input_a * CAST(r.input_tokens AS DECIMAL(38, 0)) + r.input_f0 + CASE
                WHEN r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) - r.input_f0 * r.input_weight < 0 THEN -1
                WHEN r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) - r.input_f0 * r.input_weight >= r.input_weight
                    THEN 1
                ELSE 0
            END
        END AS input_floor,
        r.cache_read_a_int * r.cache_read_tokens + r.cache_read_f0_int + CASE
            WHEN r.cache_read_b_int * r.cache_read_tokens - r.cache_read_f0_int * r.cache_read_weight_int < 0 THEN -1
            WHEN r.cache_read_b_int * r.cache_read_tokens - r.cache_read_f0_int * r.cache_read_weight_int >= r.cache_read_weight_int THEN 1
            ELSE 0
        END AS cache_read_floor_int,
        CASE
            WHEN r.cache_read_f0 IS NOT NULL THEN r.cache_read_a * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) + r.cache_read_f0 + CASE
                WHEN r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) - r.cache_read_f0 * r.cache_read_weight < 0 THEN -1
                WHEN r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) - r.cache_read_f0 * r.cache_read_weight >= r.cache_read_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_read_floor,
        r.cache_write_a_int * r.cache_write_5m_tokens + r.cache_write_f0_int + CASE
            WHEN r.cache_write_b_int * r.cache_write_5m_tokens - r.cache_write_f0_int * r.cache_write_weight_int < 0 THEN -1
            WHEN r.cache_write_b_int * r.cache_write_5m_tokens - r.cache_write_f0_int * r.cache_write_weight_int >= r.cache_write_weight_int THEN 1
            ELSE 0
        END AS cache_write_floor_int,
        CASE
            WHEN r.cache_write_f0 IS NOT NULL THEN r.cache_write_a * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) + r.cache_write_f0 + CASE
                WHEN r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) - r.cache_write_f0 * r.cache_write_weight < 0 THEN -1
                WHEN r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) - r.cache_write_f0 * r.cache_write_weight >= r.cache_write_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_write_floor,
        r.cache_write_1h_a_int * r.cache_write_1h_tokens + r.cache_write_1h_f0_int + CASE
            WHEN r.cache_write_1h_b_int * r.cache_write_1h_tokens - r.cache_write_1h_f0_int * r.cache_write_1h_weight_int < 0 THEN -1
            WHEN r.cache_write_1h_b_int * r.cache_write_1h_tokens - r.cache_write_1h_f0_int * r.cache_write_1h_weight_int >= r.cache_write_1h_weight_int THEN 1
            ELSE 0
        END AS cache_write_1h_floor_int,
        CASE
            WHEN r.cache_write_1h_f0 IS NOT NULL THEN r.cache_write_1h_a * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) + r.cache_write_1h_f0 + CASE
                WHEN r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) - r.cache_write_1h_f0 * r.cache_write_1h_weight < 0 THEN -1
                WHEN r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) - r.cache_write_1h_f0 * r.cache_write_1h_weight >= r.cache_write_1h_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_write_1h_floor,
        r.output_a_int * r.output_tokens + r.output_f0_int + CASE
            WHEN r.output_b_int * r.output_tokens - r.output_f0_int * r.output_weight_int < 0 THEN -1
            WHEN r.output_b_int * r.output_tokens - r.output_f0_int * r.output_weight_int >= r.output_weight_int THEN 1
            ELSE 0
        END AS output_floor_int,
        CASE
            WHEN r.output_f0 IS NOT NULL THEN r.output_a * CAST(r.output_tokens AS DECIMAL(38, 0)) + r.output_f0 + CASE
                WHEN r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) - r.output_f0 * r.output_weight < 0 THEN -1
                WHEN r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) - r.output_f0 * r.output_weight >= r.output_weight
                    THEN 1
                ELSE 0
            END
        END AS output_floor
    FROM narrow_floors_first AS r
),
leftovers AS (
    SELECT
        group_id,
        sum(input_floor) AS input_floor_sum,
        sum(input_floor_int) AS input_floor_int_sum,
        min(CASE WHEN input_tokens > 0 THEN request_id END) AS input_first,
        sum(cache_read_floor) AS cache_read_floor_sum,
        sum(cache_read_floor_int) AS cache_read_floor_int_sum,
        min(CASE WHEN cache_read_tokens > 0 THEN request_id END) AS cache_read_first,
        sum(cache_write_floor) AS cache_write_floor_sum,
        sum(cache_write_floor_int) AS cache_write_floor_int_sum,
        min(CASE WHEN cache_write_5m_tokens > 0 THEN request_id END) AS cache_write_first,
        sum(cache_write_1h_floor) AS cache_write_1h_floor_sum,
        sum(cache_write_1h_floor_int) AS cache_write_1h_floor_int_sum,
        min(CASE WHEN cache_write_1h_tokens > 0 THEN request_id END) AS cache_write_1h_first,
        sum(output_floor) AS output_floor_sum,
        sum(output_floor_int) AS output_floor_int_sum,
        min(CASE WHEN output_tokens > 0 THEN request_id END) AS output_first
    FROM narrow_floors
    GROUP BY group_id
),
groups_final AS (
    SELECT
        g.*,
        g.input_units - coalesce(l.input_floor_sum, 0) - coalesce(l.input_floor_int_sum, 0) AS input_leftover,
        CASE
            WHEN g.input_int THEN CAST(g.input_units - coalesce(l.input_floor_sum, 0) - coalesce(l.input_floor_int_sum, 0) AS BIGINT)
        END AS input_leftover_int,
        l.input_first,
        g.cache_read_units - coalesce(l.cache_read_floor_sum, 0) - coalesce(l.cache_read_floor_int_sum, 0) AS cache_read_leftover,
        CASE
            WHEN g.cache_read_int THEN CAST(g.cache_read_units - coalesce(l.cache_read_floor_sum, 0) - coalesce(l.cache_read_floor_int_sum, 0) AS BIGINT)
        END AS cache_read_leftover_int,
        l.cache_read_first,
        g.cache_write_units - coalesce(l.cache_write_floor_sum, 0) - coalesce(l.cache_write_floor_int_sum, 0) AS cache_write_leftover,
        CASE
            WHEN g.cache_write_int THEN CAST(g.cache_write_units - coalesce(l.cache_write_floor_sum, 0) - coalesce(l.cache_write_floor_int_sum, 0) AS BIGINT)
        END AS cache_write_leftover_int,
        l.cache_write_first,
        g.cache_write_1h_units - coalesce(l.cache_write_1h_floor_sum, 0) - coalesce(l.cache_write_1h_floor_int_sum, 0) AS cache_write_1h_leftover,
        CASE
            WHEN g.cache_write_1h_int THEN CAST(g.cache_write_1h_units - coalesce(l.cache_write_1h_floor_sum, 0) - coalesce(l.cache_write_1h_floor_int_sum, 0) AS BIGINT)
        END AS cache_write_1h_leftover_int,
        l.cache_write_1h_first,
        g.output_units - coalesce(l.output_floor_sum, 0) - coalesce(l.output_floor_int_sum, 0) AS output_leftover,
        CASE
            WHEN g.output_int THEN CAST(g.output_units - coalesce(l.output_floor_sum, 0) - coalesce(l.output_floor_int_sum, 0) AS BIGINT)
        END AS output_leftover_int,
        l.output_first
    FROM groups_typed AS g
    LEFT JOIN leftovers AS l ON l.group_id = g.group_id
),
logged AS (
    SELECT
        i.request_id,
        i.timestamp,
        i.timestamp AT TIME ZONE 'UTC' AS utc_time,
        i.account_id,
        i.region,
        i.model,
        coalesce(g.model_id, i.model) AS model_id,
        i.inference_profile_id,
        i.route,
        i.principal,
        i.iam_role,
        i.team,
        i.feature,
        i.environment,
        i.tenant,
        i.user_key,
        coalesce(i.input_tokens, 0) AS input_tokens,
        coalesce(i.cache_read_tokens, 0) AS cache_read_tokens,
        coalesce(i.cache_write_tokens, 0) AS cache_write_tokens,
        coalesce(i.cache_write_1h_tokens, 0) AS cache_write_1h_tokens,
        greatest(coalesce(i.cache_write_tokens, 0) - coalesce(i.cache_write_1h_tokens, 0), 0) AS cache_write_5m_tokens,
        coalesce(i.output_tokens, 0) AS output_tokens,
        g.group_id,
        g.bill_through,
        g.input_cells, g.input_price_high, g.input_price_low, g.input_sign, g.input_has_cost, g.input_positive, g.input_first,
        g.input_int, g.input_weight_int, g.input_a_int, g.input_b_int, g.input_leftover_int,
        g.input_weight, g.input_a, g.input_b, g.input_leftover,
        g.cache_read_cells, g.cache_read_price_high, g.cache_read_price_low, g.cache_read_sign, g.cache_read_has_cost, g.cache_read_positive, g.cache_read_first,
        g.cache_read_int, g.cache_read_weight_int, g.cache_read_a_int, g.cache_read_b_int, g.cache_read_leftover_int,
        g.cache_read_weight, g.cache_read_a, g.cache_read_b, g.cache_read_leftover,
        g.cache_write_cells, g.cache_write_price_high, g.cache_write_price_low, g.cache_write_sign, g.cache_write_has_cost, g.cache_write_positive, g.cache_write_first,
        g.cache_write_int, g.cache_write_weight_int, g.cache_write_a_int, g.cache_write_b_int, g.cache_write_leftover_int,
        g.cache_write_weight, g.cache_write_a, g.cache_write_b, g.cache_write_leftover,
        g.cache_write_1h_cells, g.cache_write_1h_price_high, g.cache_write_1h_price_low, g.cache_write_1h_sign, g.cache_write_1h_has_cost, g.cache_write_1h_positive, g.cache_write_1h_first,
        g.cache_write_1h_int, g.cache_write_1h_weight_int, g.cache_write_1h_a_int, g.cache_write_1h_b_int, g.cache_write_1h_leftover_int,
        g.cache_write_1h_weight, g.cache_write_1h_a, g.cache_write_1h_b, g.cache_write_1h_leftover,
        g.output_cells, g.output_price_high, g.output_price_low, g.output_sign, g.output_has_cost, g.output_positive, g.output_first,
        g.output_int, g.output_weight_int, g.output_a_int, g.output_b_int, g.output_leftover_int,
        g.output_weight, g.output_a, g.output_b, g.output_leftover
    FROM invocations AS i
    LEFT JOIN groups_final AS g
        ON g.hour = date_trunc('hour', i.timestamp AT TIME ZONE 'UTC')
        AND g.account_key = coalesce(i.account_id, '~none~')
        AND g.region_key = coalesce(i.region, '~none~')
        AND g.model_key = coalesce(i.model, '~none~')
        AND g.profile_key = coalesce(i.inference_profile_id, '~none~')
        AND g.principal_key = coalesce(i.principal, '~none~')
        AND g.route_key = coalesce(i.route, '~none~')
    WHERE i.date >= CAST(? AS VARCHAR)
        AND i.date < CAST(? AS VARCHAR)
        AND i.timestamp AT TIME ZONE 'UTC' >= CAST(? AS TIMESTAMP)
        AND i.timestamp AT TIME ZONE 'UTC' < CAST(? AS TIMESTAMP)
),
floors_first AS (
    SELECT
        r.*,
        CASE
            WHEN r.input_tokens > 0 AND r.input_positive AND r.input_int
                THEN CAST(floor(CAST(r.input_b_int * r.input_tokens AS DOUBLE) / r.input_weight_int) AS BIGINT)
        END AS input_f0_int,
        CASE
            WHEN r.input_tokens > 0 AND r.input_positive AND NOT r.input_int
                THEN CAST(
                    floor(r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) / r.input_weight) AS DECIMAL(38, 0)
                )
        END AS input_f0,
        CASE
            WHEN r.cache_read_tokens > 0 AND r.cache_read_positive AND r.cache_read_int
                THEN CAST(floor(CAST(r.cache_read_b_int * r.cache_read_tokens AS DOUBLE) / r.cache_read_weight_int) AS BIGINT)
        END AS cache_read_f0_int,
        CASE
            WHEN r.cache_read_tokens > 0 AND r.cache_read_positive AND NOT r.cache_read_int
                THEN CAST(
                    floor(r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) / r.cache_read_weight) AS DECIMAL(38, 0)
                )
        END AS cache_read_f0,
        CASE
            WHEN r.cache_write_5m_tokens > 0 AND r.cache_write_positive AND r.cache_write_int
                THEN CAST(floor(CAST(r.cache_write_b_int * r.cache_write_5m_tokens AS DOUBLE) / r.cache_write_weight_int) AS BIGINT)
        END AS cache_write_f0_int,
        CASE
            WHEN r.cache_write_5m_tokens > 0 AND r.cache_write_positive AND NOT r.cache_write_int
                THEN CAST(
                    floor(r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) / r.cache_write_weight) AS DECIMAL(38, 0)
                )
        END AS cache_write_f0,
        CASE
            WHEN r.cache_write_1h_tokens > 0 AND r.cache_write_1h_positive AND r.cache_write_1h_int
                THEN CAST(floor(CAST(r.cache_write_1h_b_int * r.cache_write_1h_tokens AS DOUBLE) / r.cache_write_1h_weight_int) AS BIGINT)
        END AS cache_write_1h_f0_int,
        CASE
            WHEN r.cache_write_1h_tokens > 0 AND r.cache_write_1h_positive AND NOT r.cache_write_1h_int
                THEN CAST(
                    floor(r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) / r.cache_write_1h_weight) AS DECIMAL(38, 0)
                )
        END AS cache_write_1h_f0,
        CASE
            WHEN r.output_tokens > 0 AND r.output_positive AND r.output_int
                THEN CAST(floor(CAST(r.output_b_int * r.output_tokens AS DOUBLE) / r.output_weight_int) AS BIGINT)
        END AS output_f0_int,
        CASE
            WHEN r.output_tokens > 0 AND r.output_positive AND NOT r.output_int
                THEN CAST(
                    floor(r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) / r.output_weight) AS DECIMAL(38, 0)
                )
        END AS output_f0
    FROM logged AS r
),
floors AS (
    SELECT
        r.*,
        r.input_a_int * r.input_tokens + r.input_f0_int + CASE
            WHEN r.input_b_int * r.input_tokens - r.input_f0_int * r.input_weight_int < 0 THEN -1
            WHEN r.input_b_int * r.input_tokens - r.input_f0_int * r.input_weight_int >= r.input_weight_int THEN 1
            ELSE 0
        END AS input_floor_int,
        CASE
            WHEN r.input_f0 IS NOT NULL THEN r.input_a * CAST(r.input_tokens AS DECIMAL(38, 0)) + r.input_f0 + CASE
                WHEN r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) - r.input_f0 * r.input_weight < 0 THEN -1
                WHEN r.input_b * CAST(r.input_tokens AS DECIMAL(38, 0)) - r.input_f0 * r.input_weight >= r.input_weight
                    THEN 1
                ELSE 0
            END
        END AS input_floor,
        r.cache_read_a_int * r.cache_read_tokens + r.cache_read_f0_int + CASE
            WHEN r.cache_read_b_int * r.cache_read_tokens - r.cache_read_f0_int * r.cache_read_weight_int < 0 THEN -1
            WHEN r.cache_read_b_int * r.cache_read_tokens - r.cache_read_f0_int * r.cache_read_weight_int >= r.cache_read_weight_int THEN 1
            ELSE 0
        END AS cache_read_floor_int,
        CASE
            WHEN r.cache_read_f0 IS NOT NULL THEN r.cache_read_a * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) + r.cache_read_f0 + CASE
                WHEN r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) - r.cache_read_f0 * r.cache_read_weight < 0 THEN -1
                WHEN r.cache_read_b * CAST(r.cache_read_tokens AS DECIMAL(38, 0)) - r.cache_read_f0 * r.cache_read_weight >= r.cache_read_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_read_floor,
        r.cache_write_a_int * r.cache_write_5m_tokens + r.cache_write_f0_int + CASE
            WHEN r.cache_write_b_int * r.cache_write_5m_tokens - r.cache_write_f0_int * r.cache_write_weight_int < 0 THEN -1
            WHEN r.cache_write_b_int * r.cache_write_5m_tokens - r.cache_write_f0_int * r.cache_write_weight_int >= r.cache_write_weight_int THEN 1
            ELSE 0
        END AS cache_write_floor_int,
        CASE
            WHEN r.cache_write_f0 IS NOT NULL THEN r.cache_write_a * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) + r.cache_write_f0 + CASE
                WHEN r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) - r.cache_write_f0 * r.cache_write_weight < 0 THEN -1
                WHEN r.cache_write_b * CAST(r.cache_write_5m_tokens AS DECIMAL(38, 0)) - r.cache_write_f0 * r.cache_write_weight >= r.cache_write_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_write_floor,
        r.cache_write_1h_a_int * r.cache_write_1h_tokens + r.cache_write_1h_f0_int + CASE
            WHEN r.cache_write_1h_b_int * r.cache_write_1h_tokens - r.cache_write_1h_f0_int * r.cache_write_1h_weight_int < 0 THEN -1
            WHEN r.cache_write_1h_b_int * r.cache_write_1h_tokens - r.cache_write_1h_f0_int * r.cache_write_1h_weight_int >= r.cache_write_1h_weight_int THEN 1
            ELSE 0
        END AS cache_write_1h_floor_int,
        CASE
            WHEN r.cache_write_1h_f0 IS NOT NULL THEN r.cache_write_1h_a * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) + r.cache_write_1h_f0 + CASE
                WHEN r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) - r.cache_write_1h_f0 * r.cache_write_1h_weight < 0 THEN -1
                WHEN r.cache_write_1h_b * CAST(r.cache_write_1h_tokens AS DECIMAL(38, 0)) - r.cache_write_1h_f0 * r.cache_write_1h_weight >= r.cache_write_1h_weight
                    THEN 1
                ELSE 0
            END
        END AS cache_write_1h_floor,
        r.output_a_int * r.output_tokens + r.output_f0_int + CASE
            WHEN r.output_b_int * r.output_tokens - r.output_f0_int * r.output_weight_int < 0 THEN -1
            WHEN r.output_b_int * r.output_tokens - r.output_f0_int * r.output_weight_int >= r.output_weight_int THEN 1
            ELSE 0
        END AS output_floor_int,
        CASE
            WHEN r.output_f0 IS NOT NULL THEN r.output_a * CAST(r.output_tokens AS DECIMAL(38, 0)) + r.output_f0 + CASE
                WHEN r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) - r.output_f0 * r.output_weight < 0 THEN -1
                WHEN r.output_b * CAST(r.output_tokens AS DECIMAL(38, 0)) - r.output_f0 * r.output_weight >= r.output_weight
                    THEN 1
                ELSE 0
            END
        END AS output_floor
    FROM floors_first AS r
),
shared AS (
    SELECT
        r.*,
        CASE
            WHEN r.input_tokens = 0 OR NOT r.input_has_cost THEN CAST(0 AS DECIMAL(38, 10))
            WHEN r.input_int THEN CAST(
                CAST(
                    r.input_sign * (coalesce(r.input_floor_int, 0) + CASE WHEN r.request_id = r.input_first THEN r.input_leftover_int ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
            ELSE CAST(
                CAST(
                    r.input_sign * (coalesce(r.input_floor, 0) + CASE WHEN r.request_id = r.input_first THEN r.input_leftover ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
        END AS input_share,
        CASE
            WHEN r.cache_read_tokens = 0 OR NOT r.cache_read_has_cost THEN CAST(0 AS DECIMAL(38, 10))
            WHEN r.cache_read_int THEN CAST(
                CAST(
                    r.cache_read_sign * (coalesce(r.cache_read_floor_int, 0) + CASE WHEN r.request_id = r.cache_read_first THEN r.cache_read_leftover_int ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
            ELSE CAST(
                CAST(
                    r.cache_read_sign * (coalesce(r.cache_read_floor, 0) + CASE WHEN r.request_id = r.cache_read_first THEN r.cache_read_leftover ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
        END AS cache_read_share,
        CASE
            WHEN r.cache_write_5m_tokens = 0 OR NOT r.cache_write_has_cost THEN CAST(0 AS DECIMAL(38, 10))
            WHEN r.cache_write_int THEN CAST(
                CAST(
                    r.cache_write_sign * (coalesce(r.cache_write_floor_int, 0) + CASE WHEN r.request_id = r.cache_write_first THEN r.cache_write_leftover_int ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
            ELSE CAST(
                CAST(
                    r.cache_write_sign * (coalesce(r.cache_write_floor, 0) + CASE WHEN r.request_id = r.cache_write_first THEN r.cache_write_leftover ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
        END AS cache_write_share,
        CASE
            WHEN r.cache_write_1h_tokens = 0 OR NOT r.cache_write_1h_has_cost THEN CAST(0 AS DECIMAL(38, 10))
            WHEN r.cache_write_1h_int THEN CAST(
                CAST(
                    r.cache_write_1h_sign * (coalesce(r.cache_write_1h_floor_int, 0) + CASE WHEN r.request_id = r.cache_write_1h_first THEN r.cache_write_1h_leftover_int ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
            ELSE CAST(
                CAST(
                    r.cache_write_1h_sign * (coalesce(r.cache_write_1h_floor, 0) + CASE WHEN r.request_id = r.cache_write_1h_first THEN r.cache_write_1h_leftover ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
        END AS cache_write_1h_share,
        CASE
            WHEN r.output_tokens = 0 OR NOT r.output_has_cost THEN CAST(0 AS DECIMAL(38, 10))
            WHEN r.output_int THEN CAST(
                CAST(
                    r.output_sign * (coalesce(r.output_floor_int, 0) + CASE WHEN r.request_id = r.output_first THEN r.output_leftover_int ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
            ELSE CAST(
                CAST(
                    r.output_sign * (coalesce(r.output_floor, 0) + CASE WHEN r.request_id = r.output_first THEN r.output_leftover ELSE 0 END)
                    AS DECIMAL(38, 0)
                ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
            )
        END AS output_share,
        CASE
            WHEN r.input_tokens = 0 THEN CAST(0 AS BIGINT)
            ELSE CAST(r.input_tokens AS BIGINT) * CAST(r.input_price_high AS BIGINT)
                + (CAST(r.input_tokens AS BIGINT) * CAST(r.input_price_low AS BIGINT) + 500000) / 1000000
        END AS estimated_input_quanta,
        CASE
            WHEN r.cache_read_tokens = 0 THEN CAST(0 AS BIGINT)
            ELSE CAST(r.cache_read_tokens AS BIGINT) * CAST(r.cache_read_price_high AS BIGINT)
                + (CAST(r.cache_read_tokens AS BIGINT) * CAST(r.cache_read_price_low AS BIGINT) + 500000) / 1000000
        END AS estimated_cache_read_quanta,
        CASE
            WHEN r.cache_write_5m_tokens = 0 THEN CAST(0 AS BIGINT)
            ELSE CAST(r.cache_write_5m_tokens AS BIGINT) * CAST(r.cache_write_price_high AS BIGINT)
                + (CAST(r.cache_write_5m_tokens AS BIGINT) * CAST(r.cache_write_price_low AS BIGINT) + 500000) / 1000000
        END
        + CASE
            WHEN r.cache_write_1h_tokens = 0 THEN CAST(0 AS BIGINT)
            ELSE CAST(r.cache_write_1h_tokens AS BIGINT) * CAST(r.cache_write_1h_price_high AS BIGINT)
                + (CAST(r.cache_write_1h_tokens AS BIGINT) * CAST(r.cache_write_1h_price_low AS BIGINT) + 500000) / 1000000
        END AS estimated_cache_write_quanta,
        CASE
            WHEN r.output_tokens = 0 THEN CAST(0 AS BIGINT)
            ELSE CAST(r.output_tokens AS BIGINT) * CAST(r.output_price_high AS BIGINT)
                + (CAST(r.output_tokens AS BIGINT) * CAST(r.output_price_low AS BIGINT) + 500000) / 1000000
        END AS estimated_output_quanta,
        CASE WHEN r.input_tokens > 0 THEN coalesce(r.input_cells, 0) ELSE 0 END + CASE WHEN r.cache_read_tokens > 0 THEN coalesce(r.cache_read_cells, 0) ELSE 0 END + CASE WHEN r.cache_write_5m_tokens > 0 THEN coalesce(r.cache_write_cells, 0) ELSE 0 END + CASE WHEN r.cache_write_1h_tokens > 0 THEN coalesce(r.cache_write_1h_cells, 0) ELSE 0 END + CASE WHEN r.output_tokens > 0 THEN coalesce(r.output_cells, 0) ELSE 0 END AS matched_cells
    FROM floors AS r
),
stated AS (
    SELECT
        r.*,
        CAST(CAST(r.estimated_input_quanta AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)) AS estimated_input_cost,
        CAST(CAST(r.estimated_cache_read_quanta AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)) AS estimated_cache_read_cost,
        CAST(CAST(r.estimated_cache_write_quanta AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)) AS estimated_cache_write_cost,
        CAST(CAST(r.estimated_output_quanta AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)) AS estimated_output_cost,
        CAST(
            CAST(
                r.estimated_input_quanta + r.estimated_cache_read_quanta + r.estimated_cache_write_quanta
                + r.estimated_output_quanta AS DECIMAL(38, 0)
            ) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS DECIMAL(38, 10)
        ) AS estimated_cost,
        -- A request with a share of the bill is billed even when the bill has no cell of its own model,
        -- which happens when a profile cell is matched by the profile.
        CASE WHEN r.matched_cells > 0 OR r.utc_time < r.bill_through THEN 'billed' ELSE 'estimated' END AS state,
        CAST(
            r.input_share + r.cache_read_share + r.cache_write_share + r.cache_write_1h_share + r.output_share
            AS DECIMAL(38, 10)
        ) AS billed_cost
    FROM shared AS r
)
SELECT
    request_id,
    timestamp,
    date_trunc('hour', utc_time) AS hour,
    CAST(utc_time AS DATE) AS day,
    account_id,
    region,
    model,
    model_id,
    inference_profile_id,
    route,
    principal,
    iam_role,
    team,
    feature,
    environment,
    tenant,
    user_key,
    input_tokens,
    cache_read_tokens,
    cache_write_tokens,
    cache_write_1h_tokens,
    output_tokens,
    estimated_cost,
    billed_cost,
    CASE WHEN state = 'billed' THEN billed_cost ELSE estimated_cost END AS cost,
    CASE WHEN state = 'billed' THEN input_share ELSE estimated_input_cost END AS input_cost,
    CASE WHEN state = 'billed' THEN cache_read_share ELSE estimated_cache_read_cost END AS cache_read_cost,
    CASE
        WHEN state = 'billed' THEN CAST(cache_write_share + cache_write_1h_share AS DECIMAL(38, 10))
        ELSE estimated_cache_write_cost
    END AS cache_write_cost,
    CASE WHEN state = 'billed' THEN output_share ELSE estimated_output_cost END AS output_cost,
    state,
    estimated_cost IS NOT NULL AS priced,
    matched_cells
FROM stated
