"""Preset configs shipped with the package (copy one as a starting point)."""
