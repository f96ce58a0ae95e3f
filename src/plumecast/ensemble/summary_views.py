"""What a comparison shows beyond its tables' text (:mod:`plumecast.ensemble.summary`):
the console's rich tables, split into parts that fit the terminal, and the PNG figures,
the cost-of-delay chart and the probability maps.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from plumecast.ensemble.summary import (
    CONSOLE_CITIES,
    Summary,
    cities_by_plan_display,
    decision_display,
)
from plumecast.ensemble.summary_text import (
    ONE_MEMBER,
    SPREAD_MEMBERS,
    deaths_spread,
    later_releases_text,
    probit_sets,
)
from plumecast.fileio import atomic_path
from plumecast.numbers import clock, people
from plumecast.table_parts import split_table


def console_tables(s: Summary, cities: list[str] | None = None, width: int | None = None,
                   top: int | None = CONSOLE_CITIES) -> list[Any]:
    """Rich tables for the terminal: the decision table and the compact cities table (the
    first ``top`` cities in :func:`plumecast.ensemble.summary.city_order`; None: all), each
    split into parts whose columns fit ``width`` characters (the console's; None: not split)."""
    out = []
    spread = deaths_spread(s)
    cities_table = cities_by_plan_display(s, cities, top)
    n_all = len(cities_by_plan_display(s, cities)[1]) if top is not None else len(cities_table[1])
    shown = (f"the first {len(cities_table[1])} of {n_all}, ranked; all in cities.csv and decision_table.md"
             if len(cities_table[1]) < n_all else "ranked; details per plan in decision_table.md")
    for title, (h, b) in (("Which plan saves the most people" + (f" ({ONE_MEMBER})" if s.single else ""),
                           decision_display(s)),
                          (f"Cities: expected fatalities per plan, {spread}; {shown}", cities_table)):
        # an arrival range: its clock times on one line, the time from the issue on the next (where
        # the terminal is wide enough, each line whole: not "in 23 min – 1" then "h 03 min")
        arrival = [i for i, c in enumerate(h) if c.startswith("AEGL-2 arrives")]
        b = [[c.replace(" (", "\n(", 1) if i in arrival else c for i, c in enumerate(row)] for row in b]
        # wrap between words only: a number is never cut in two (table_parts.split_table)
        out.extend(split_table(title, h, b, width))
    return out


def plot_delay(s: Summary, path: Path) -> Path:
    """cost_of_delay.png: each varied plan's expected fatalities against the time of its
    termination (or ignition), on a log axis in people (values below one drawn at one and
    labelled "< 1"), with the forecast's issue time and the plan's own time marked and the
    times already past at the issue shaded. A linear axis with an "1e8" offset had drawn the
    demo's 680,000 deaths on its zero line and hours 0-10 as free (decision audit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    def floor1(v: Any) -> Any:
        return np.maximum(np.asarray(v, dtype=float), 1.0)

    fig, ax = plt.subplots(figsize=(12.0, 5.2))
    sc = s.raw.setup.scenario
    plans = {pl.name: pl for pl in s.raw.setup.plans}
    for key in sorted({(r["plan"], r["varied"]) for r in s.delay_rows}):
        rows = [r for r in s.delay_rows if (r["plan"], r["varied"]) == key]
        h = np.array([r["time_h"] for r in rows], dtype=float)
        med = floor1([r["fatalities_median"] for r in rows])
        line, = ax.plot(h, med, marker="o", ms=3, label=f"{key[0]}: {key[1]} at the time on the axis")
        ax.fill_between(h, floor1([r["fatalities_p5"] for r in rows]), floor1([r["fatalities_p95"] for r in rows]),
                        alpha=0.2, color=line.get_color())
        plan = plans.get(key[0])
        kind = "termination" if key[1] == "termination" else "front"
        own = [float(getattr(m, "at_h" if kind == "termination" else "ignition_h", math.nan))
               for m in (plan.measures if plan is not None else []) if getattr(m, "type", None) == kind]
        for t in own[:1]:
            if math.isfinite(t) and h.size and h.min() <= t <= h.max():
                ax.plot([t], [float(np.interp(t, h, med))], marker="*", ms=12, color=line.get_color(),
                        label=f"{key[0]}: its own {key[1]} time ({t:g} h)")
    base = s.fatalities_q(s.plans[0])
    ax.axhline(max(base[1], 1.0), color="k", lw=1, ls="--", label=f"{s.plans[0]} (median)")
    if sc is not None:
        issued_h = float((sc.issued64 - sc.start64) / np.timedelta64(1, "s")) / 3600.0
        lo = min([r["time_h"] for r in s.delay_rows] + [0.0])
        if issued_h > lo:
            ax.axvspan(lo, issued_h, color="0.85", zorder=0, label="already past at the forecast's issue")
        ax.axvline(issued_h, color="0.3", lw=1, ls=":", label=f"forecast issued ({clock(sc.issued64)})")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "< 1" if v <= 1.0 else people(v)))
    ax.set_ylim(bottom=0.8)
    start = "" if sc is None else f" ({clock(sc.start64)}{later_releases_text(sc)})"
    ax.set_xlabel(f"hours after the release start{start}:\nwhen the plan's measure is taken")
    # the band of fewer than 21 members is their lowest and highest (summary_text.quantiles); the label had said
    # 5-95 % for three members (outputs audit, session 35)
    band = ("5–95 %" if s.n_members >= SPREAD_MEMBERS else "lowest–highest member") + (
        " and probit set" if probit_sets(s) else "")
    ax.set_ylabel(f"expected fatalities ({deaths_spread(s)})" if s.single else f"expected fatalities (median, {band})")
    ax.set_title(f"{sc.name if sc is not None else 'comparison'}: the cost of delay ("
                 + (ONE_MEMBER if s.single else f"{s.n_members} members") + ")")
    # beside the axes: inside, it had covered a plan's star (plans audit)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def plot_maps(s: Summary, outdir: Path) -> list[Path]:
    from plumecast.maps import plot_concentration_map

    assert s.probability is not None
    out = []
    for p in s.plans:
        for lv in s.probability["level"].values:
            field = s.probability["probability"].sel(plan=p, level=lv)
            if float(field.max()) <= 0:
                continue
            safe = "".join(ch if ch.isalnum() else "_" for ch in p).strip("_")
            path = outdir / f"probability_{str(lv).replace('-', '').lower()}_{safe}.png"
            if s.single:  # 0 or 1: where the one run reaches the level, not a probability
                title, units = f"{p}: where {lv} is reached outdoors ({ONE_MEMBER})", "reached (1) or not (0)"
            else:
                title, units = (f"{p}: probability of reaching {lv} outdoors ({s.n_members} members)",
                                "fraction of members" if s.n_members >= SPREAD_MEMBERS else "members reaching it")
            units += ", grid-cell means"
            # fewer than 21 members: a colour per count of them ("1 of 3"), not a continuous scale
            out.append(plot_concentration_map(
                field.drop_vars(["plan", "level"]), path, title=title, units_label=units, log_scale=False, vmin=1e-9,
                vmax=1.0, members=None if s.single or s.n_members >= SPREAD_MEMBERS else s.n_members))
    return out
