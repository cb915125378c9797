"""Prices of Bedrock tokens and the model names that bills and invocation logs use."""

from .catalog import ListPrice, PriceCatalog, load_list_prices
from .models import ModelNames, load_model_names

__all__ = ["ListPrice", "ModelNames", "PriceCatalog", "load_list_prices", "load_model_names"]
