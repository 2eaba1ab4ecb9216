"""Heterogeneity-robust estimators for staggered adoption.

- :mod:`.cs` Callaway & Sant'Anna (2021) group-time ATTs, aggregations, multiplier bootstrap.
- :mod:`.bacon` Goodman-Bacon (2021) decomposition of the TWFE coefficient.
- :mod:`.sa` Sun & Abraham (2021) interaction-weighted event study (via pyfixest).
- :mod:`.bjs` Borusyak, Jaravel & Spiess (2024) imputation estimator.
- :mod:`.panel` shared input checks (balanced panel, cohorts).
"""
