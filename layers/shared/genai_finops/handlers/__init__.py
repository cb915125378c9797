"""Lambda handler logic: parse the event, call one domain function, shape the response.

``functions/<name>/app.py`` only imports ``lambda_handler`` from here. Settings, clients, the lake and
the governance configuration are built on the first invocation of a container (see ``runtime``),
never at import time.
"""
