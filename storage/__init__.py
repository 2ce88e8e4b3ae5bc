"""Adapters to the outside: PostgreSQL, object stores, the event bus."""
