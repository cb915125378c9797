"""The governance configuration: one YAML file, validated on load.

It contains the tag standard, what counts as GenAI spend, principal mappings and the other rules that
differ per organisation. Every validation error names the key path and what is allowed.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

STANDARD_KEYS = ("team", "feature", "environment", "cost_center", "tenant")
MANDATORY_KEYS = ("team", "feature", "environment")

NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TagKey(_Strict):
    """One standard attribution key and the tag or metadata names that mean it."""

    aliases: list[NonEmpty] = Field(default_factory=list)
    allowed_values: list[NonEmpty] | None = None


def _default_tag_keys() -> dict[str, TagKey]:
    return {
        "team": TagKey(aliases=["team", "Team", "owner", "Owner"]),
        # Generic tags such as "app" or "application" are not defaults: with lines_with_feature_tag, any line
        # carrying the feature key counts as GenAI spend, and those tags are on most resources.
        "feature": TagKey(aliases=["feature", "Feature", "genai_feature"]),
        "environment": TagKey(
            aliases=["environment", "Environment", "env", "Env", "stage"],
            allowed_values=["prod", "staging", "dev", "test", "shared"],
        ),
        "cost_center": TagKey(aliases=["cost_center", "CostCenter", "cost-center"]),
        "tenant": TagKey(aliases=["tenant", "Tenant", "customer"]),
    }


class TagStandard(_Strict):
    """The organisation's tag standard: the keys the pipeline attributes cost by."""

    keys: dict[str, TagKey] = Field(default_factory=_default_tag_keys)
    environment_synonyms: dict[NonEmpty, NonEmpty] = Field(
        default_factory=lambda: {
            "production": "prod",
            "prd": "prod",
            "stage": "staging",
            "development": "dev",
        }
    )

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, keys: dict[str, TagKey]) -> dict[str, TagKey]:
        unknown = sorted(set(keys) - set(STANDARD_KEYS))
        if unknown:
            raise ValueError(f"unknown standard keys {unknown}; allowed keys: {list(STANDARD_KEYS)}")
        merged = _default_tag_keys()
        merged.update(keys)
        missing = [key for key in MANDATORY_KEYS if not merged[key].aliases]
        if missing:
            raise ValueError(f"mandatory keys {missing} need at least one alias")
        return merged

    def alias_map(self) -> dict[str, str]:
        """Map each normalised alias (lower case, punctuation as '_') to its standard key."""
        mapping: dict[str, str] = {}
        for key, spec in self.keys.items():
            for alias in [key, *spec.aliases]:
                mapping.setdefault(normalize_tag_key(alias), key)
        return mapping

    def normalize_environment(self, value: str | None) -> str | None:
        """Map an environment value to its canonical form through the configured synonyms."""
        if value is None:
            return None
        lowered = value.strip().lower()
        return self.environment_synonyms.get(lowered, lowered)


class GenAIScope(_Strict):
    """Scope rules: the billing lines that count as GenAI spend."""

    product_codes: list[NonEmpty] = Field(
        default_factory=lambda: [
            "AmazonBedrock",
            "AmazonBedrockService",
            "AmazonBedrockFoundationModels",
            "AmazonBedrockAgentCore",
        ]
    )
    extra_product_codes: list[NonEmpty] = Field(default_factory=list)
    marketplace_product_name_suffix: NonEmpty = "(Amazon Bedrock Edition)"
    lines_with_feature_tag: bool = True

    def all_product_codes(self) -> list[str]:
        """Return the default and extra product codes, without duplicates, in order."""
        return list(dict.fromkeys([*self.product_codes, *self.extra_product_codes]))


