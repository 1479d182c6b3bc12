"""Helpers every layer may use: atomic file writes and unknown-name errors."""
