"""Reading a Bedrock ``modelId`` as logged: base model, inference profile and routing.

The forms seen in invocation logs:

* a base model id, ``anthropic.claude-3-5-sonnet-20240620-v1:0``, or its foundation-model ARN
  ``arn:aws:bedrock:<region>::foundation-model/<model id>``: served in the calling region;
* a system-defined cross-region profile, the model id with a geography prefix (``us.``, ``eu.``,
  ``apac.``, ``jp.``, ``au.``, ``ca.``, ``us-gov.``) or ``global.``, bare or as an
  ``arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`` ARN;
* an application inference profile ARN, ``arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>``,
  whose model is only known from the profile inventory.
"""

from __future__ import annotations

import re

ROUTE_IN_REGION = "in_region"
ROUTE_GEO = "geo"
ROUTE_GLOBAL = "global"

GEO_PREFIXES = ("us", "eu", "apac", "jp", "au", "ca", "us-gov")
GLOBAL_PREFIX = "global"

_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<kind>[a-z-]+)/(?P<resource>.+)$"
)
_SYSTEM_PROFILE = re.compile(r"^(?P<prefix>[a-z]+(?:-gov)?)\.(?P<model>[a-z0-9-]+\..+)$")


def parse_model_id(model_id: str | None) -> tuple[str | None, str | None, str | None]:
    """Split a logged ``modelId`` into ``(model, inference_profile_id, route)``.

    ``model`` is the base Bedrock model id (``anthropic.claude-3-5-sonnet-20240620-v1:0``).
    ``inference_profile_id`` is the system profile id (``us.anthropic...``) or the application
    profile ARN. For an application profile the model and route are None: they come from the
    profile inventory. Unknown forms (provisioned, custom or imported model ARNs) return
    ``(None, None, None)``.
    """
    if not model_id:
        return None, None, None
    value = model_id.strip()
    arn = _ARN.match(value)
    if arn:
        kind, resource = arn.group("kind"), arn.group("resource")
        if kind == "foundation-model":
            return resource, None, ROUTE_IN_REGION
        if kind == "inference-profile":
            return _parse_profile_id(resource)
        if kind == "application-inference-profile":
            return None, value, None
        return None, None, None
    if value.startswith("arn:"):
        return None, None, None
    return _parse_profile_id(value)


def _parse_profile_id(value: str) -> tuple[str | None, str | None, str | None]:
    match = _SYSTEM_PROFILE.match(value)
    if match:
        prefix = match.group("prefix")
        if prefix == GLOBAL_PREFIX:
            return match.group("model"), value, ROUTE_GLOBAL
        if prefix in GEO_PREFIXES:
            return match.group("model"), value, ROUTE_GEO
    return value, None, ROUTE_IN_REGION


def is_application_profile(model_id: str | None) -> bool:
    """Return True when a logged ``modelId`` is an application inference profile ARN."""
    arn = _ARN.match(model_id.strip()) if model_id else None
    return bool(arn and arn.group("kind") == "application-inference-profile")