class PrincipalMapping(_Strict):
    """Attribution keys for callers that carry none themselves, matched by IAM role or principal ARN."""

    match: NonEmpty
    team: str | None = None
    feature: str | None = None
    environment: str | None = None
    tenant: str | None = None

    @field_validator("match")
    @classmethod
    def _check_pattern(cls, pattern: str) -> str:
        try:
            re.compile(_glob_to_regex(pattern))
        except re.error as error:
            raise ValueError(f"invalid pattern {pattern!r}: {error}") from error
        return pattern

    def matches(self, principal: str | None, role: str | None) -> bool:
        """Return True when the principal ARN or its role name matches this mapping's glob pattern."""
        regex = re.compile(_glob_to_regex(self.match))
        return any(value is not None and regex.fullmatch(value) for value in (principal, role))


class InferenceProfileEntry(_Strict):
    """An application inference profile known from configuration (the local stand-in for Bedrock's API)."""

    arn: NonEmpty
    model: NonEmpty
    name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Invocations(_Strict):
    """Invocation-log settings: the end-user metadata key, the metadata kept and the profile inventory.

    ``request_metadata`` keeps the metadata keys of the standard keys (with their aliases) and those
    listed in ``stored_metadata_keys``. Other keys are dropped at ingest, because request metadata is
    free-form and can carry personal data.
    """

    user_id_metadata_key: NonEmpty = "user_id"
    stored_metadata_keys: list[NonEmpty] = Field(default_factory=list)
    inference_profiles: list[InferenceProfileEntry] = Field(default_factory=list)
    inference_profiles_file: Path | None = None


class PriceOverride(_Strict):
    """A price that replaces the shipped list price and the bill-derived rate for one model and token class.

    ``region`` and ``route`` take "*" for any. The price applies on days in [effective_from, effective_to).
    """

    model: NonEmpty
    token_class: Literal["input", "output", "cache_read", "cache_write", "cache_write_1h"]
    # The same bound as bill rates in the price catalog: estimates are 64-bit integer quanta.
    price_per_million: Annotated[Decimal, Field(ge=0, le=1_000_000)]
    region: NonEmpty = "*"
    route: NonEmpty = "*"
    tier: NonEmpty = "standard"
    effective_from: date | None = None
    effective_to: date | None = None


class PlanPrice(_Strict):
    """The monthly price one user pays for a feature, compared with that user's monthly GenAI cost."""

    feature: NonEmpty
    monthly_price: Annotated[Decimal, Field(gt=0)]


class Attribution(_Strict):
    """Attribution settings: the cost column allocated, estimate prices, divergence flags and plan prices."""

    cost_column: Literal["cost_unblended", "cost_net", "cost_amortized"] = "cost_net"
    divergence_tolerance_share: Annotated[Decimal, Field(ge=0)] = Decimal("0.10")
    price_overrides: list[PriceOverride] = Field(default_factory=list)
    model_names: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)
    plan_prices: list[PlanPrice] = Field(default_factory=list)
    plan_outlier_share: Annotated[Decimal, Field(gt=0)] = Decimal("1.0")
    unattributed_sources_limit: Annotated[int, Field(ge=1, le=1000)] = 20

    @field_validator("plan_prices")
    @classmethod
    def _check_unique_plans(cls, plans: list[PlanPrice]) -> list[PlanPrice]:
        features = [plan.feature for plan in plans]
        duplicates = sorted({feature for feature in features if features.count(feature) > 1})
        if duplicates:
            raise ValueError(f"these features have more than one plan price: {duplicates}")
        return plans


# -- governance: owners, budgets, allocation, chargeback, forecast assumptions, credits ----------------

TeamName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Share = Annotated[Decimal, Field(ge=0, le=1)]


class TeamOwner(_Strict):
    """The contact of a team's messages and, optionally, the team's own SNS topic."""

    contact: NonEmpty
    topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")] | None = None


class FinOpsOwner(TeamOwner):
    """The FinOps owner: receives run failures, the monthly summary and messages of teams with no owner."""

    team: TeamName = "finops"


class Owners(_Strict):
    """Message routing: one owner per team and the FinOps fallback owner."""

    finops: FinOpsOwner = Field(default_factory=lambda: FinOpsOwner(contact="finops@example.com"))
    teams: dict[TeamName, TeamOwner] = Field(default_factory=dict)


