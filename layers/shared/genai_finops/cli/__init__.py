"""The ``genai-finops`` command-line interface: the local entry point and the analyst's tool."""
