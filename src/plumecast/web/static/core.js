// plumecast situation room: the state, helpers, times and levels the page's modules share.
import * as N from "./numbers.js";

export const SVGNS = "http://www.w3.org/2000/svg";
export const $ = (id) => document.getElementById(id);
export const MONITOR_ROWS = 15;
export const PLAY_MS = 450;

export const state = {
  summary: null, vid: null, view: null, k: 0, frameUrls: new Map(), playing: false, timer: null,
  selected: null, pin: null, series: null, probLevel: null, probUrl: null, frontHours: null,
  viewBox: [0, 0, 360, 180], reloadTimer: null, lastSignature: null, probEmpty: false,
  // the slider follows the clock (live countdowns) until the user moves it or plays
  follow: true, lastFrom: null,
  // the city disc that is the map's stop in the Tab order (receptor id)
  markerFocus: null,
};

// Live countdowns are redrawn this often [ms]; they count from the next redraw, so that what
// stands on the page until then is never late (a countdown read 9 s after its minute had passed
// had still said "in 5 min" where 4 min 59 s were left; situation-room audit).
export const LIVE_REDRAW_MS = 10000;

// ------------------------------------------------------------------ helpers

export async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  return r.json();
}

export async function getBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  return new Uint8Array(await r.arrayBuffer());
}

export function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  if (text !== null) e.textContent = text;
  return e;
}

export function svg(tag, attrs = {}, text = null) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
// the emptied body of the table with this id
export function emptyBody(id) { const body = $(id).querySelector("tbody"); clear(body); return body; }
// a place's name as shown: "name, country" where the country is known
export function placeName(p) { return p.country ? `${p.name}, ${p.country}` : p.name; }

export function fin(x) { return typeof x === "number" && Number.isFinite(x); }

export function showError(err) {
  addProblems([String(err && err.message ? err.message : err)]);
}

export function addProblems(items) {
  const box = $("problems");
  const ul = box.querySelector("ul");
  const have = new Set([...ul.children].map((li) => li.textContent));
  for (const it of items) {
    if (it && !have.has(it)) { ul.appendChild(el("li", {}, it)); have.add(it); }
  }
  box.hidden = ul.children.length === 0;
}

export function resetProblems() { clear($("problems").querySelector("ul")); $("problems").hidden = true; }

// ------------------------------------------------------------------ colours

// Own log colour ramp (pale yellow -> orange -> crimson -> violet -> black), 255 steps.
export const STOPS = [[252, 246, 180], [250, 178, 60], [226, 92, 38], [168, 30, 72], [88, 14, 110], [18, 6, 40]];
export function ramp(t) {
  const x = Math.min(Math.max(t, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  return STOPS[i].map((a, j) => Math.round(a + f * (STOPS[i + 1][j] - a)));
}
export const FIELD_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 1; b < 256; b++) {
    const [r, g, bl] = ramp((b - 1) / 254);
    lut.set([r, g, bl, 215], b * 4);
  }
  return lut;
})();
export const PROB_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 1; b < 256; b++) lut.set([40, 70, 200, Math.round(40 + 170 * (b / 255))], b * 4);
  return lut;
})();

