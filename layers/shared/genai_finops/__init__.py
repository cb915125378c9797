"""GenAI FinOps pipeline for AWS: shared domain package used by the Lambda functions and the local CLI."""

__version__ = "0.1.0"