class Budget(_Strict):
    """A monthly budget for one team, feature or environment, with alert thresholds as shares of the amount.

    ``actual_thresholds`` alert when the month's spend so far crosses them, ``forecast_thresholds`` when the
    projected month-end spend does. ``owner_team`` receives the alerts; by default the team of a team
    budget and the FinOps owner otherwise.
    """

    name: TeamName
    scope: Literal["team", "feature", "environment"]
    value: NonEmpty
    monthly_amount: Annotated[Decimal, Field(gt=0)]
    actual_thresholds: list[Annotated[Decimal, Field(gt=0)]] = Field(default_factory=lambda: [Decimal("1.0")])
    forecast_thresholds: list[Annotated[Decimal, Field(gt=0)]] = Field(default_factory=lambda: [Decimal("0.8")])
    owner_team: TeamName | None = None


class EnvironmentCap(_Strict):
    """A hard monthly cap on one environment's GenAI spend, with an optional enforcement action.

    When ``enforce`` is true, a breach attaches an inline deny policy for ``bedrock:InvokeModel*`` and
    ``bedrock:Converse*`` to each role in ``role_names``. The policy is removed when the next billing
    period starts. When false (the default), the breach is alerted and recorded as a dry run.
    """

    environment: NonEmpty
    monthly_amount: Annotated[Decimal, Field(gt=0)]
    enforce: bool = False
    role_names: list[Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,64}$")]] = Field(default_factory=list)
    owner_team: TeamName | None = None

    @model_validator(mode="after")
    def _check_roles(self) -> EnvironmentCap:
        if self.enforce and not self.role_names:
            raise ValueError(f"cap on environment {self.environment!r} enforces but lists no role_names")
        return self


class Budgets(_Strict):
    """Budgets and hard caps, evaluated daily and in the monthly run."""

    items: list[Budget] = Field(default_factory=list)
    environment_caps: list[EnvironmentCap] = Field(default_factory=list)
    # Days of spend averaged to project the month's end in the daily evaluation.
    run_rate_days: Annotated[int, Field(ge=1, le=28)] = 7

    @model_validator(mode="after")
    def _check_unique(self) -> Budgets:
        names = [budget.name for budget in self.items]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"budget names must be unique; repeated: {duplicates}")
        environments = [cap.environment for cap in self.environment_caps]
        repeated = sorted({env for env in environments if environments.count(env) > 1})
        if repeated:
            raise ValueError(f"environments with more than one cap: {repeated}")
        return self


class Allocation(_Strict):
    """The split of shared GenAI cost (no team, or a team listed in ``shared_teams``) across teams."""

    key: Literal["even", "fixed", "requests", "tokens", "cost", "active_users"] = "cost"
    fixed_shares: dict[TeamName, Annotated[Decimal, Field(gt=0)]] = Field(default_factory=dict)
    shared_teams: list[NonEmpty] = Field(default_factory=lambda: ["shared"])

    @model_validator(mode="after")
    def _check_fixed(self) -> Allocation:
        if self.key == "fixed" and not self.fixed_shares:
            raise ValueError("key 'fixed' needs fixed_shares (team: weight)")
        return self


class Chargeback(_Strict):
    """Thresholds for charging a team back instead of showing it its cost."""

    min_attributable_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(90)
    min_spend: Annotated[Decimal, Field(ge=0)] = Decimal(100)


class CostLever(_Strict):
    """A planned saving for the optimized forecast: a share of requests whose cost drops by ``saving``.

    Example: prompt caching on 40% of requests saving 30% of their cost is share 0.4, saving 0.3.
    ``feature`` "*" applies to every feature.
    """

    name: NonEmpty
    feature: NonEmpty = "*"
    share_of_requests: Share
    saving: Share


