"""Result shape of the staggered estimators: the package's one event-study result (an event study plus an overall
ATT; defined in :mod:`pilotdid.estimation.event_study_result`), and the normal confidence interval."""

from __future__ import annotations

import numpy as np
from scipy import stats

from pilotdid.estimation.event_study_result import EventStudyResult

__all__ = ["EventStudyResult", "normal_ci"]


def normal_ci(coef, se, alpha: float = 0.05):
    z = stats.norm.ppf(1 - alpha / 2)
    return np.asarray(coef) - z * np.asarray(se), np.asarray(coef) + z * np.asarray(se)
