"""Lambda entry point; the handler logic lives in genai_finops.handlers.ingest_cur (shared layer)."""

from genai_finops.handlers.ingest_cur import lambda_handler

__all__ = ["lambda_handler"]
