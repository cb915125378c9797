"""The monthly governance workflow: forecast, showback and chargeback, budgets, credits and owner routing.

Domain modules take the lake, the configuration and plain values and return Arrow tables or pydantic
models. ``steps`` contains one function per state machine step; ``asl`` runs the state machine locally.
"""
