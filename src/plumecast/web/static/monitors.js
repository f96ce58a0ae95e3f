// plumecast situation room: the city monitors and the totals of people.
import * as N from "./numbers.js";
import {
  $, MONITOR_ROWS, state, el, clear, emptyBody, placeName, fin, tNow, single, nSets, countdownRef, refText, wholeForecast, timeText, originText, levelAt, shareOf, metricAt, countdownCell, clockAt, reached, savedText, hooks, focusedId, refocus,
} from "./core.js";

// ------------------------------------------------------------------ monitors and totals

export function drawMonitors() {
  const v = state.view;
  const focused = focusedId($("monitors").querySelector("tbody"));
  const body = emptyBody("monitors");
  if (!v) return;
  const t = tNow();
  const ref = countdownRef(t);
  const plan = v.kind === "plan" && !v.pct3;
  const one = plan && single();
  // a plan's share is the whole forecast's, beside totals at the slider time: its header says so ("20 of 20" at the
  // issue time beside "0 cities past AEGL-3" read as a contradiction; audit 42, #9)
  $("mon-metric").textContent = one ? "AEGL-3 reached, whole forecast" : plan ? "P(AEGL-3), whole forecast" : "% AEGL-3";
  $("monitors").dataset.countdownFrom = ref.from;
  // a front column only where the view has a neutralisation front (a run without one had shown a
  // column of "—" and "unknown"; web audit)
  const hasFront = v.receptors.some((r) => fin(r.front_s)) || !!(v.layers && v.layers.front);
  $("mon-front").hidden = !hasFront;
  const rows = v.receptors.map((r) => ({ r, m: metricAt(r) }));
  // ties (the same P(AEGL-3), or "no" in one member) fall to the earlier AEGL-3, then to the more
  // deaths, then (a plan) to the larger P(AEGL-2), then to the earlier AEGL-2: the wall had shown three
  // cities of < 1 death each and left off one of 1,500 deaths whose AEGL-2 had passed (web audit).
  // Deaths as people read them: one or more by their count, every "< 1" alike (1e-24 had ranked a city
  // with AEGL-2 in 25 min below cities reaching nothing), and unknown deaths (population unknown) above
  // a known "< 1", not below it: unknown is not less than zero, and decision_table.md ranks it so (a depot
  // reaching AEGL-2 in 1 of 3 members had dropped out of the monitors; page audit, session 35)
  const deaths = (r) => {
    const d = plan ? (r.ensemble && r.ensemble.fatalities ? r.ensemble.fatalities[1] : NaN) : r.fatalities;
    if (!r.known) return -1;
    return fin(d) ? (d >= 1 ? d : 0) : 0.5;
  };
  const p2 = (r) => (plan && r.ensemble && fin(r.ensemble.p_aegl2) ? r.ensemble.p_aegl2 : -1);
  const at = (r, lv) => (fin(r.first && r.first[lv]) ? r.first[lv] : Infinity);
  // A run's cities by the highest level reached by the slider time first (unknown between "none" and AEGL-1: not
  // zero), the cities not reached yet by their nearest arrival, then by the % of AEGL-3 now and the highest so far:
  // ranked by the % now alone, the wall had dropped Duisburg (AEGL-3, every death of the run) once the plume had
  // passed, and filled its rows with unaffected capitals at "0 %" (situation-room audit 42). A plan shown from its
  // table keeps its whole-forecast P(AEGL-3) first.
  const tier = (r) => { const lv = levelAt(r, t); return lv === "u" ? 0.5 : Number(lv); };
  const until = fin(t) ? t : -Infinity;
  const next = (r) => Math.min(...["1", "2", "3"].map((lv) => at(r, lv)).filter((x) => x > until), Infinity);
  const peak = (r) => peakSoFar(v, r);
  const runKeys = plan ? [] : [(r) => -tier(r), (r) => (tier(r) < 1 ? next(r) : 0), (r) => -orNeg(metricAt(r)),
    (r) => -orNeg(peak(r)), next];
  const rest = [(r) => -orNeg(metricAt(r)), (r) => at(r, "3"), (r) => -deaths(r), (r) => -p2(r), (r) => at(r, "2")];
  // Which rows are kept when there are more than MONITOR_ROWS: the same order, with the expected deaths moved up to
  // right after the level (a run: reached by the slider time, the cities not reached yet by their nearest arrival,
  // so that the cities hit or about to be hit stay) or the P(AEGL-3) (a plan): among 16 cities certain to reach
  // AEGL-3, the cut had kept Seoul (1.1 million expected deaths) and hidden Tianjin (2.0 million), which reaches it
  // last (audit 42, #10). The rows kept are then shown in the order above.
  const keep = plan ? [rest[0], rest[2], rest[1], rest[3], rest[4]]
    : [runKeys[0], runKeys[1], rest[2], ...runKeys.slice(2), ...rest];
  const order = (keys) => (a, b) => {
    for (const key of keys) {
      const ka = key(a.r), kb = key(b.r);
      if (ka !== kb) return ka - kb;
    }
    return 0;
  };
  rows.sort(order(keep));
  const hidden = rows.slice(MONITOR_ROWS).map((x) => x.r);
  const shown = rows.slice(0, MONITOR_ROWS).sort(order([...runKeys, ...rest]));
  for (const { r, m } of shown) {
    const lv = levelAt(r, t);
    // a stop of the Tab order: Enter or space opens the city (a row answered only a click; audit 42)
    const tr = el("tr", { class: "monitor", "data-name": r.name, "data-id": String(r.id), tabindex: "0" });
    const name = el("td");
    name.appendChild(el("span", { class: `chip l${lv}` }));
    name.appendChild(document.createTextNode(placeName(r)));
    tr.appendChild(name);
    const metric = el("td", { class: "metric" },
      !r.known ? N.UNKNOWN : one ? reached(m) : plan && r.ensemble ? shareOf(r.ensemble, "3") : N.percent(m));
    if (fin(m) && !one) {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.min(m, 100)}%`;
      metric.appendChild(bar);
    }
    // a run's city past its peak: the highest so far beside the % now ("0 %" alone read as unaffected)
    const top = plan ? NaN : peak(r);
    if (r.known && fin(top) && fin(m) && top > m && N.percent(top) !== N.percent(m)) {
      metric.appendChild(el("span", { class: "peak" }, ` (peak so far ${N.percent(top)})`));
    }
    tr.appendChild(metric);
    const cells = [["countdown-aegl2", r.first && r.first["2"]], ["countdown-aegl3", r.first && r.first["3"]]];
    if (hasFront) cells.push(["countdown-front", r.front_s]);
    for (const [cls, sec] of cells) {
      const c = countdownCell(r, sec, ref, cls === "countdown-aegl2" ? "2" : cls === "countdown-aegl3" ? "3" : null);
      tr.appendChild(el("td", { class: cls + (c.passed ? " passed" : "") }, c.text));
    }
    tr.addEventListener("click", () => hooks.selectReceptor(r.id));
    tr.addEventListener("keydown", (ev) => {
      if (ev.target === tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); hooks.selectReceptor(r.id); }
    });
    body.appendChild(tr);
  }
  refocus(body, focused);
  $("monitors-note").textContent = (one
    ? "One member (no ensemble): whether that run reaches AEGL-3 at any time in the whole forecast (not by the slider time, unlike the totals and the disc colours), not a probability; countdowns to that run's arrival (they err early)."
    : plan
      ? "Ranked by the share of ensemble members reaching AEGL-3 at any time in the whole forecast (not by the slider time, unlike the totals and the disc colours); countdowns to the earliest member's arrival (they err early)."
      : wholeForecast()
        ? "The folder has no time steps: ranked by the highest level reached, then by the highest % of AEGL-3 over the whole forecast (consequences.nc); countdowns to the earliest the air can reach a level, from a bound of the air within each interval (they err early, never late)."
        : "Ranked by the highest level reached by the slider time (a city once reached stays listed), the cities not reached yet by their nearest arrival, then by the highest % of AEGL-3 in the interval ending at the slider time (AEGL for the elapsed exposure) and the highest so far; countdowns to the earliest the air can reach a level, from a bound of the air within each interval (they err early, never late).")
    + ` Countdowns run from ${refText(ref)}; times UTC${v.start ? "" : `; ${originText()}`}.`
    + ` "—": not reached ${forecastEndText(v)}, which is not "safe" after it.`
    + hiddenText(hidden, t, plan, one);
  $("monitors-note").dataset.hidden = String(hidden.length);
}

// What the rows left out hold, so that a planner knows whether to search: how many reach which level (a run: over the
// whole forecast, and how many by the slider time; a plan: in some member) and the most expected deaths among them,
// with the first of them in the ranking (the note had said only "6 more receptors: use the search", over a city
// certain to reach AEGL-3 with 1.1 million expected deaths; audit 42, #10).
function hiddenText(hidden, t, plan, one) {
  if (!hidden.length) return "";
  const count = (n, what) => `${what} at ${n}`;
  const parts = [];
  if (plan) {
    const p = (r, lv) => (r.ensemble ? r.ensemble[lv === "3" ? "p_aegl3" : "p_aegl2"] : NaN);
    const reach3 = hidden.filter((r) => r.known && fin(p(r, "3")) && p(r, "3") > 0);
    const reach2 = hidden.filter((r) => r.known && !reach3.includes(r) && fin(p(r, "2")) && p(r, "2") > 0);
    const none = hidden.filter((r) => r.known && !reach3.includes(r) && !reach2.includes(r) && fin(p(r, "2")) && fin(p(r, "3")));
    const top = reach3.reduce((a, r) => (a && p(a, "3") >= p(r, "3") ? a : r), null);
    const member = one ? "" : " in some member";
    if (reach3.length) parts.push(`${reach3.length} ${reach3.length === 1 ? "reaches" : "reach"} AEGL-3${member}`
      + (top && !one ? ` (the most: ${placeName(top)}, in ${shareOf(top.ensemble, "3")})` : ""));
    if (reach2.length) parts.push(`${reach2.length} AEGL-2${member} but not AEGL-3`);
    if (none.length) parts.push(`${none.length} neither`);
    const unknown = hidden.length - reach3.length - reach2.length - none.length;
    if (unknown) parts.push(`${unknown} ${N.UNKNOWN}`);
  } else {
    for (const lv of ["3", "2", "1"]) {
      const all = hidden.filter((r) => levelAt(r, NaN) === lv);
      const now = fin(t) ? all.filter((r) => levelAt(r, t) === lv).length : all.length;
      if (all.length) parts.push(count(all.length, `AEGL-${lv}`) + (now !== all.length ? ` (${now} by the slider time)` : ""));
    }
    const none = hidden.filter((r) => levelAt(r, NaN) === "0").length;
    const unknown = hidden.filter((r) => levelAt(r, NaN) === "u").length;
    if (none) parts.push(count(none, "no level"));
    if (unknown) parts.push(count(unknown, N.UNKNOWN));
  }
  const dead = (r) => (plan ? (r.ensemble && r.ensemble.fatalities ? r.ensemble.fatalities[1] : NaN) : r.fatalities);
  const known = hidden.filter((r) => r.known && fin(dead(r)));
  const most = known.reduce((a, r) => (a && dead(a) >= dead(r) ? a : r), null);
  const unknownDeaths = hidden.length - known.length;
  const deaths = most ? `; the most expected deaths among them${plan && !one ? " (median over members)" : ""}: `
    + `${N.people(dead(most))}${dead(most) >= 1 ? ` (${placeName(most)})` : ""}` : "";
  const whole = plan ? "over the whole forecast, " : "their highest level in the whole forecast: ";
  return ` ${hidden.length} more receptors not shown (use the search); ${whole}${parts.join(", ")}${deaths}`
    + (unknownDeaths ? `; deaths unknown at ${unknownDeaths}` : "") + ".";
}

// The key under the map, from the levels the view assesses: a comparison's table does not assess AEGL-1, so its grey
// reads "below AEGL-2; AEGL-1 not assessed", never "below AEGL-1" (the key was fixed HTML; audit 42, #8).
export function drawMarkerKey() {
  const v = state.view;
  const box = $("marker-key");
  if (!v) return;
  clear(box);
  const text = (x) => box.appendChild(document.createTextNode(x));
  const chip = (cls, label) => { box.appendChild(el("span", { class: `chip ${cls}`, "data-key": cls })); text(`${label} `); };
  const known = v.receptors.filter((r) => r.known);
  const has = (r, lv) => Boolean(r.aegl_available && r.aegl_available[lv]);
  const assessed = ["1", "2", "3"].filter((lv) => known.some((r) => has(r, lv)));
  const earliest = v.kind === "plan" && !v.pct3 && !single() ? " (a plan: its earliest member)" : "";
  text(`Cities, by the highest AEGL reached by the slider time${earliest}: `);
  if (!assessed.length) {
    chip("lu", "unknown: no AEGL level is assessed in this view;");
  } else {
    const lowest = assessed[0];
    const under = ["1", "2"].filter((x) => Number(x) < Number(lowest)).map((x) => `AEGL-${x}`);
    // cities where only a higher level is assessed (an AEGL missing for the exposure reached there)
    const higher = known.filter((r) => !has(r, lowest) && assessed.some((lv) => has(r, lv))).length;
    chip("l0", `below AEGL-${lowest}${under.length ? `; ${under.join(", ")} not assessed` : ""}${higher
      ? ` (at ${higher} ${higher === 1 ? "city" : "cities"}: below the lowest level assessed there, the levels under it unknown)` : ""}`);
    for (const lv of assessed) chip(`l${lv}`, `AEGL-${lv}`);
    chip("lu", "unknown;");
  }
  text("disc size: population.");
}

function orNeg(x) { return fin(x) ? x : -1; }

// A run's highest % of AEGL-3 in the output intervals up to the slider's (its whole-forecast peak without per-frame
// figures); NaN where unknown.
function peakSoFar(v, r) {
  if (!v.pct3) return fin(r.peak_percent_aegl3) && wholeForecast() ? r.peak_percent_aegl3 : NaN;
  let best = NaN;
  for (let k = 0; k <= Math.min(state.k, v.pct3.length - 1); k++) {
    const x = v.pct3[k] ? v.pct3[k][r.id] : null;
    if (fin(x) && !(x <= best)) best = x;
  }
  return best;
}

// "by 1 Mar 06:00 UTC (the forecast's end)": what a "—" countdown covers (situation-room audit, session 40)
function forecastEndText(v) {
  const n = v && v.times_s ? v.times_s.length : 0;
  if (!n) return "within the forecast";
  return `by ${clockAt(v.times_s[n - 1])} (the forecast's end)`;
}


export function drawTotals() {
  const v = state.view;
  const body = emptyBody("totals");
  if (!v) return;
  const t = tNow();
  $("totals-time").textContent = fin(t) ? `at ${timeText(t)}` : wholeForecast() ? "over the whole forecast" : "";
  const row = (id, label, value) => {
    const tr = el("tr", { id });
    tr.appendChild(el("td", {}, label));
    tr.appendChild(el("td", { class: "v" }, value));
    body.appendChild(tr);
  };
  const anyAegl1 = v.receptors.some((r) => r.aegl_available && r.aegl_available["1"]);
  const citiesText = (n) => `${n} ${n === 1 ? "city" : "cities"}`;
  for (const lv of [1, 2, 3]) {
    if (lv === 1 && !anyAegl1) continue;
    // a city whose level is unknown (off the domain, or the level not assessed) is counted
    // apart: never as a city below the level
    let pop = 0, cities = 0, unknownPop = 0, unknownCities = 0, parts = 0;
    for (const r of v.receptors) {
      const l = levelAt(r, t);
      if (l !== "u" && Number(l) >= lv) {
        cities += 1;
        if (r.worst_part) parts += 1;
        if (fin(r.population)) pop += r.population; else unknownPop += 1;
      } else if (l === "u" || (r.aegl_available && r.aegl_available[String(lv)] === false)) {
        unknownCities += 1;
      }
    }
    // the cities counted include those of unknown population: "n cities, k of them ...", not "+ k"
    const unknownText = unknownPop === cities ? (cities === 1 ? ", its population unknown" : ", all of unknown population")
      : `, ${unknownPop} of them of unknown population`;
    // a city a plume crosses has the level of its most exposed part: its whole population is counted, though
    // not all of it is past the level ("500,000 past AEGL-3" beside "1 expected death"; situation-room audit 42)
    const partText = !parts ? "" : parts === cities
      ? `; ${cities === 1 ? "its level is its most exposed part's" : "their levels are their most exposed parts'"}: not all these people are past it`
      : `; ${parts} of them by their most exposed part: not all their people are past it`;
    const extra = (unknownPop ? unknownText : "") + partText +
      (unknownCities ? `; ${citiesText(unknownCities)} unknown` : "");
    // nothing known: "unknown", never a known 0 (no city figures at all: unknown too)
    const value = !v.receptors.length ? `${N.UNKNOWN} (no city figures in the folder)`
      : cities === 0 && unknownCities === v.receptors.length
        ? `${N.UNKNOWN} (${citiesText(unknownCities)} unknown)`
        // people of unknown number among them: the known sum is a lower bound ("at least"), and
        // none known is unknown, never a known 0
        : `${unknownPop ? (pop > 0 ? `at least ${N.people(pop)}` : N.UNKNOWN) : N.people(pop)} (${citiesText(cities)}${extra})`;
    row(`total-aegl${lv}`, `in cities past AEGL-${lv}${v.kind === "plan" && !v.pct3 && !single() ? " (any member)" : ""}`, value);
  }
  const tt = v.totals || {};
  if (tt.plan_fatalities) {
    const f = tt.plan_fatalities;
    const s = tt.plan_lives_saved;
    if (single()) {  // one member: that run's figure, with its probit sets' range where it has one
      const sets = nSets() ? "; range over the probit sets" : "";
      row("total-fatalities", `expected fatalities (whole forecast, one member${sets})`, N.peopleRange(f[1], f[0], f[2]));
      if (v.plan && !v.plan.baseline && s) {
        row("total-saved", `lives saved vs baseline (one member${sets})`,
          savedText(N.livesSavedRange(s[1], s[0], s[2]), tt.plan_saved_unknown));
      }
    } else {
      row("total-fatalities", `expected fatalities (whole forecast), median (5–95 %${nSets() ? " over members and probit sets" : ""})`,
        N.peopleRange(f[1], f[0], f[2]));
      if (v.plan && !v.plan.baseline && s) {
        row("total-saved", "lives saved vs baseline", savedText(N.livesSavedRange(s[1], s[0], s[2]), tt.plan_saved_unknown));
      }
    }
  } else if ("fatalities" in tt) {
    // the sum over the receptors whose deaths are known: with some unknown it is a lower bound
    // ("at least"), and with none known above zero it is unknown, never a bold 0 (web audit)
    const missing = fin(tt.receptors_unknown) && tt.receptors_unknown > 0;
    // ("< 1 where known", not "at least < 1": situation-room audit, session 40)
    const bound = (central, text) => !missing ? text : !(fin(central) && central > 0) ? N.UNKNOWN
      : text.startsWith("<") ? `${text} where known` : `at least ${text}`;
    // what the range spans and what the shelter figure assumes, from consequences.nc (the page had given
    // "1 (1–2)" and "with shelter-in-place < 1 (< 1 to 1)" without either; audit 42, #12)
    const sets = setsText(tt);
    row("total-fatalities", `expected fatalities (whole forecast${sets ? `; ${sets}` : ""})`,
      bound(tt.fatalities, N.peopleRange(tt.fatalities, tt.fatalities_low, tt.fatalities_high)));
    if (fin(tt.fatalities_sheltered)) {
      // with its range over the probit sets, as the console gives it
      row("total-sheltered", `with shelter-in-place (${shelterText(tt)})`, bound(tt.fatalities_sheltered,
        N.peopleRange(tt.fatalities_sheltered, tt.fatalities_sheltered_low, tt.fatalities_sheltered_high)));
    }
  }
  const unknown = v.receptors.filter((r) => !r.known).length;
  const parted = v.receptors.some((r) => r.worst_part);
  $("totals-note").textContent = (parted ? "A city a plume crosses has its most exposed part's level, peak and % of AEGL-3 "
    + "(consequences.csv): the people in cities past a level are whole cities' people, of whom only some may be past it; "
    + "its expected fatalities are the whole city's. " : "") + `${v.receptors.length} receptor cities` +
    (unknown ? `; ${unknown} outside the forecast domain (unknown)` : "") +
    (fin(tt.receptors_unknown) && tt.receptors_unknown ? `; fatalities unknown at ${tt.receptors_unknown}` +
      (v.kind === "plan" && !single() ? " (the most in a member)" : "") : "") + "." +
    (fin(t) ? ` ${originText()}.` : "");
}

// What a run's range of deaths spans: its probit sets, by name, as consequences.nc lists them; "" where the file does
// not say. Totals whose ranges are the sums of each city's lowest and highest set say so (wider than over the sets).
export function setsText(tt, city = false) {
  const sets = (tt && tt.probit_sets) || [];
  if (!sets.length) return "";
  if (sets.length === 1) return `the agent's one probit set (${sets[0]}): no range over sets`;
  const names = `the ${sets.length} probit sets: ${sets.join(", ")}`;
  return !city && tt.ranges_exact === false
    ? `range: the sums of each city's lowest and highest probit set, wider than over ${names}`
    : `range over ${names}`;
}

// What the "with shelter-in-place" figures assume, from consequences.nc: when the shelter begins (by clock time), the
// share of people who shelter and the buildings' air changes; "not recorded" where the file does not say.
export function shelterText(tt) {
  const sh = (tt && tt.shelter) || {};
  const comp = Number(sh.shelter_compliance_fraction), ach = Number(sh.shelter_air_changes_per_hour);
  const s = sh.shelter_start_s;
  const parts = [fin(s) ? `from ${clockAt(s)}${s <= 30 ? " (the start)" : ""}` : "start not recorded",
    fin(comp) ? `${N.percent(100 * comp)} compliance` : "compliance not recorded"];
  if (fin(ach)) parts.push(`${N.roundSig(ach)} air changes/h`);
  // receptors.points[].air_changes_per_hour: those places' own buildings ("Q 5"; audit 43, #2)
  if (sh.shelter_own_air_changes_per_hour) parts.push(`at their own rate at ${sh.shelter_own_air_changes_per_hour}`);
  return parts.join(", ");
}
