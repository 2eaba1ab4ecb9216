"""Design choices for robustness checks, each reporting what it changed.

* :mod:`~pilotdid.design.psm` — propensity-score matching for PSM-DID (psmatch2 conventions named);
* :mod:`~pilotdid.design.winsorize` — two-tailed pooled winsorising with counts per variable;
* :mod:`~pilotdid.design.lag` — lagged treatment (Stata ``L.``) with the sample loss;
* :mod:`~pilotdid.design.samples` — dropping flagged units or periods, with counts;
* :mod:`~pilotdid.design.synthetic` — SYNTHETIC staggered panels for tests and benchmarks.
"""
