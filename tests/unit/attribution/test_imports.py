"""Attribution builds its small tables without pyarrow's Python conversion, which imports pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from genai_finops.lake.local import LocalLake

from .builders import cost_line, invocation, write_cost_lines, write_invocations


def test_attribution_does_not_import_pandas(tmp_path: Path) -> None:
    # pyarrow imports pandas on its first conversion of Python values, which adds about 0.8 s to a run.
    lake = LocalLake(tmp_path / "lake")
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.00")])
    write_invocations(lake, [invocation("a", "2026-01-05 10:01", input_tokens=3, feature="chat")])
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from genai_finops.attribution import BillingPeriod, attribute_period\n"
        "from genai_finops.config import parse_config\n"
        "from genai_finops.lake.local import LocalLake\n"
        "config = parse_config({'attribution': {'plan_prices': [{'feature': 'chat', 'monthly_price': '20'}]}})\n"
        f"lake = LocalLake(Path({str(lake.root)!r}))\n"
        "result = attribute_period(lake, config, BillingPeriod.parse('2026-01'))\n"
        "print(result.billed_request_cost, 'pandas' in sys.modules)\n"
    )

    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "1.0000000000 False"
