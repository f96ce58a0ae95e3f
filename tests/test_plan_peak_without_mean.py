"""compare's peaks within a step where no tag has air in the step's mean (session 50).

A near-field plume's arrivals are spread ahead of its step's window (zones' lead of sqrt 2 sigma_x), so a step can
have a peak and a nil mean. compare scaled the baseline's peak by the largest weight a plan keeps of the tags with
air in the step, and such a peak had counted for nothing: a shelter from 1 h read AEGL-2 5 km out at 20 min with
600-s steps, 19.5 with 10-s steps (tests/test_shelter_changed_wind.py), where ``run`` counted it.
"""

from __future__ import annotations

import numpy as np

from plumecast.plans.evaluate import _plan_scale


def test_a_peak_with_no_tag_s_air_in_the_mean_keeps_the_largest_weight() -> None:
    c = np.zeros((2, 3, 1))  # (tag, step, receptor): tag 0 has air in step 1 only, tag 1 none
    c[0, 1, 0] = 1e-6
    cols = np.array([0])
    for w, held in ((np.array([1.0, 1.0]), None), (np.array([0.0, 0.5]), None), (np.array([1.0, 0.5]), c > 0.0)):
        scale = _plan_scale(w, c, cols, held)
        assert scale[1, 0] == w[0]  # the step with air: the weight of its tag, as before
        assert scale[0, 0] == scale[2, 0] == w.max()  # no tag's air: whose it is is not known (had been 0)
        assert (_plan_scale(w, c, cols, held, lowest=True)[[0, 2], 0] == 0.0).all()  # the lowest: as before
