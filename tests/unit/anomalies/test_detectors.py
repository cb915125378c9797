"""Each detector kind catches its incident and leaves a similar normal pattern alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from genai_finops.anomalies.lifecycle import AnomalyState

from .scenarios import (
    CHAT,
    CHAT_DEV,
    HAIKU,
    NOVA_LITE,
    SONNET,
    SUMMARY,
    Organisation,
    hour_of,
    normal_organisation,
    replay,
    window,
)

INCIDENT = hour_of(17, 10)  # a Thursday, 10:00 UTC
REPLAY_FROM = hour_of(15, 0)
MAX_TTD_HOURS = 2


def _opened(states: list[AnomalyState], kind: str) -> list[AnomalyState]:
    return [state for state in states if state.kind == kind]


def _assert_caught(states: list[AnomalyState], kind: str, boundaries: set[str]) -> AnomalyState:
    matching = [s for s in _opened(states, kind) if f"{s.dimension}={s.value}" in boundaries]
    assert matching, (
        f"no {kind} anomaly on {sorted(boundaries)}; opened: {[(s.kind, s.dimension, s.value) for s in states]}"
    )
    first = min(matching, key=lambda state: state.detected)
    assert first.detected + 1 - INCIDENT <= MAX_TTD_HOURS
    assert first.opened >= INCIDENT - 1
    return first


def _feature_boundaries(stream: object) -> set[str]:
    feature = stream.feature
    return {f"feature={feature}", f"inference_profile=profile/{feature}", f"principal={stream.principal}"}


def test_normal_organisation_opens_nothing() -> None:
    assert replay(normal_organisation(), REPLAY_FROM) == []


def test_spend_catches_runaway_loop() -> None:
    organisation = normal_organisation()
    organisation.add(CHAT, window(INCIDENT, 5) * 2 * CHAT.peak)
    states = replay(organisation, REPLAY_FROM)
    _assert_caught(states, "spend", _feature_boundaries(CHAT))
    assert len(states) == 1


def test_spend_ignores_weekly_recurring_peak() -> None:
    organisation = normal_organisation()
    wednesday_batch = np.zeros(22 * 24)
    for day in range(2, 22, 7):
        wednesday_batch[hour_of(day, 14) : hour_of(day, 17)] = 3 * SUMMARY.peak
    organisation.add(SUMMARY, wednesday_batch)
    assert _opened(replay(organisation, REPLAY_FROM), "spend") == []


def test_cache_writes_without_reads_caught() -> None:
    organisation = Organisation()
    for stream in (SUMMARY, CHAT_DEV):
        organisation.add(stream)
    whole_prompt = (CHAT.cache_read_tokens + CHAT.cache_write_tokens) / CHAT.cache_write_tokens
    incident = window(INCIDENT, 6)
    scale = {"cache_write": 1 + incident * (whole_prompt - 1), "cache_read": 1 - incident}
    organisation.add(CHAT, scale=scale)
    states = replay(organisation, REPLAY_FROM)
    _assert_caught(states, "cache_write_without_read", _feature_boundaries(CHAT))
    assert _opened(states, "spend") == []


def test_cache_writes_with_matching_reads_ignored() -> None:
    organisation = Organisation()
    for stream in (SUMMARY, CHAT_DEV):
        organisation.add(stream)
    more_cached = 1 + window(INCIDENT, 6) * 0.4
    organisation.add(CHAT, scale={"cache_write": more_cached, "cache_read": more_cached})
    assert _opened(replay(organisation, REPLAY_FROM), "cache_write_without_read") == []


def test_token_ratio_catches_generation_storm() -> None:
    organisation = Organisation()
    for stream in (CHAT, CHAT_DEV):
        organisation.add(stream)
    organisation.add(SUMMARY, scale={"output": 1 + window(INCIDENT, 5) * 5})
    states = replay(organisation, REPLAY_FROM)
    _assert_caught(states, "token_ratio", _feature_boundaries(SUMMARY))
    assert _opened(states, "spend") == []


def test_token_ratio_ignores_small_drift() -> None:
    organisation = Organisation()
    for stream in (CHAT, CHAT_DEV):
        organisation.add(stream)
    organisation.add(SUMMARY, scale={"output": 1 + window(INCIDENT, 48) * 0.2})
    assert replay(organisation, REPLAY_FROM) == []


def test_model_drift_catches_switch_to_frontier() -> None:
    organisation = Organisation()
    for stream in (CHAT, CHAT_DEV):
        organisation.add(stream)
    incident = window(INCIDENT, 8)
    rate = organisation.rate(SUMMARY)
    organisation.add(SUMMARY, rate * (1 - incident))
    organisation.add(replace(SUMMARY, model=SONNET), rate * incident)
    states = replay(organisation, REPLAY_FROM)
    _assert_caught(states, "model_drift", {"feature=summary", "inference_profile=profile/summary"})
    assert _opened(states, "spend") == []


def test_model_drift_ignores_switch_to_cheaper_model() -> None:
    organisation = Organisation()
    for stream in (CHAT, CHAT_DEV):
        organisation.add(stream)
    cheaper = window(INCIDENT, 24 * 5)
    rate = organisation.rate(SUMMARY)
    organisation.add(SUMMARY, rate * (1 - cheaper))
    organisation.add(replace(SUMMARY, model=NOVA_LITE), rate * cheaper)
    assert replay(organisation, REPLAY_FROM) == []


def test_new_principal_caught() -> None:
    organisation = normal_organisation()
    unknown = replace(CHAT, team=None, feature=None, principal="user/unknown-script", peak=1)
    organisation.add(unknown, window(INCIDENT, 6) * 400)
    states = replay(organisation, REPLAY_FROM)
    caught = _assert_caught(states, "new_principal", {"principal=user/unknown-script"})
    assert caught.dimension == "principal"
    assert _opened(states, "spend") == []


def test_new_principal_ignores_weekday_only_caller() -> None:
    organisation = normal_organisation()
    batch = replace(SUMMARY, principal="role/weekday-batch", feature="digest", peak=300)
    organisation.add(batch, organisation.rate(batch, weekend_factor=0.0))
    assert _opened(replay(organisation, REPLAY_FROM), "new_principal") == []


def test_retry_storm_caught() -> None:
    organisation = normal_organisation()
    storm = window(INCIDENT, 5)
    organisation.add(SUMMARY, storm * 3 * SUMMARY.peak, error_share=0.45)
    states = replay(organisation, REPLAY_FROM)
    _assert_caught(states, "retry_storm", _feature_boundaries(SUMMARY))
    assert _opened(states, "spend") == []


def test_retry_storm_ignores_errors_without_more_requests() -> None:
    organisation = Organisation()
    for stream in (CHAT, CHAT_DEV):
        organisation.add(stream)
    outage = window(INCIDENT, 5)
    organisation.add(SUMMARY, error_share=0.01 + outage * 0.5)
    assert replay(organisation, REPLAY_FROM) == []


def test_nonprod_frontier_catches_dev_load_test() -> None:
    organisation = normal_organisation()
    organisation.add(CHAT_DEV, window(INCIDENT, 6) * 1.5 * CHAT.peak)
    states = replay(organisation, REPLAY_FROM)
    caught = _assert_caught(states, "nonprod_frontier", {f"feature_environment_model=chat | dev | {SONNET}"})
    assert caught.dimension == "feature_environment_model"
    assert _opened(states, "spend") == []


def test_nonprod_frontier_ignores_usual_dev_use() -> None:
    organisation = normal_organisation()
    organisation.add(replace(CHAT_DEV, model=HAIKU, feature="dev-haiku", peak=40))
    assert _opened(replay(organisation, REPLAY_FROM), "nonprod_frontier") == []
