"""Start-up: the ``gtvision`` command, the launcher that brings the platform up on Ray, first-start data."""
