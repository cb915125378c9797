"""Lambda entry point; the handler logic lives in genai_finops.handlers.refresh_profiles (shared layer)."""

from genai_finops.handlers.refresh_profiles import lambda_handler

__all__ = ["lambda_handler"]
