"""Statistics over ensemble members and the comparison's output files.

Everything here works on the small per-member results gathered by
:func:`plumecast.ensemble.compare.run_members` (arrays of one value per member,
plan and receptor) and on the exceedance counts already summed on the workers.
Intervals are empirical 5-95 % quantiles over members (linear interpolation
between order statistics, numpy's default); lives saved are paired by member
(``baseline[m] - plan[m]``), so the spread that both plans share cancels.

Files keep full values; the Markdown and HTML tables show two significant
figures with their interval (DESIGN.md, "Honest numbers").
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.ensemble.compare import LEVELS, RawComparison
from plumecast.fileio import atomic_path

Q = (5.0, 50.0, 95.0)


def quantiles(x: NDArray[np.float64]) -> tuple[float, float, float]:
    """(5 %, median, 95 %) of the finite values; NaN if there are none."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    q = np.percentile(x, Q)
    return (float(q[0]), float(q[1]), float(q[2]))


def sig2(x: float) -> str:
    """Two significant figures with thousands separators; 'unknown' for NaN.

    >>> [sig2(v) for v in (1234567.0, 0.012345, 0.0, 98.7, float("nan"))]
    ['1,200,000', '0.012', '0', '99', 'unknown']
    """
    if x is None or not math.isfinite(x):
        return "unknown"
    if x == 0:
        return "0"
    digits = 1 - int(math.floor(math.log10(abs(x))))
    r = round(x, digits)
    if digits <= 0:
        return f"{int(r):,}"
    return f"{r:.{digits}f}"


def with_interval(q: tuple[float, float, float]) -> str:
    """'median (5 %-95 %)' in two significant figures."""
    if not math.isfinite(q[1]):
        return "unknown"
    if q[0] == q[2]:
        return sig2(q[1])
    return f"{sig2(q[1])} ({sig2(q[0])}–{sig2(q[2])})"


@dataclass
class Summary:
    raw: RawComparison
    plans: list[str]
    totals: dict[str, NDArray[np.float64]]  # plan -> total fatalities per member
    unknown: dict[str, NDArray[np.int64]]  # plan -> receptors with unknown fatalities per member
    saved: dict[str, NDArray[np.float64]]  # plan -> lives saved vs baseline per member (paired)
    receptor_names: list[str]
    per_city: list[dict[str, Any]]  # rows: one per (city, plan)
    delay_rows: list[dict[str, Any]]
    probability: xr.Dataset | None

    @property
    def n_members(self) -> int:
        return len(self.raw.members)


def _stack(raw: RawComparison, plan: str, attr: str) -> NDArray[np.float64]:
    return np.stack([np.asarray(getattr(m.outcomes[plan], attr), dtype=float) for m in raw.members])


