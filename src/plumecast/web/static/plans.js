// plumecast situation room: the plans side by side and the cost of delay.
import * as N from "./numbers.js";
import {
  $, state, el, svg, clear, emptyBody, fin, single, nSets, savedText, hooks,
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
  // decision_table.md's first line: which plan has the fewest expected deaths, and how sure that is
  $("plans-ranking").textContent = sm.ranking || "";
  $("plans-ranking").hidden = !sm.ranking;
  const oneHead = nSets() ? "one member; range over the probit sets" : "one member";
  $("plans-fat-head").textContent = one ? `expected fatalities (${oneHead})` : "expected fatalities, median (5–95 %)";
  $("plans-saved-head").textContent = one ? `lives saved vs baseline (${oneHead})` : "lives saved vs baseline (5–95 %)";
  const body = emptyBody("plans-table");
  for (const p of sm.plans) {
    const tr = el("tr", { class: "plan-row" + (state.vid === p.view ? " active" : ""), "data-view": p.view });
    const pick = el("td");
    const b = el("button", { type: "button", class: "pick-plan", "data-view": p.view }, state.vid === p.view ? "shown" : "show");
    b.addEventListener("click", () => hooks.switchView(p.view));
    pick.appendChild(b);
    tr.appendChild(pick);
    tr.appendChild(el("td", {}, p.name + (p.baseline ? " (baseline)" : "")));
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

function drawDelay() {
  const sm = state.summary;
  const s = $("delay-chart");
  clear(s);
  const rows = sm.delay.filter((d) => fin(d.time_h) && fin(d.median));
  // no curve: no empty chart box above the sentence (situation-room audit, session 40)
  s.hidden = !rows.length;
  if (!rows.length) { $("delay-note").textContent = "This comparison has no cost-of-delay curve."; return; }
  const W = 720, H = 280, L = 70, R = 10, T = 12, B = 34;
  const base = sm.plans.find((p) => p.baseline);
  const ys = rows.flatMap((d) => [d.p5, d.median, d.p95]).filter((x) => fin(x) && x > 0);
  if (base && fin(base.fatalities[1]) && base.fatalities[1] > 0) ys.push(base.fatalities[1]);
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, 10) * 1.5)));
  const lo = Math.max(1, Math.pow(10, Math.floor(Math.log10(Math.max(Math.min(...ys), 1)))));
  const hs = rows.map((d) => d.time_h);
  const h0 = Math.min(...hs), h1 = Math.max(...hs, h0 + 1);
  const X = (h) => L + (W - L - R) * (h - h0) / (h1 - h0);
  const Y = (f) => T + (H - T - B) * (1 - (Math.log10(Math.max(f, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const y = Y(Math.pow(10, e));
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "gridline" }));
    s.appendChild(svg("text", { x: L - 4, y: y + 4, class: "tick", "text-anchor": "end" }, N.people(Math.pow(10, e))));
  }
  for (const h of [...new Set(hs)]) s.appendChild(svg("text", { x: X(h), y: H - 14, class: "tick", "text-anchor": "middle" }, `${N.roundSig(h, 3)}`));
  s.appendChild(svg("text", { x: (L + W) / 2, y: H - 1, class: "tick", "text-anchor": "middle" }, "hours after the release start at which the measure acts"));
  s.appendChild(svg("path", { d: `M${L} ${T}V${H - B}H${W - R}`, class: "axis" }));
  const keys = [...new Set(rows.map((d) => `${d.plan}\u0000${d.varied}`))];
  keys.forEach((key, i) => {
    const [plan, varied] = key.split("\u0000");
    const pts = rows.filter((d) => d.plan === plan && d.varied === varied).sort((a, b) => a.time_h - b.time_h);
    const colour = PLAN_COLOURS[i % PLAN_COLOURS.length];
    const band = pts.map((d) => `${X(d.time_h).toFixed(1)} ${Y(fin(d.p95) ? d.p95 : d.median).toFixed(1)}`).join("L") + "L" +
      [...pts].reverse().map((d) => `${X(d.time_h).toFixed(1)} ${Y(fin(d.p5) ? d.p5 : d.median).toFixed(1)}`).join("L");
    s.appendChild(svg("path", { d: `M${band}Z`, fill: colour, class: "band" }));
    s.appendChild(svg("path", { d: "M" + pts.map((d) => `${X(d.time_h).toFixed(1)} ${Y(d.median).toFixed(1)}`).join("L"), fill: "none", stroke: colour, "stroke-width": 2 }));
    s.appendChild(svg("text", { x: L + 8, y: T + 14 + 14 * i, class: "label", fill: colour }, `${plan}: ${varied} time`));
  });
  if (base && fin(base.fatalities[1])) {
    const y = Y(base.fatalities[1]);
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#000", "stroke-dasharray": "6 4" }));
    s.appendChild(svg("text", { x: W - R - 4, y: y - 4, class: "label", "text-anchor": "end" }, single() ? base.name : `${base.name} (median)`));
  }
  $("delay-note").textContent = single()
    ? `Expected fatalities of the one member (no ensemble spread${nSets() ? "; band over the probit sets" : ""}) if the measure acts at that hour; log scale. Full values in cost_of_delay.csv.`
    : `Expected fatalities (median over members, band ${sm.members < N.FEW_MEMBERS ? "lowest–highest member" : "5–95 %"}${nSets() ? " and probit set" : ""}, as cost_of_delay.png) if the measure acts at that hour; log scale. Full values in cost_of_delay.csv.`;
}

