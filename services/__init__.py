"""Use cases: the platform's work as plain async functions over storage and media, callable without Ray."""
