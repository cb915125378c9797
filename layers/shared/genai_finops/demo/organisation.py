"""The synthetic organisation behind the demo data: accounts, teams, features, models and incidents.

Rates are prices per million tokens used only to make the synthetic bill. They are round figures of the
kind Bedrock publishes, not a price list. The bill written by the generator is the truth that the
pipeline must reproduce, so the exact values here matter only for realism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

PAYER_ACCOUNT = "004455667788"
ACCOUNTS = {"prod": "111122223333", "staging": "222233334444", "dev": "033344445555"}

# Billing region prefixes used in usage types.
REGION_PREFIX = {"us-east-1": "USE1", "us-west-2": "USW2", "eu-central-1": "EUC1"}
# Model invocation logging is off in us-west-2, so its Bedrock cost has no requests behind it.
LOGGED_REGIONS = ("us-east-1", "eu-central-1")


@dataclass(frozen=True)
class Model:
    """A model as the bill names it and as the invocation log names it, with its synthetic rates."""

    bill_name: str
    model_id: str
    input_rate: Decimal
    output_rate: Decimal
    cache_read_rate: Decimal | None = None
    cache_write_rate: Decimal | None = None
    marketplace_product: str | None = None
    frontier: bool = False

    @property
    def marketplace(self) -> bool:
        return self.marketplace_product is not None


MODELS = {
    "sonnet": Model(
        "Claude4.5Sonnet",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        Decimal(3),
        Decimal(15),
        Decimal("0.30"),
        Decimal("3.75"),
        frontier=True,
    ),
    "haiku": Model(
        "Claude4.5Haiku",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        Decimal(1),
        Decimal(5),
        Decimal("0.10"),
        Decimal("1.25"),
    ),
    "nova_pro": Model("NovaPro", "amazon.nova-pro-v1:0", Decimal("0.80"), Decimal("3.20")),
    "nova_lite": Model("NovaLite", "amazon.nova-lite-v1:0", Decimal("0.06"), Decimal("0.24")),
    "titan_embed": Model("TitanEmbeddingsV2-Text", "amazon.titan-embed-text-v2:0", Decimal("0.02"), Decimal(0)),
    "claude3_haiku": Model(
        "Claude3Haiku",
        "anthropic.claude-3-haiku-20240307-v1:0",
        Decimal("0.25"),
        Decimal("1.25"),
        marketplace_product="Claude 3 Haiku (Amazon Bedrock Edition)",
    ),
}

BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class Feature:
    """A product feature: its owner, model, traffic and token profile per request."""

    name: str
    team: str
    model: str
    prod_requests_per_day: int
    input_tokens: int
    output_tokens: int
    cache_read_share: float = 0.0
    cache_write_share: float = 0.0
    users_at_start: int = 200
    user_growth_per_day: float = 0.004
    route: str = "in_region"
    region: str = "us-east-1"
    batch: bool = False
    environments: tuple[str, ...] = ("prod", "staging", "dev")


FEATURES = (
    Feature("chat-assistant", "support", "sonnet", 700, 2600, 420, 0.45, 0.08, users_at_start=900),
    Feature("rag-answer", "support", "haiku", 500, 3800, 300, 0.20, 0.04, users_at_start=600, route="geo"),
    Feature("summarizer", "growth", "nova_pro", 260, 5200, 650, users_at_start=300, region="eu-central-1"),
    Feature("classifier", "risk", "nova_lite", 900, 800, 20, users_at_start=150, user_growth_per_day=0.001),
    Feature("embeddings-pipeline", "platform", "titan_embed", 400, 1500, 0, users_at_start=40, batch=False),
    Feature("agent", "growth", "claude3_haiku", 180, 6200, 900, users_at_start=120, user_growth_per_day=0.01),
    Feature(
        "report-digest", "growth", "nova_pro", 90, 9000, 1200, users_at_start=80, batch=True, environments=("prod",)
    ),
)

ENVIRONMENT_SHARE = {"prod": 1.0, "staging": 0.12, "dev": 0.06}


@dataclass(frozen=True)
class Incident:
    """An injected incident with a known start, for the demo report and the anomaly benchmark."""

    kind: str
    feature: str
    environment: str
    start_day: int
    start_hour: int
    hours: int
    description: str
    model: str | None = None
    extra: dict[str, float] = field(default_factory=dict)


def default_incidents(days: int) -> tuple[Incident, ...]:
    """Place the three demo incidents relative to the end of the generated period."""
    return (
        Incident(
            "frontier_model_in_dev",
            "classifier",
            "dev",
            max(0, days - 12),
            9,
            30,
            "a load test in dev pointed at the frontier model",
            model="sonnet",
            extra={"requests_per_hour": 900},
        ),
        Incident(
            "cache_write_storm",
            "chat-assistant",
            "prod",
            max(0, days - 25),
            8,
            48,
            "a prompt template change that defeats the prompt cache",
            extra={"cache_write_share": 0.9, "cache_read_share": 0.0},
        ),
        Incident(
            "retry_storm",
            "rag-answer",
            "prod",
            max(0, days - 6),
            10,
            6,
            "a client retrying throttled calls without backoff",
            extra={"request_multiplier": 10.0, "error_share": 0.6},
        ),
    )
