"""Ray actors: thin orchestration shells over the domain, media and storage code."""
