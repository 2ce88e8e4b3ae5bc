"""Pure model and rules of GT-Vision: no Ray, no I/O, unit-tested fast."""
