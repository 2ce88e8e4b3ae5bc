"""PyAV media handling: sources, fMP4 fragmenting, chunk assembly (no transcoding)."""
