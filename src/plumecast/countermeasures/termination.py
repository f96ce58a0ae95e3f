"""Source termination and emission cuts.

``Termination(at_h, fraction, releases)`` removes ``fraction`` of the emission of
the named releases (all by default) from ``at_h`` hours after the start onwards:
``fraction = 1`` stops them, ``0.5`` halves them.

Two ways to apply it give the same answer:

* **by linearity** (no rerun): transport is linear in the emissions, so the
  concentration of a plan with a cut is the sum over emission tags of each tag's
  concentration times its multiplier (:meth:`Termination.tag_weights`). This is
  exact when ``at_h`` falls on a tag edge; the runner chooses its tags so that it
  does, and a time inside a tag is refused rather than approximated;
* **by a direct rerun** (:meth:`Termination.apply_to_scenario`): a full stop sets
  the release's ``stop_h``; a partial cut multiplies the release's time profile by
  ``1 - fraction`` from ``at_h`` on.

Several cuts compose multiplicatively: each removes its fraction of what is still
emitted (cut 50 % at 6 h, then stop at 12 h: 0.5 between 6 and 12 h, 0 after).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover - plumecast.scenario imports the plans, which import us
    from plumecast.scenario import Scenario

__all__ = ["TAG_EDGE_TOL_H", "Termination", "combined_tag_weights"]

#: Tolerance for "on a tag edge". [h] (3.6 ms; tag edges are transport-step edges)
TAG_EDGE_TOL_H = 1e-6


def _release_label(rel: Any, index: int) -> str:
    """The name a release group carries in the run (as plumecast.release.source_groups)."""
    return str(getattr(rel, "name", None) or f"release {index}")


@dataclass(frozen=True)
class Termination:
    """Cut ``fraction`` of the emissions of ``releases`` from ``at_h`` on.

    Parameters
    ----------
    at_h : float
        Time of the cut, hours after the scenario start (>= 0). [h]
    fraction : float
        Fraction of the emission removed, in (0, 1]; 1 stops the source. [-]
    releases : sequence of str or int, optional
        Releases cut, by name (``releases[i].name``, or ``"release i"`` when it has
        none) or by index in the scenario's ``releases`` list; ``None``: all.
    """

    at_h: float
    fraction: float = 1.0
    releases: tuple[str | int, ...] | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.at_h) and self.at_h >= 0):
            raise ScenarioError(f"termination: at_h = {self.at_h!r}; expected hours after start, >= 0")
        if not (0.0 < self.fraction <= 1.0):
            raise ScenarioError(
                f"termination: fraction = {self.fraction!r}; expected the fraction of the emission removed, in (0, 1]"
            )
        if self.releases is not None:
            rel = tuple(self.releases)
            if not rel:
                raise ScenarioError("termination: releases is an empty list; leave it out to cut every release")
            for r in rel:
                if isinstance(r, bool) or not isinstance(r, int | str):
                    raise ScenarioError(f"termination: releases entry {r!r}; expected a release name or index")
            object.__setattr__(self, "releases", rel)

    @property
    def multiplier(self) -> float:
        """What is left of the emission after the cut, ``1 - fraction``. [-]"""
        return 1.0 - float(self.fraction)

    def groups(self, group_names: Sequence[str]) -> NDArray[np.int64]:
        """Indices of the release groups this cut applies to.

        ``group_names[g]`` is the name of release group ``g`` (the runner's groups are
        the scenario's releases, in order). Integers (or digit strings that are not a
        release name) are indices.

        Raises
        ------
        ScenarioError
            A name that is no release, or an index out of range.
        """
        names = [str(n) for n in group_names]
        if self.releases is None:
            return np.arange(len(names), dtype=np.int64)
        out: list[int] = []
        for item in self.releases:
            if isinstance(item, str) and item in names:
                out.append(names.index(item))
                continue
            if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
                i = int(item)
                if 0 <= i < len(names):
                    out.append(i)
                    continue
                raise ScenarioError(
                    f"termination: release index {i} is out of range; the scenario has {len(names)} release(s)"
                )
            raise ScenarioError(f"termination: no release named {item!r}; the releases are {names}")
        return np.asarray(sorted(set(out)), dtype=np.int64)

    def tag_weights(
        self,
        tag_start_h: ArrayLike,
        tag_end_h: ArrayLike,
        tag_group: ArrayLike,
        group_names: Sequence[str],
    ) -> NDArray[np.float64]:
        """Multiplier of each emission tag under this cut. [-]

        Parameters
        ----------
        tag_start_h, tag_end_h : (n_tags,)
            Emission window ``[start, end)`` of each tag, hours after start. [h]
        tag_group : (n_tags,)
            Release group of each tag.
        group_names : names of the release groups (``ReceptorExposure.group_names``).

        Returns
        -------
        numpy.ndarray, (n_tags,)
            ``1 - fraction`` for the tags of the cut groups that start at or after
            ``at_h``, 1 elsewhere.

        Raises
        ------
        ScenarioError
            ``at_h`` falls strictly inside a tag of a cut group (the cut would not
            be exact; the run needs a tag edge at ``at_h``).

        Examples
        --------
        >>> Termination(6.0).tag_weights([0, 6, 12], [6, 12, 72], [0, 0, 0], ["fleet"]).tolist()
        [1.0, 0.0, 0.0]
        """
        start = np.asarray(tag_start_h, dtype=float)
        end = np.asarray(tag_end_h, dtype=float)
        group = np.asarray(tag_group, dtype=np.int64)
        if not (start.shape == end.shape == group.shape and start.ndim == 1):
            raise ValueError(
                f"tag_start_h, tag_end_h, tag_group have shapes {start.shape}, {end.shape}, {group.shape}; "
                "expected three equal 1-D shapes"
            )
        mine = np.isin(group, self.groups(group_names))
        at = float(self.at_h)
        inside = mine & (start < at - TAG_EDGE_TOL_H) & (end > at + TAG_EDGE_TOL_H)
        if inside.any():
            i = int(np.flatnonzero(inside)[0])
            raise ScenarioError(
                f"termination at {at:g} h falls inside emission tag {i} [{start[i]:g}, {end[i]:g}) h of release "
                f"{group_names[group[i]]!r}; the run must have a tag edge at {at:g} h (pass it to the runner's "
                "exposure_tags_h)"
            )
        w = np.ones(start.shape, dtype=float)
        w[mine & (start >= at - TAG_EDGE_TOL_H)] = self.multiplier
        return w

    def apply_to_scenario(self, scenario: Scenario) -> Scenario:
        """A copy of ``scenario`` with this cut written into its releases (for a
        direct rerun; the scenario itself is unchanged).

        A full stop sets ``stop_h = min(stop_h, at_h)``; a partial cut (or a stop at
        or before the release's own start) multiplies the release's piecewise-linear
        profile by ``1 - fraction`` from ``at_h`` on (a step in the profile: ``at_h``
        given twice); the release's emission is integrated exactly, so the rerun
        emits what the tag weights say.
        """
        names = [_release_label(r, i) for i, r in enumerate(scenario.releases)]
        groups = set(self.groups(names).tolist())
        new = []
        for i, rel in enumerate(scenario.releases):
            data = rel.model_dump(mode="python")
            if i in groups:
                if self.fraction >= 1.0 and self.at_h > rel.start_h:
                    stop = rel.stop_h
                    data["stop_h"] = float(self.at_h) if stop is None else min(float(stop), float(self.at_h))
                else:
                    data["profile"] = cut_profile(rel.profile, float(self.at_h), self.multiplier)
            new.append(data)
        return scenario.replace(releases=new)


def cut_profile(
    profile: Sequence[tuple[float, float]] | None, at_h: float, multiplier: float
) -> list[tuple[float, float]]:
    """A piecewise-linear profile ``[[hour, factor], ...]`` equal to ``profile`` before
    ``at_h`` and to ``multiplier x profile`` after it: ``at_h`` appears twice, the
    factor before the step and the one after it.

    ``None`` is the constant profile 1. Profiles are constant beyond their ends
    (``numpy.interp``), so the result is too.

    >>> cut_profile([(0, 0.0), (10, 1.0)], 5.0, 0.5)
    [(0.0, 0.0), (5.0, 0.5), (5.0, 0.25), (10.0, 0.5)]
    """
    pts = [(0.0, 1.0)] if profile is None else [(float(h), float(f)) for h, f in profile]
    hours = np.array([h for h, _ in pts])
    facs = np.array([f for _, f in pts])
    out = [(h, f) for h, f in pts if h < at_h]
    # the factor just before the cut: the left limit where the profile itself steps at at_h
    left = [f for h, f in pts if h == at_h]
    out.append((at_h, left[0] if left else float(np.interp(at_h, hours, facs))))
    out.append((at_h, multiplier * (left[-1] if left else float(np.interp(at_h, hours, facs)))))
    out += [(h, multiplier * f) for h, f in pts if h > at_h]
    return out


def combined_tag_weights(
    terminations: Sequence[Termination],
    tag_start_h: ArrayLike,
    tag_end_h: ArrayLike,
    tag_group: ArrayLike,
    group_names: Sequence[str],
) -> NDArray[np.float64]:
    """Product of the tag multipliers of several cuts (ones when there are none). [-]"""
    w = np.ones(np.asarray(tag_start_h).shape, dtype=float)
    for t in terminations:
        w *= t.tag_weights(tag_start_h, tag_end_h, tag_group, group_names)
    return w
