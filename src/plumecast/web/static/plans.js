// plumecast situation room: the plans side by side and the cost of delay.
import * as N from "./numbers.js";
import {
  $, state, el, svg, clear, emptyBody, fin, single, nSets, savedText, hooks, chartWidth, wrapText,
} from "./core.js";

// ------------------------------------------------------------------ plans

export function drawPlans() {
  const sm = state.summary;
  const box = $("plans");
  if (!sm.plans.length) { box.hidden = true; return; }
  box.hidden = false;
  const one = single();
  const sets = nSets() ? `; ranges over the ${nSets()} probit sets` : "";
  $("plans-members").textContent = one ? `(one member: no ensemble spread${sets})`
    : sm.members ? `(${sm.members} ensemble members${sets ? ` and ${nSets()} probit sets` : ""})` : "";
  // a plan timed before the forecast's issue is an account of a measure already under way, not an option: the
  // console and decision_table.md say so beside the ranking, and the page had shown it as an ordinary row and as
  // the plan with the fewest deaths without a word (situation-room audit 42)
  const past = sm.plans.filter((p) => p.before_issue);
  const pastNote = sm.timed_before_issue_note || (past.length
    ? `Timed before the forecast's issue: ${past.map((p) => `'${p.name}'`).join(", ")}; these figures assume the measure was carried out then, so read such a plan as an account of one already under way, not an option`
    : "");
  $("plans-past").textContent = pastNote ? `${pastNote}.` : "";
  $("plans-past").hidden = !pastNote;
  // decision_table.md's first line: which plan has the fewest expected deaths, and how sure that is
  let ranking = sm.ranking || "";
  const winner = past.find((p) => ranking.startsWith(`Fewest expected deaths: '${p.name}'`));
  if (winner) ranking = `Not an option: '${winner.name}' is timed before the forecast's issue (see above). ${ranking}`;
  $("plans-ranking").textContent = ranking;
  $("plans-ranking").hidden = !ranking;
  $("plans-ranking").classList.toggle("caveat", Boolean(winner));
  const oneHead = nSets() ? "one member; range over the probit sets" : "one member";
  $("plans-fat-head").textContent = one ? `expected fatalities (${oneHead})` : "expected fatalities, median (5–95 %)";
  $("plans-saved-head").textContent = one ? `lives saved vs baseline (${oneHead})` : "lives saved vs baseline, median (5–95 %)";
  const body = emptyBody("plans-table");
  for (const p of sm.plans) {
    const tr = el("tr", { class: "plan-row" + (state.vid === p.view ? " active" : "") + (p.before_issue ? " before-issue" : ""), "data-view": p.view });
    const pick = el("td");
    const b = el("button", { type: "button", class: "pick-plan", "data-view": p.view }, state.vid === p.view ? "shown" : "show");
    b.addEventListener("click", () => hooks.switchView(p.view));
    pick.appendChild(b);
    tr.appendChild(pick);
    const name = el("td", {}, p.name + (p.baseline ? " (baseline)" : ""));
    if (p.before_issue) name.appendChild(el("div", { class: "past-mark" }, "timed before the forecast's issue: already under way, not an option"));
    tr.appendChild(name);
    // one member has no interval (empty bounds) unless its probit sets give a range
    const range = (x) => N.peopleRange(x[1], x[0], x[2]);
    tr.appendChild(el("td", { class: "plan-fatalities" }, range(p.fatalities)));
    const saved = (x) => N.livesSavedRange(x[1], x[0], x[2]);
    tr.appendChild(el("td", { class: "plan-saved" }, p.baseline ? "—" : savedText(saved(p.lives_saved), p.saved_unknown)));
    tr.appendChild(el("td", {}, fin(p.receptors_unknown) ? String(p.receptors_unknown) : N.UNKNOWN));
    body.appendChild(tr);
  }
  drawDelay();
}

const PLAN_COLOURS = ["#1f4e9a", "#c8620a", "#2a9d5b", "#8e3fb3", "#c81e1e", "#4a8fd6"];

// "3 h 00 min", "30 min" (plumecast.numbers._hm)
function hm(hours) {
  const minutes = Math.round(hours * 60);
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
}

// the clock time of h hours after the comparison's release start ("1 Jul 12:00 UTC"); "" without one
function clockOf(axis, h) {
  return axis && axis.start ? N.clock(new Date(Date.parse(axis.start) + h * 3600 * 1000).toISOString()) : "";
}