export function bytesToUrl(bytes, nlon, nlat, lut) {
  const c = document.createElement("canvas");
  c.width = nlon; c.height = nlat;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(nlon, nlat);
  const d = img.data;
  for (let i = 0; i < bytes.length; i++) {
    const o = bytes[i] * 4;
    d[i * 4] = lut[o]; d[i * 4 + 1] = lut[o + 1]; d[i * 4 + 2] = lut[o + 2]; d[i * 4 + 3] = lut[o + 3];
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL("image/png");
}

// The longitude the map centres its markers on: 0, or the middle of a grid that reaches
// past 180 (a grid across the antimeridian, lon0 170 .. lon1 190), so that a city at
// -175 is drawn at 185, beside the field, not at the far side of the map.
export function mapCentre() {
  const v = state.view;
  const g = v && (v.grid || v.prob_grid);
  if (!g || g.lon1 - g.lon0 > 300 || (g.lon1 <= 180 && g.lon0 >= -180)) return 0;
  return (g.lon0 + g.lon1) / 2;
}

// x of a longitude on the map (x = lon + 180), within 180 degrees of mapCentre()
export function mapX(lon) {
  const c = mapCentre();
  return ((((lon - c + 180) % 360) + 360) % 360) + c;
}

export function place(image, grid) {
  image.setAttribute("x", grid.lon0 + 180);
  image.setAttribute("y", 90 - grid.lat1);
  image.setAttribute("width", grid.lon1 - grid.lon0);
  image.setAttribute("height", grid.lat1 - grid.lat0);
}

// byte -> concentration on the view's log scale
export function byteToConc(b, scale) {
  return scale.vmin * Math.pow(scale.vmax / scale.vmin, (b - 1) / 254);
}
export function concToT(c, scale) {
  return Math.log(c / scale.vmin) / Math.log(scale.vmax / scale.vmin);
}

// ------------------------------------------------------------------ time

export function tNow() {
  const v = state.view;
  if (!v || !v.times_s.length) return NaN;
  return v.times_s[Math.min(state.k, v.times_s.length - 1)];
}

// One member (a comparison without an ensemble): no probabilities, no 5-95 % intervals.
export function single() { return Boolean(state.summary && state.summary.members === 1); }
// the agent's probit sets the comparison's ranges of people span besides the members (0: one set)
export function nSets() { return (state.summary && (state.summary.probit_sets || []).length) || 0; }

// The wall clock in seconds after the view's release start (NaN without calendar times).
export function clockS() {
  const v = state.view;
  if (!v || !v.start) return NaN;
  return (Date.now() - Date.parse(v.start)) / 1000;
}

// The frame holding the moment s (seconds after the start): the first output interval ending
// at or after it; times_s.length when s lies after the last one.
export function frameAt(s) {
  const ts = (state.view && state.view.times_s) || [];
  for (let k = 0; k < ts.length; k++) if (ts[k] >= s - 1e-6) return k;
  return ts.length;
}

// Where the slider opens: the frame holding the moment the countdowns run from (countdownRef),
// the clock while it is within the forecast past the issue time (the map, the levels and the
// totals had stood at the issue time while the countdowns ran from the clock; situation-room
// audit), else the issue time; a view without an issue time, at the start. Its levels then
// agree with the countdowns.
export function openingFrame(v) {
  const n = v.times_s.length;
  if (!n) return 0;
  return Math.min(frameAt(liveMoment(v, clockS())), n - 1);
}

// The moment c (seconds after the start, the clock) where it lies within the view's forecast after
// its issue time, else the issue time (the release start without one).
export function liveMoment(v, c) {
  const issued = v && fin(v.issued_s) ? v.issued_s : 0;
  const last = v && v.times_s.length ? v.times_s[v.times_s.length - 1] : NaN;
  return fin(c) && c > issued && c <= last ? c : issued;
}

// The moment countdowns run from: the forecast's issue time, or the clock once it is past
// the issue time and within the forecast, taken at the next live redraw (LIVE_REDRAW_MS); the
// slider time when the slider stands on a later frame than the one holding that moment (a look
// ahead). The frame holding the issue time ends after it, so counting from its end would
// shorten every countdown: from that frame (and any earlier one) the page counts from the issue
// time. Never earlier than the issue time or the clock within the forecast: a countdown never
// errs late. A forecast whose time has passed is read from its issue time, and the page says
// so (each countdown with its clock time; the note names the moment it counts from, redrawn as
// that changes: it had gone on saying "from now" after the forecast's end).
export function countdownRef(t) {
  const v = state.view;
  const c = clockS() + LIVE_REDRAW_MS / 1000;
  const now = liveMoment(v, c);
  const useClock = now === c;
  const k = v ? Math.min(state.k, v.times_s.length - 1) : -1;
  const slider = fin(t) && t > now && k > frameAt(now);
  // "start": the issue time is unknown, so the release start stands in for it (the page says so)
  const known = v && !v.issued_unknown && v.start;
  return { s: slider ? t : now, from: slider ? "slider" : useClock ? "clock" : known ? "issued" : "start" };
}

export function refText(ref) {
  const v = state.view;
  const when = v && v.start ? N.clock(new Date(Date.parse(v.start) + ref.s * 1000).toISOString()) : N.hours(ref.s);
  if (ref.from === "clock") return `now (${when}, the clock)`;
  if (ref.from === "slider") return `the slider time (${when})`;
  // the issue time is unknown (a comparison written before comparison.json): from the release start,
  // which errs late if the forecast was issued after it, so the page says so
  if (ref.from === "start") {
    const at = v.start ? `the release start (${when})` : `${when} after the release start`;
    return `${at}, because the forecast's issue time is unknown (${(v && v.issued_unknown) || "the folder does not give it"})`;
  }
  return `the forecast's issue time (${when})`;
}

// Without time steps (no map and no per-step series) every figure is the whole forecast's.
export function wholeForecast() { return Boolean(state.view && !state.view.times_s.length); }

// What the T of "T+3 h 00 min" and of the hour axes is: the view's start, the scenario's start, by its clock time
// (the page had never said: the demo's "1 Jul 00:00 UTC (T+3 h 00 min)" is its issue time and the releases' switch-on,
// T the scenario's start 3 h before; audit 42, #11). Without calendar times the hours count from the release start.
export function originText() {
  const v = state.view;
  return v && v.start ? `T = ${clockAt(0)}, the scenario's start` : "T = the release start (the folder gives no calendar time)";
}

export function timeText(t) {
  const v = state.view;
  if (v && v.start) {
    const iso = new Date(Date.parse(v.start) + t * 1000).toISOString();
    return `${N.clock(iso)} (${N.hours(t)})`;
  }
  return `${N.hours(t)} after the release start`;
}

// ------------------------------------------------------------------ levels

// The highest AEGL reached by the slider time t ("0": none of the assessed levels; "u":
// unknown). Without a time (no time steps in the folder), over the whole forecast.
export function levelAt(r, t) {
  if (!r.known) return "u";
  const avail = r.aegl_available || {};
  if (!["1", "2", "3"].some((lv) => avail[lv])) return "u";
  const until = fin(t) ? t : Infinity;
  let level = 0;
  for (const lv of [1, 2, 3]) {
    const f = r.first ? r.first[String(lv)] : null;
    if (fin(f) && f <= until) level = lv;
  }
  return String(level);
}

// A level in words. Below the lowest assessed level, the levels under it are unknown, never
// "below" (a comparison's table does not assess AEGL-1: "below AEGL-2; AEGL-1 unknown").
export function levelText(r, lv) {
  if (lv === "u") return N.UNKNOWN;
  const avail = r.aegl_available || {};
  const missing = ["1", "2", "3"].filter((x) => Number(x) > Number(lv) && avail[x] === false);
  if (lv === "0") {
    const lowest = ["1", "2", "3"].find((x) => avail[x]);
    const under = ["1", "2"].filter((x) => Number(x) < Number(lowest));
    return `below AEGL-${lowest}` + (under.length ? `; ${under.map((x) => "AEGL-" + x).join(", ")} ${N.UNKNOWN}` : "");
  }
  // a plan over an ensemble: the earliest member's level, with the share of members that reach it (a city
  // reached in 1 member of 3 had read a flat "AEGL-3 reached"; situation-room audit, session 40)
  let members = "";
  if (r.ensemble && !single() && (lv === "2" || lv === "3")) {
    const p = lv === "2" ? r.ensemble.p_aegl2 : r.ensemble.p_aegl3;
    if (!(fin(p) && p >= 1)) {
      const share = shareOf(r.ensemble, lv);
      members = ` in ${share.includes(" of ") ? share : `${share} of the`} members (by the earliest member's time)`;
    }
  }
  return `AEGL-${lv} reached${members}` + (missing.length ? `; ${missing.map((x) => "AEGL-" + x).join(", ")} ${N.UNKNOWN}` : "");
}

// a plan's share of members reaching AEGL-`level` as decision_table.md gives it (numbers.members_share):
// "1 of 2", "2 of 3 known", from 21 members "34 %"; a cities.csv without the member counts: the percentage
export function shareOf(e, level) {
  const p = level === "2" ? e.p_aegl2 : e.p_aegl3;
  const unknown = level === "2" ? e.members_unknown : e.members_unknown_aegl3;
  if (!fin(e.members)) return fin(p) ? N.percent(100 * p) : N.UNKNOWN;
  return N.membersShare(p, e.members - (fin(unknown) ? unknown : 0), e.members);
}

export function metricAt(r) {
  const v = state.view;
  if (wholeForecast() && !r.ensemble) return fin(r.peak_percent_aegl3) ? r.peak_percent_aegl3 : null;
  if (v.pct3) {
    const row = v.pct3[Math.min(state.k, v.pct3.length - 1)];
    return row ? row[r.id] : null;
  }
  if (r.ensemble) return fin(r.ensemble.p_aegl3) ? 100 * r.ensemble.p_aegl3 : null;
  return null;
}

// a countdown from ref.s (countdownRef); `level` "2"/"3" (null for the front)
export function countdownCell(r, seconds, ref, level = null) {
  if (!r.known) return { text: N.UNKNOWN, passed: false };
  // the level was not assessed (no consequences.nc, no AEGL value): unknown, not "not reached"
  if (level && r.aegl_available && r.aegl_available[level] === false) return { text: N.UNKNOWN, passed: false };
  if (!fin(seconds)) return { text: N.countdown(null), passed: false };
  // time left and the clock time it ends at (rounded down), as decision_table.md gives them: "in 12 min"
  // alone could be read from another moment than the one the page counts from
  // from the clock the page counts from its next redraw (LIVE_REDRAW_MS ahead, erring early): an arrival
  // within that lead has not happened yet and reads "now", not "passed 1 min ago" (situation-room audit,
  // session 40: 8 s before an arrival)
  const left = seconds - ref.s;
  const lead = ref.from === "clock" && left < 0 && left >= -LIVE_REDRAW_MS / 1000 && seconds >= clockS();
  return { text: `${lead ? "now" : N.countdown(left)} (${clockAt(seconds)})`, passed: left < 0 && !lead };
}

// The clock time of a moment s seconds after the view's start ("1 Mar 00:50 UTC", rounded down);
// the hours after the start without calendar times.
export function clockAt(s) {
  const v = state.view;
  return v && v.start ? N.clock(new Date(Date.parse(v.start) + s * 1000).toISOString()) : N.hours(s);
}

// whether a one-member comparison's run reaches a level there: "yes", "no", "unknown"
export function reached(p) { return fin(p) ? (p > 0 ? "yes" : "no") : N.UNKNOWN; }


// what a plan's lives saved leave out, as decision_table.md says it: " known; unknown at 1 receptor"
// where the plan changes the exposure at receptors whose deaths are unknown (never a bare 0 there)
// a lives-saved figure and what it leaves out: "15 known; unknown at 2 receptors", and
// "unknown (deaths unknown at 2 receptors)" where nothing is known (summary_text.saved_cell)
export function savedText(text, n) {
  if (!(fin(n) && n > 0)) return text;
  const where = `${n} receptor${n === 1 ? "" : "s"}`;
  return text === N.UNKNOWN ? `${N.UNKNOWN} (deaths unknown at ${where})` : `${text} known; unknown at ${where}`;
}

// The data-id of the element focused within `box` (null: the focus is elsewhere). The monitors and the city discs
// are redrawn at every frame and every live redraw; refocus(box, id) gives the focus back to the redrawn element
// of that id, so that a keyboard user's place is not dropped to the page (audit 42).
export function focusedId(box) {
  const a = document.activeElement;
  return a && a !== box && box.contains(a) && a.dataset && a.dataset.id !== undefined ? a.dataset.id : null;
}
export function refocus(box, id) {
  if (id === null) return;
  const e = box.querySelector(`[data-id="${id}"]`);
  if (e) e.focus({ preventScroll: true });
}

// The width, in the SVG's user units, to draw a chart at: its box's width in CSS pixels, from `min` up to its design
// width `max`, so that its 11 px text stays about 11 px on a narrow screen (a fixed viewBox had scaled it to 4-6 px at
// 360 px: audit 42, #7); the design width where the box is not laid out (hidden).
export function chartWidth(s, max, min = 280) {
  const w = s.getBoundingClientRect().width;
  return w > 0 ? Math.round(Math.min(max, Math.max(min, w))) : max;
}

// `text` in lines of at most about `px` pixels of 11 px text, broken at spaces (a long line runs past the box's edge)
export function wrapText(text, px) {
  const n = Math.max(12, Math.floor(px / 6.4));
  const out = [];
  let line = "";
  for (const w of String(text).split(" ")) {
    if (line && line.length + 1 + w.length > n) { out.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

// functions of app.js the other modules call (set by app.js: switchView, selectReceptor)
export const hooks = {};