class ForecastAssumptions(_Strict):
    """Assumptions of the bottom-up forecast."""

    history_months: Annotated[int, Field(ge=1, le=24)] = 3
    horizon_months: Annotated[int, Field(ge=1, le=12)] = 3
    # Monthly growth of active users per feature ("*" for the default); without one, the trend is used.
    user_growth: dict[NonEmpty, Annotated[Decimal, Field(ge=-1)]] = Field(default_factory=dict)
    levers: list[CostLever] = Field(default_factory=list)
    stress_volume_multiplier: Annotated[Decimal, Field(ge=1)] = Decimal("1.5")
    # Two-sided coverage of the prediction interval (0.8, 0.9 or 0.95), and the relative error assumed
    # without history.
    interval_level: Decimal = Decimal("0.9")
    default_relative_error: Annotated[Decimal, Field(gt=0, le=5)] = Decimal("0.25")

    @field_validator("interval_level")
    @classmethod
    def _check_level(cls, level: Decimal) -> Decimal:
        if level not in (Decimal("0.8"), Decimal("0.9"), Decimal("0.95")):
            raise ValueError(f"interval_level must be 0.8, 0.9 or 0.95, got {level}")
        return level


class Credits(_Strict):
    """A promotional credit balance, for the runway projection in the FinOps owner's summary.

    ``balance`` is what remained at the start of billing period ``balance_as_of`` (YYYY-MM); Credit
    lines of that period and later ones are subtracted from it.
    """

    balance: Annotated[Decimal, Field(ge=0)] | None = None
    balance_as_of: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    expires_on: date | None = None

    @model_validator(mode="after")
    def _check_pair(self) -> Credits:
        if (self.balance is None) != (self.balance_as_of is None):
            raise ValueError("balance and balance_as_of must be given together")
        return self


class Anomalies(_Strict):
    """Anomaly detection on hourly estimated spend and daily billed spend.

    No threshold is set per boundary: each series' noise scale is learned from its own history, and these
    values apply to every boundary alike.
    """

    # An anomaly opens only when its excess over the baseline so far reaches this many currency units.
    min_impact: Annotated[Decimal, Field(gt=0)] = Decimal(5)
    # ... and when the window's observed cost exceeds the expected cost by at least this share.
    min_relative_change: Annotated[Decimal, Field(gt=0)] = Decimal("0.5")
    # Robust z-score (excess divided by the series' scaled median absolute deviation) an hour must exceed.
    z_threshold: Annotated[Decimal, Field(gt=0)] = Decimal(4)
    # An open anomaly's alert is sent again only when its impact so far grew by this share since the last alert.
    update_step: Annotated[Decimal, Field(gt=0)] = Decimal("1.0")
    # Consecutive hours at or below the baseline that close an open anomaly.
    close_after_hours: Annotated[int, Field(ge=1, le=48)] = 2
    # Days of hourly history read for the baselines (at least five weeks, so that last month-end is seen).
    history_days: Annotated[int, Field(ge=7, le=90)] = 42
    # Models whose use outside production environments is watched (model ids; a prefix match is enough).
    frontier_models: list[NonEmpty] = Field(
        default_factory=lambda: [
            "anthropic.claude-opus",
            "anthropic.claude-sonnet",
            "anthropic.claude-3-opus",
            "anthropic.claude-3-5-sonnet",
            "anthropic.claude-3-7-sonnet",
            "amazon.nova-premier",
        ]
    )
    production_environments: list[NonEmpty] = Field(default_factory=lambda: ["prod"])
    # Days excluded from every baseline (public holidays with unusual traffic).
    holidays: list[date] = Field(default_factory=list)
    # A principal is new when it had no spend in this many days before the current hour.
    new_principal_days: Annotated[int, Field(ge=1, le=90)] = 14