def summarise(raw: RawComparison, receptor_names: list[str]) -> Summary:
    """Statistics over members for every plan (the baseline is the first plan)."""
    plans = [p.name for p in raw.setup.plans]
    base = plans[0]
    totals = {p: np.array([m.outcomes[p].total_fatalities for m in raw.members]) for p in plans}
    unknown = {p: np.array([m.outcomes[p].n_unknown for m in raw.members], dtype=np.int64) for p in plans}
    saved = {p: totals[base] - totals[p] for p in plans}
    rows: list[dict[str, Any]] = []
    n = len(raw.members)
    for p in plans:
        ex2, ex3 = _stack(raw, p, "exceed2"), _stack(raw, p, "exceed3")
        a2, a3 = _stack(raw, p, "arrival2_s") / 3600.0, _stack(raw, p, "arrival3_s") / 3600.0
        fat = _stack(raw, p, "fatalities")
        front = _stack(raw, p, "front_arrival_s") / 3600.0
        for r, name in enumerate(receptor_names):
            known = np.isfinite(ex2[:, r])
            k3 = np.isfinite(ex3[:, r])
            both = np.isfinite(front[:, r])
            margin = a3[:, r] - front[:, r]  # > 0: the front arrives before AEGL-3
            rows.append({
                "city": name, "plan": p, "members": n,
                "p_aegl2": float(ex2[known, r].mean()) if known.any() else math.nan,
                "p_aegl3": float(ex3[k3, r].mean()) if k3.any() else math.nan,
                "members_unknown": int(n - known.sum()),
                **{f"aegl2_arrival_h_{k}": v for k, v in zip(("min", "median", "max"), _range(a2[:, r]), strict=True)},
                **{f"aegl3_arrival_h_{k}": v for k, v in zip(("min", "median", "max"), _range(a3[:, r]), strict=True)},
                **{f"fatalities_{k}": v for k, v in zip(("p5", "median", "p95"), quantiles(fat[:, r]), strict=True)},
                "front_arrival_h_median": quantiles(front[:, r])[1],
                "p_front_before_aegl3": (float(np.mean(np.where(np.isfinite(a3[both, r]), margin[both] > 0, True)))
                                         if both.any() else math.nan),
                "front_margin_h_median": quantiles(margin)[1],
            })
    delay: list[dict[str, Any]] = []
    for p in plans:
        curves = [m.delay_termination.get(p) for m in raw.members]
        if all(c is not None for c in curves) and curves:
            arr = np.stack([np.asarray(c) for c in curves])
            for j, h in enumerate(raw.setup.delay_h):
                q = quantiles(arr[:, j])
                delay.append({"plan": p, "varied": "termination", "time_h": h,
                              "fatalities_p5": q[0], "fatalities_median": q[1], "fatalities_p95": q[2]})
        ign = [m.delay_ignition.get(p) for m in raw.members]
        if all(d is not None for d in ign) and ign:
            for h in sorted(ign[0]):  # type: ignore[arg-type]
                q = quantiles(np.array([d[h] for d in ign]))  # type: ignore[index]
                delay.append({"plan": p, "varied": "ignition", "time_h": h,
                              "fatalities_p5": q[0], "fatalities_median": q[1], "fatalities_p95": q[2]})
    prob = None
    if raw.counts is not None and raw.grid_lat is not None and raw.grid_lon is not None:
        data = np.stack([raw.counts[p] for p in plans]).astype(np.float64) / max(n, 1)
        prob = xr.Dataset(
            {"probability": (("plan", "level", "lat", "lon"), data, {
                "units": "1", "long_name": "fraction of ensemble members in which the cell's near-surface air "
                "reaches the AEGL (duration-dependent, from the gridded interval means)"})},
            coords={"plan": plans, "level": [f"AEGL-{lv}" for lv in LEVELS],
                    "lat": ("lat", raw.grid_lat, {"units": "degrees_north", "standard_name": "latitude"}),
                    "lon": ("lon", raw.grid_lon, {"units": "degrees_east", "standard_name": "longitude"})},
            attrs={"Conventions": "CF-1.8", "members": n,
                   "title": f"plumecast comparison: probability of exceeding AEGL-2/3 ({n} members)"})
    return Summary(raw, plans, totals, unknown, saved, receptor_names, rows, delay, prob)


def _range(x: NDArray[np.float64]) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    return (float(x.min()), float(np.median(x)), float(x.max()))


# --------------------------------------------------------------------------- tables


def decision_rows(s: Summary) -> list[dict[str, Any]]:
    """One row per plan: full values."""
    rows = []
    for p in s.plans:
        f, sv = quantiles(s.totals[p]), quantiles(s.saved[p])
        rows.append({"plan": p, "members": s.n_members,
                     "fatalities_p5": f[0], "fatalities_median": f[1], "fatalities_p95": f[2],
                     "lives_saved_p5": sv[0], "lives_saved_median": sv[1], "lives_saved_p95": sv[2],
                     "receptors_unknown_max": int(s.unknown[p].max()) if s.unknown[p].size else 0})
    return rows


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    out = [",".join(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, float):
                cells.append("" if not math.isfinite(v) else repr(v))
            else:
                t = str(v)
                cells.append(f'"{t}"' if ("," in t or '"' in t) else t)
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _display_tables(s: Summary, cities: list[str] | None) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    head = ["plan", "expected fatalities, median (5–95 %)", "lives saved vs do nothing (5–95 %)",
            "receptors with unknown population"]
    body = []
    for r in decision_rows(s):
        body.append([r["plan"], with_interval((r["fatalities_p5"], r["fatalities_median"], r["fatalities_p95"])),
                     "—" if r["plan"] == s.plans[0] else
                     with_interval((r["lives_saved_p5"], r["lives_saved_median"], r["lives_saved_p95"])),
                     str(r["receptors_unknown_max"])])
    chead = ["city", "plan", "P(AEGL-2)", "P(AEGL-3)", "AEGL-3 reached, h (earliest–latest)",
             "fatalities (5–95 %)", "front arrives, h", "front before AEGL-3"]
    cbody = []
    for r in s.per_city:
        if cities is not None and r["city"] not in cities:
            continue
        a = (r["aegl3_arrival_h_min"], r["aegl3_arrival_h_median"], r["aegl3_arrival_h_max"])
        cbody.append([r["city"], r["plan"], _pct(r["p_aegl2"]), _pct(r["p_aegl3"]),
                      "never" if not math.isfinite(a[1]) else f"{sig2(a[0])}–{sig2(a[2])}",
                      with_interval((r["fatalities_p5"], r["fatalities_median"], r["fatalities_p95"])),
                      "—" if not math.isfinite(r["front_arrival_h_median"]) else sig2(r["front_arrival_h_median"]),
                      _pct(r["p_front_before_aegl3"]) if math.isfinite(r["p_front_before_aegl3"]) else "—"])
    return head, body, chead, cbody


def _pct(p: float) -> str:
    return "unknown" if not math.isfinite(p) else f"{sig2(100.0 * p)} %"


def markdown(s: Summary, cities: list[str] | None = None) -> str:
    head, body, chead, cbody = _display_tables(s, cities)

    def table(h: list[str], b: list[list[str]]) -> str:
        lines = ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in b]
        return "\n".join(lines)

    sc = s.raw.setup.scenario
    return (f"# {sc.name}: which plan saves the most people\n\n"
            f"{s.n_members} ensemble members, {sc.particles:,} particles each; intervals are 5–95 % over members; "
            "lives saved are paired by member. Two significant figures; full values in decision_table.csv.\n\n"
            + table(head, body) + "\n\n## Cities\n\n" + table(chead, cbody) + "\n")


