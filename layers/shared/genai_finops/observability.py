"""The one place where the logger, tracer and metrics are created (Powertools for AWS Lambda).

Log short fixed messages with ids as keys (``logger.info("delivery loaded", extra={...})``). Never log
an event body, a prompt, a response or an SDK payload.
"""

from __future__ import annotations

import sys

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "genai-finops"

# Logs go to stderr so that a command's stdout carries only its result. Lambda sends both to CloudWatch.
logger = Logger(service=SERVICE, stream=sys.stderr)
tracer = Tracer(service=SERVICE, disabled=None)
metrics = Metrics(namespace="GenAIFinOps", service=SERVICE)
