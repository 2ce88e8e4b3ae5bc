"""Licence plates (LPR): plate forms, sender payloads, signatures, queued and stored reads, watchlists."""