def html_page(s: Summary, cities: list[str] | None = None) -> str:
    head, body, chead, cbody = _display_tables(s, cities)

    def table(h: list[str], b: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(c)}</th>" for c in h)
        trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in b)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"

    sc = s.raw.setup.scenario
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #999;padding:4px 8px;text-align:left}th{background:#eee}")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(sc.name)}: plans"
            f"</title><style>{style}</style></head><body><h1>{html.escape(sc.name)}: which plan saves the most people"
            f"</h1><p>{s.n_members} ensemble members, {sc.particles:,} particles each; intervals are 5–95 % over "
            "members; lives saved are paired by member. Two significant figures; full values in decision_table.csv."
            f"</p>{table(head, body)}<h2>Cities</h2>{table(chead, cbody)}</body></html>\n")


# --------------------------------------------------------------------------- files


def write_outputs(s: Summary, outdir: str | Path, *, cities: list[str] | None = None, pngs: bool = True) -> list[Path]:
    """decision_table.csv/.md/.html, cities.csv, members.csv, cost_of_delay.csv/.png,
    exceedance_probability.nc and one PNG map per plan and level."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [
        _write_text(outdir / "decision_table.csv", _csv(decision_rows(s))),
        _write_text(outdir / "decision_table.md", markdown(s, cities)),
        _write_text(outdir / "decision_table.html", html_page(s, cities)),
        _write_text(outdir / "cities.csv", _csv(s.per_city)),
    ]
    member_rows = []
    for k, m in enumerate(s.raw.members):
        row: dict[str, Any] = {"member": m.index, "spec": s.raw.specs[k].describe(), "runs": m.runs, "wall_s": m.wall_s}
        for p in s.plans:
            row[f"fatalities[{p}]"] = s.totals[p][k]
            row[f"lives_saved[{p}]"] = s.saved[p][k]
        member_rows.append(row)
    written.append(_write_text(outdir / "members.csv", _csv(member_rows)))
    if s.delay_rows:
        written.append(_write_text(outdir / "cost_of_delay.csv", _csv(s.delay_rows)))
        if pngs:
            written.append(_plot_delay(s, outdir / "cost_of_delay.png"))
    if s.probability is not None:
        path = outdir / "exceedance_probability.nc"
        with atomic_path(path) as tmp:
            s.probability.to_netcdf(tmp)
        written.append(path)
        if pngs:
            written += _plot_maps(s, outdir)
    return written


def _plot_delay(s: Summary, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key in sorted({(r["plan"], r["varied"]) for r in s.delay_rows}):
        rows = [r for r in s.delay_rows if (r["plan"], r["varied"]) == key]
        h = [r["time_h"] for r in rows]
        ax.plot(h, [r["fatalities_median"] for r in rows], marker="o", ms=3, label=f"{key[0]}: {key[1]} time")
        ax.fill_between(h, [r["fatalities_p5"] for r in rows], [r["fatalities_p95"] for r in rows], alpha=0.2)
    base = quantiles(s.totals[s.plans[0]])
    ax.axhline(base[1], color="k", lw=1, ls="--", label=f"{s.plans[0]} (median)")
    ax.set_xlabel("hours after the release start")
    ax.set_ylabel("expected fatalities (median, 5–95 %)")
    ax.set_title(f"{s.raw.setup.scenario.name}: the cost of delay ({s.n_members} members)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def _plot_maps(s: Summary, outdir: Path) -> list[Path]:
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
            out.append(plot_concentration_map(
                field.drop_vars(["plan", "level"]), path, title=f"{p}: probability of reaching {lv} "
                f"({s.n_members} members)", units_label="fraction of members", log_scale=False, vmin=1e-9))
    return out
