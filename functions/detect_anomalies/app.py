"""Lambda entry point; the detection lives in genai_finops.anomalies (shared layer)."""

from genai_finops.anomalies.handler import lambda_handler

__all__ = ["lambda_handler"]
