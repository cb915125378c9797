"""Generated lake for the attribution benchmark: one month of requests and the hourly bill lines they make."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from genai_finops.lake.local import LocalLake
from genai_finops.tables import COST_LINES, INVOCATIONS

PERIOD = "2026-01"
MODELS = (
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude3.5Sonnet", {"input": Decimal(3), "output": Decimal(15)}),
    ("anthropic.claude-3-haiku-20240307-v1:0", "Claude3Haiku", {"input": Decimal("0.25"), "output": Decimal("1.25")}),
)
# The bill's rate is 5% above list price, so estimates and billed cost differ as they do for real.
BILLED_OVER_LIST = Decimal("1.05")

BARE_JOIN_SQL = """
SELECT i.request_id, sum(c.cost_net * CASE c.token_class WHEN 'input' THEN i.input_tokens ELSE i.output_tokens END
                         / c.tokens) AS cost
FROM invocations AS i
JOIN cost_lines AS c
  ON c.usage_account_id = i.account_id AND c.region = i.region
 AND c.usage_start = date_trunc('hour', i.timestamp)
 AND c.model = CASE i.model WHEN 'anthropic.claude-3-5-sonnet-20240620-v1:0' THEN 'Claude3.5Sonnet'
                   ELSE 'Claude3Haiku' END
GROUP BY i.request_id
"""


def write_attribution_lake(lake_dir: Path, requests: int, seed: int) -> None:
    """Write ``requests`` invocations spread over January 2026 and the hourly bill lines they cost."""
    lake = LocalLake(lake_dir)
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 31 * 86400, requests))
    model_index = rng.integers(0, len(MODELS), requests)
    input_tokens = rng.integers(100, 5000, requests)
    output_tokens = rng.integers(10, 800, requests)
    timestamps = (np.datetime64("2026-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype("datetime64[us]")

    model_ids = np.array([model[0] for model in MODELS], dtype=object)
    teams = np.array(["search", "support", "sales", None], dtype=object)
    columns = {field.name: pa.nulls(requests, field.type) for field in INVOCATIONS.schema}
    columns.update(
        request_id=pa.array(np.char.add("req-", np.arange(requests).astype(str)).astype(object)),
        timestamp=pa.array(timestamps, pa.timestamp("us", tz="UTC")),
        account_id=pa.array(np.full(requests, "012345678901", dtype=object)),
        region=pa.array(np.full(requests, "us-east-1", dtype=object)),
        model=pa.array(model_ids[model_index]),
        model_id=pa.array(model_ids[model_index]),
        route=pa.array(np.full(requests, "in_region", dtype=object)),
        input_tokens=pa.array(input_tokens),
        output_tokens=pa.array(output_tokens),
        cache_read_tokens=pa.array(np.zeros(requests, dtype=np.int64)),
        cache_write_tokens=pa.array(np.zeros(requests, dtype=np.int64)),
        cache_write_1h_tokens=pa.array(np.zeros(requests, dtype=np.int64)),
        team=pa.array(teams[rng.integers(0, len(teams), requests)]),
        feature=pa.array(np.full(requests, "chat", dtype=object)),
        environment=pa.array(np.full(requests, "prod", dtype=object)),
        user_key=pa.array(np.char.add("u", rng.integers(0, 50_000, requests).astype(str)).astype(object)),
    )
    table = pa.table(columns, schema=INVOCATIONS.schema)
    days = seconds // 86400
    for day in np.unique(days):
        start, stop = np.searchsorted(days, [day, day + 1])
        lake.write_partition("invocations", {"date": f"2026-01-{day + 1:02d}"}, table.slice(start, stop - start))

    hours = seconds // 3600
    lines = []
    for index, (_, bill_name, rates) in enumerate(MODELS):
        selected = model_index == index
        for token_class, tokens in (("input", input_tokens), ("output", output_tokens)):
            per_hour = np.bincount(hours[selected], weights=tokens[selected], minlength=31 * 24).astype(np.int64)
            for hour in np.flatnonzero(per_hour):
                cost = (Decimal(int(per_hour[hour])) * rates[token_class] * BILLED_OVER_LIST / 1_000_000).quantize(
                    Decimal("1e-10")
                )
                lines.append((int(hour), bill_name, token_class, int(per_hour[hour]), cost))
    hour_numbers = np.array([hour for hour, *_ in lines], dtype=np.int64)
    usage_start = np.datetime64("2026-01-01T00:00:00", "us") + hour_numbers.astype("timedelta64[h]")
    bill = {field.name: pa.nulls(len(lines), field.type) for field in COST_LINES.schema}
    bill.update(
        usage_start=pa.array(usage_start, pa.timestamp("us", tz="UTC")),
        usage_end=pa.array(usage_start + np.timedelta64(1, "h"), pa.timestamp("us", tz="UTC")),
        usage_account_id=pa.array(["012345678901"] * len(lines)),
        line_item_type=pa.array(["Usage"] * len(lines)),
        product_code=pa.array(["AmazonBedrock"] * len(lines)),
        region=pa.array(["us-east-1"] * len(lines)),
        usage_type=pa.array([f"USE1-{name}-{token_class}-tokens" for _, name, token_class, _, _ in lines]),
        model=pa.array([name for _, name, _, _, _ in lines]),
        token_class=pa.array([token_class for _, _, token_class, _, _ in lines]),
        tokens=pa.array([float(tokens) for _, _, _, tokens, _ in lines]),
        tier=pa.array(["standard"] * len(lines)),
        route=pa.array(["in_region"] * len(lines)),
        usage_family=pa.array(["model-inference"] * len(lines)),
        cost_unblended=pa.array([cost for *_, cost in lines], COST_LINES.schema.field("cost_unblended").type),
        cost_net=pa.array([cost for *_, cost in lines], COST_LINES.schema.field("cost_net").type),
        cost_amortized=pa.array([cost for *_, cost in lines], COST_LINES.schema.field("cost_amortized").type),
        currency=pa.array(["USD"] * len(lines)),
    )
    for name in ("tags", "principal_tags", "account_tags"):
        bill[name] = pa.array([[]] * len(lines), COST_LINES.schema.field(name).type)
    bill_table = pa.table(bill, schema=COST_LINES.schema)
    lake.write_partition("cost_lines", {"billing_period": PERIOD, "export_id": "bench"}, bill_table)
