"""Lambda entry point; the step lives in genai_finops.governance (shared layer)."""

from genai_finops.governance.lambda_handlers import budgets_handler as lambda_handler

__all__ = ["lambda_handler"]
