"""Typed access to the platform's named Ray actors: the only place that knows their names and methods."""