class GovernanceConfig(_Strict):
    """The whole governance configuration. Later capabilities add sections here."""

    version: Literal[1] = 1
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    tag_standard: TagStandard = Field(default_factory=TagStandard)
    genai_scope: GenAIScope = Field(default_factory=GenAIScope)
    principals: list[PrincipalMapping] = Field(default_factory=list)
    invocations: Invocations = Field(default_factory=Invocations)
    attribution: Attribution = Field(default_factory=Attribution)
    owners: Owners = Field(default_factory=Owners)
    budgets: Budgets = Field(default_factory=Budgets)
    allocation: Allocation = Field(default_factory=Allocation)
    chargeback: Chargeback = Field(default_factory=Chargeback)
    forecast: ForecastAssumptions = Field(default_factory=ForecastAssumptions)
    credits: Credits = Field(default_factory=Credits)
    anomalies: Anomalies = Field(default_factory=Anomalies)

    @model_validator(mode="after")
    def _check_unique_profiles(self) -> GovernanceConfig:
        arns = [entry.arn for entry in self.invocations.inference_profiles]
        duplicates = sorted({arn for arn in arns if arns.count(arn) > 1})
        if duplicates:
            raise ValueError(f"invocations.inference_profiles lists these ARNs more than once: {duplicates}")
        return self

    @model_validator(mode="after")
    def _check_environment_values(self) -> GovernanceConfig:
        allowed = self.tag_standard.keys["environment"].allowed_values
        if not allowed:
            return self
        used = [
            (f"budgets.environment_caps.{i}.environment", cap.environment)
            for i, cap in enumerate(self.budgets.environment_caps)
        ]
        used += [
            (f"budgets.items.{i}.value", budget.value)
            for i, budget in enumerate(self.budgets.items)
            if budget.scope == "environment"
        ]
        used += [
            (f"principals.{i}.environment", mapping.environment)
            for i, mapping in enumerate(self.principals)
            if mapping.environment is not None
        ]
        for location, value in used:
            canonical = self.tag_standard.normalize_environment(value)
            if canonical in allowed and canonical != value:
                raise ValueError(f"{location}: write environment {value!r} as {canonical!r}, the value the data uses")
            if canonical not in allowed:
                raise ValueError(
                    f"{location}: environment {value!r} is not one of tag_standard.keys.environment.allowed_values "
                    f"{allowed}; fix the value or add it to allowed_values"
                )
        return self


def normalize_tag_key(key: str) -> str:
    """Normalise a tag key the way every export format is compared: lower case, punctuation and spaces as '_'.

    Letters and digits of any script are kept (``équipe``, ``チーム``). A key with no letter or digit at all
    is kept as it was, trimmed, so that it never collapses to an empty key.
    """
    normalized = re.sub(r"[\W_]+", "_", key.strip().lower()).strip("_")
    return normalized or key.strip()


def _glob_to_regex(pattern: str) -> str:
    return "".join(".*" if char == "*" else re.escape(char) for char in pattern)


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"invalid governance configuration {source}:"]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "<memory>") -> GovernanceConfig:
    """Validate already-parsed YAML or JSON data as a governance configuration."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid governance configuration {source}: the top level must be a mapping")
    try:
        return GovernanceConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_errors(error, source)) from error


def load_config(path: Path | str | None) -> GovernanceConfig:
    """Load and validate a governance configuration file; None gives the defaults."""
    if path is None:
        return GovernanceConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read governance configuration {path}: {error.strerror}") from error
    return _resolve_relative_paths(parse_config_text(text, str(path)), path.parent)


def _resolve_relative_paths(config: GovernanceConfig, base: Path) -> GovernanceConfig:
    """Make file paths in the configuration relative to the configuration file, not the working folder."""
    profiles_file = config.invocations.inference_profiles_file
    if profiles_file is None or profiles_file.is_absolute():
        return config
    invocations = config.invocations.model_copy(update={"inference_profiles_file": base / profiles_file})
    return config.model_copy(update={"invocations": invocations})


def parse_config_text(text: str, source: str) -> GovernanceConfig:
    """Parse and validate YAML text as a governance configuration."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"governance configuration {source} is not valid YAML: {error}") from error
    return parse_config(data, source)
