"""Tests of pilotdid.estimation (TWFE, SE presets), the regression tables and the baseline adapters."""
