"""Builders for small invocation log objects written by the tests themselves."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGION = "us-east-1"
SECRET_MARKER = "PROMPT-SECRET-7f3a9c"


def record(request_id: str = "req-1", **overrides: Any) -> dict[str, Any]:
    """Return one Converse-style ModelInvocationLog record; keys in ``overrides`` replace top-level fields."""
    base: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-03T10:15:00Z",
        "accountId": ACCOUNT,
        "identity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/dev"},
        "region": REGION,
        "requestId": request_id,
        "operation": "Converse",
        "modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "hello"}]}]},
            "inputTokenCount": 100,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120},
            },
            "outputTokenCount": 20,
        },
    }
    result = copy.deepcopy(base)
    result.update(overrides)
    return result


def stream_record(request_id: str, input_tokens: int, output_tokens: int, **overrides: Any) -> dict[str, Any]:
    """Return an InvokeModelWithResponseStream record whose body is an array of events ending in a bare string."""
    events: list[Any] = [
        {"type": "message_start", "message": {"role": "assistant", "usage": {"input_tokens": input_tokens}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "partial"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": output_tokens}},
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": input_tokens, "outputTokenCount": output_tokens},
        },
        "[DONE]",
    ]
    return record(
        request_id,
        operation="InvokeModelWithResponseStream",
        modelId="anthropic.claude-3-haiku-20240307-v1:0",
        input={"inputBodyJson": {"messages": []}, "inputTokenCount": input_tokens},
        output={"outputBodyJson": events, "outputTokenCount": output_tokens},
        **overrides,
    )


def bucket_key(hour: str = "2026/11/03/10", name: str = "20261103T101500000Z_0123456789abcdef.json.gz") -> str:
    """Return a bucket-layout key for a log object."""
    return f"AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{REGION}/{hour}/{name}"


def write_object(path: Path, lines: list[Any], *, compress: bool = True) -> Path:
    """Write records (dicts) or raw strings as one NDJSON object, gzip-compressed by default."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path
