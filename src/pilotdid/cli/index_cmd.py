"""Placeholder: filled in by its wing."""