// What the cost of delay's hours count from, in words, as cost_of_delay.png says it: the scenario's start by its
// clock time, and when the releases begin after it (the axis had read "hours after the release start" where the
// demo's releases begin 3 h after hour 0, so a reader counting from them was 3 h late: situation-room audit 42).
export function delayOrigin(axis) {
  if (!axis || !axis.start) return "hours after the release start";
  const begin = axis.releases_begin_h;
  const later = fin(begin) && begin > 0 ? `, the scenario's start; the releases begin ${hm(begin)} after it`
    : fin(begin) ? ", the release start" : ", the comparison's release start";
  return `hours after ${clockOf(axis, 0)}${later}`;
}

// hour ticks at least `minPx` apart on the axis (a tick per data point had printed "1415 16")
function hourTicks(h0, h1, pxPerH, minPx = 40) {
  const step = [0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 96].find((st) => st * pxPerH >= minPx) || 192;
  const out = [];
  for (let h = Math.ceil(h0 / step - 1e-9) * step; h <= h1 + 1e-9; h += step) out.push(h);
  return out;
}

export function drawDelay() {
  const sm = state.summary;
  const s = $("delay-chart");
  clear(s);
  const rows = sm.delay.filter((d) => fin(d.time_h) && fin(d.median));
  // no curve: no empty chart box above the sentence (situation-room audit, session 40)
  s.hidden = !rows.length;
  if (!rows.length) { $("delay-note").textContent = "This comparison has no cost-of-delay curve."; return; }
  const axis = sm.delay_axis || {};
  // drawn at its box's width on a narrow screen, its long lines wrapped (audit 42, #7)
  const W = chartWidth(s, 720), L = 70, R = 10, T = 12;
  const axisLines = [...wrapText(delayOrigin(axis), W - 20), ...wrapText("when the plan's measure is taken", W - 20)];
  // narrower than drawn for: the legend goes under the chart, over which its wrapped lines had run
  const under = W < 720;
  const PB = 250, axisEnd = PB + 30 + 14 * (axisLines.length - 1);  // the plot's bottom; the axis' last line
  const H = Math.max(300, axisEnd + 6), B = H - PB;
  const base = sm.plans.find((p) => p.baseline);
  const all = rows.flatMap((d) => [d.p5, d.median, d.p95]).filter(fin);
  const ys = all.filter((x) => x > 0);
  if (base && fin(base.fatalities[1]) && base.fatalities[1] > 0) ys.push(base.fatalities[1]);
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, 10) * 1.5)));
  // values below one (0 included) are drawn on the bottom line, which then reads "< 1", as in cost_of_delay.png
  // (it had read "1" for deaths of 0, 3.8e-08 and 0.019: situation-room audit 42)
  const below1 = all.some((x) => x < 1);
  const lo = below1 ? 1 : Math.pow(10, Math.floor(Math.log10(Math.max(Math.min(...ys), 1))));
  const hs = rows.map((d) => d.time_h);
  const h0 = Math.min(...hs, 0), h1 = Math.max(...hs, h0 + 1);
  const X = (h) => L + (W - L - R) * (h - h0) / (h1 - h0);
  const Y = (f) => T + (H - T - B) * (1 - (Math.log10(Math.max(f, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
  // the times already past at the forecast's issue, shaded, and the issue line (as cost_of_delay.png)
  const issued = fin(axis.issued_h) ? axis.issued_h : null;
  if (issued !== null && issued > h0) {
    s.appendChild(svg("rect", { x: L, y: T, width: X(Math.min(issued, h1)) - L, height: H - T - B, class: "past-shade" }));
  }
  if (issued !== null && issued >= h0 && issued <= h1) {
    const x = X(issued);
    s.appendChild(svg("line", { x1: x, x2: x, y1: T, y2: H - B, class: "issue-line" }));
  }
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const y = Y(Math.pow(10, e));
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "gridline" }));
    const label = e === Math.log10(lo) && below1 ? "< 1" : N.people(Math.pow(10, e));
    s.appendChild(svg("text", { x: L - 4, y: y + 4, class: "tick y-tick", "text-anchor": "end" }, label));
  }
  for (const h of hourTicks(h0, h1, (W - L - R) / (h1 - h0))) {
    s.appendChild(svg("text", { x: X(h), y: H - B + 14, class: "tick x-tick", "text-anchor": "middle" }, `${N.roundSig(h, 3)}`));
  }
  const mid = W < 720 ? W / 2 : (L + W) / 2;
  axisLines.forEach((line, i) => s.appendChild(svg("text", { x: mid, y: H - B + 30 + 14 * i,
    class: `tick${i === 0 ? " axis-label" : ""}`, "text-anchor": "middle" }, line)));
  s.appendChild(svg("path", { d: `M${L} ${T}V${H - B}H${W - R}`, class: "axis" }));
  const legend = [];
  const keys = [...new Set(rows.map((d) => `${d.plan}\u0000${d.varied}`))];
  keys.forEach((key, i) => {
    const [plan, varied] = key.split("\u0000");
    const pts = rows.filter((d) => d.plan === plan && d.varied === varied).sort((a, b) => a.time_h - b.time_h);
    const colour = PLAN_COLOURS[i % PLAN_COLOURS.length];
    const band = pts.map((d) => `${X(d.time_h).toFixed(1)} ${Y(fin(d.p95) ? d.p95 : d.median).toFixed(1)}`).join("L") + "L" +
      [...pts].reverse().map((d) => `${X(d.time_h).toFixed(1)} ${Y(fin(d.p5) ? d.p5 : d.median).toFixed(1)}`).join("L");
    s.appendChild(svg("path", { d: `M${band}Z`, fill: colour, class: "band" }));
    s.appendChild(svg("path", { d: "M" + pts.map((d) => `${X(d.time_h).toFixed(1)} ${Y(d.median).toFixed(1)}`).join("L"), fill: "none", stroke: colour, "stroke-width": 2 }));
    legend.push([`${plan}: ${varied} at the time on the axis`, colour]);
    // the plan's own time: a star on its curve, named in the legend (an extra tick had printed over its neighbours)
    const p = sm.plans.find((q) => q.name === plan);
    const own = p && p.own_times_h ? p.own_times_h[varied === "termination" ? "termination" : "front"] : undefined;
    if (fin(own) && own >= pts[0].time_h && own <= pts[pts.length - 1].time_h) {
      const j = pts.findIndex((d) => d.time_h >= own);
      const a = pts[Math.max(j - 1, 0)], b = pts[j];
      const f = b.time_h > a.time_h ? (own - a.time_h) / (b.time_h - a.time_h) : 0;
      const y = Y(a.median) + f * (Y(b.median) - Y(a.median));
      s.appendChild(svg("text", { x: X(own), y: y + 6, class: "own-time", fill: colour, "text-anchor": "middle", "data-hour": String(own) }, "★"));
      legend.push([`★ ${plan}: its own ${varied} time (${N.roundSig(own, 3)} h${axis.start ? `, ${clockOf(axis, own)}` : ""})`, colour]);
    }
  });
  if (issued !== null && issued > h0) legend.push(["grey: already past at the forecast's issue", "#555"]);
  if (issued !== null) legend.push([`dotted: forecast issued (${clockOf(axis, issued) || `${N.roundSig(issued, 3)} h`})`, "#555"]);
  let row = 0;
  const lx = under ? 10 : L + 8, ly = under ? axisEnd + 20 : T + 14;
  for (const [text, colour] of legend) {
    for (const line of wrapText(text, under ? W - 20 : W - L - R - 12)) {
      s.appendChild(svg("text", { x: lx, y: ly + 14 * row, class: "label", fill: colour }, line));
      row += 1;
    }
  }
  s.setAttribute("viewBox", `0 0 ${W} ${under ? Math.max(H, ly + 14 * (row - 1) + 6) : H}`);
  if (base && fin(base.fatalities[1])) {
    const y = Y(base.fatalities[1]);
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#000", "stroke-dasharray": "6 4" }));
    s.appendChild(svg("text", { x: W - R - 4, y: y - 4, class: "label", "text-anchor": "end" }, single() ? base.name : `${base.name} (median)`));
  }
  const floor = below1 ? " Values below one are drawn on the \u201c< 1\u201d line." : "";
  $("delay-note").textContent = (single()
    ? `Expected fatalities of the one member (no ensemble spread${nSets() ? "; band over the probit sets" : ""}) if the measure acts at that hour; log scale.`
    : `Expected fatalities (median over members, band ${sm.members < N.FEW_MEMBERS ? "lowest–highest member" : "5–95 %"}${nSets() ? " and probit set" : ""}) if the measure acts at that hour; log scale.`)
    + floor + " Full values in cost_of_delay.csv; the same curves in cost_of_delay.png.";
}
