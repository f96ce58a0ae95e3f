// plumecast situation room. Plain JavaScript and SVG; everything comes from this
// server (no CDN, no tiles). Numbers shown to people go through numbers.js, the
// port of plumecast.numbers.
import * as N from "./numbers.js";

const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const MONITOR_ROWS = 15;
const PLAY_MS = 450;

const state = {
  summary: null, vid: null, view: null, k: 0, frameUrls: new Map(), playing: false, timer: null,
  selected: null, pin: null, series: null, probLevel: null, probUrl: null, frontHours: null,
  viewBox: [0, 0, 360, 180], reloadTimer: null, lastSignature: null, probEmpty: false,
  // the slider follows the clock (live countdowns) until the user moves it or plays
  follow: true, lastFrom: null,
};

// Live countdowns are redrawn this often [ms]; they count from the next redraw, so that what
// stands on the page until then is never late (a countdown read 9 s after its minute had passed
// had still said "in 5 min" where 4 min 59 s were left; situation-room audit).
const LIVE_REDRAW_MS = 10000;

// ------------------------------------------------------------------ helpers

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  return r.json();
}

async function getBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  return new Uint8Array(await r.arrayBuffer());
}

function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  if (text !== null) e.textContent = text;
  return e;
}

function svg(tag, attrs = {}, text = null) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
// the emptied body of the table with this id
function emptyBody(id) { const body = $(id).querySelector("tbody"); clear(body); return body; }
// a place's name as shown: "name, country" where the country is known
function placeName(p) { return p.country ? `${p.name}, ${p.country}` : p.name; }

function fin(x) { return typeof x === "number" && Number.isFinite(x); }

function showError(err) {
  addProblems([String(err && err.message ? err.message : err)]);
}

function addProblems(items) {
  const box = $("problems");
  const ul = box.querySelector("ul");
  const have = new Set([...ul.children].map((li) => li.textContent));
  for (const it of items) {
    if (it && !have.has(it)) { ul.appendChild(el("li", {}, it)); have.add(it); }
  }
  box.hidden = ul.children.length === 0;
}

function resetProblems() { clear($("problems").querySelector("ul")); $("problems").hidden = true; }

// ------------------------------------------------------------------ colours

// Own log colour ramp (pale yellow -> orange -> crimson -> violet -> black), 255 steps.
const STOPS = [[252, 246, 180], [250, 178, 60], [226, 92, 38], [168, 30, 72], [88, 14, 110], [18, 6, 40]];
function ramp(t) {
  const x = Math.min(Math.max(t, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  return STOPS[i].map((a, j) => Math.round(a + f * (STOPS[i + 1][j] - a)));
}
const FIELD_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 1; b < 256; b++) {
    const [r, g, bl] = ramp((b - 1) / 254);
    lut.set([r, g, bl, 215], b * 4);
  }
  return lut;
})();
const PROB_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 1; b < 256; b++) lut.set([40, 70, 200, Math.round(40 + 170 * (b / 255))], b * 4);
  return lut;
})();

function bytesToUrl(bytes, nlon, nlat, lut) {
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
function mapCentre() {
  const v = state.view;
  const g = v && (v.grid || v.prob_grid);
  if (!g || g.lon1 - g.lon0 > 300 || (g.lon1 <= 180 && g.lon0 >= -180)) return 0;
  return (g.lon0 + g.lon1) / 2;
}

// x of a longitude on the map (x = lon + 180), within 180 degrees of mapCentre()
function mapX(lon) {
  const c = mapCentre();
  return ((((lon - c + 180) % 360) + 360) % 360) + c;
}

function place(image, grid) {
  image.setAttribute("x", grid.lon0 + 180);
  image.setAttribute("y", 90 - grid.lat1);
  image.setAttribute("width", grid.lon1 - grid.lon0);
  image.setAttribute("height", grid.lat1 - grid.lat0);
}

// byte -> concentration on the view's log scale
function byteToConc(b, scale) {
  return scale.vmin * Math.pow(scale.vmax / scale.vmin, (b - 1) / 254);
}
function concToT(c, scale) {
  return Math.log(c / scale.vmin) / Math.log(scale.vmax / scale.vmin);
}

// ------------------------------------------------------------------ time

function tNow() {
  const v = state.view;
  if (!v || !v.times_s.length) return NaN;
  return v.times_s[Math.min(state.k, v.times_s.length - 1)];
}

// One member (a comparison without an ensemble): no probabilities, no 5-95 % intervals.
function single() { return Boolean(state.summary && state.summary.members === 1); }
// the agent's probit sets the comparison's ranges of people span besides the members (0: one set)
function nSets() { return (state.summary && (state.summary.probit_sets || []).length) || 0; }

// The wall clock in seconds after the view's release start (NaN without calendar times).
function clockS() {
  const v = state.view;
  if (!v || !v.start) return NaN;
  return (Date.now() - Date.parse(v.start)) / 1000;
}

// The frame holding the moment s (seconds after the start): the first output interval ending
// at or after it; times_s.length when s lies after the last one.
function frameAt(s) {
  const ts = (state.view && state.view.times_s) || [];
  for (let k = 0; k < ts.length; k++) if (ts[k] >= s - 1e-6) return k;
  return ts.length;
}

// Where the slider opens: the frame holding the moment the countdowns run from (countdownRef),
// the clock while it is within the forecast past the issue time (the map, the levels and the
// totals had stood at the issue time while the countdowns ran from the clock; situation-room
// audit), else the issue time; a view without an issue time, at the start. Its levels then
// agree with the countdowns.
function openingFrame(v) {
  const n = v.times_s.length;
  if (!n) return 0;
  return Math.min(frameAt(liveMoment(v, clockS())), n - 1);
}

// The moment c (seconds after the start, the clock) where it lies within the view's forecast after
// its issue time, else the issue time (the release start without one).
function liveMoment(v, c) {
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
function countdownRef(t) {
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

function refText(ref) {
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
function wholeForecast() { return Boolean(state.view && !state.view.times_s.length); }

function timeText(t) {
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
function levelAt(r, t) {
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
function levelText(r, lv) {
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
function shareOf(e, level) {
  const p = level === "2" ? e.p_aegl2 : e.p_aegl3;
  const unknown = level === "2" ? e.members_unknown : e.members_unknown_aegl3;
  if (!fin(e.members)) return fin(p) ? N.percent(100 * p) : N.UNKNOWN;
  return N.membersShare(p, e.members - (fin(unknown) ? unknown : 0), e.members);
}

function metricAt(r) {
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
function countdownCell(r, seconds, ref, level = null) {
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
function clockAt(s) {
  const v = state.view;
  return v && v.start ? N.clock(new Date(Date.parse(v.start) + s * 1000).toISOString()) : N.hours(s);
}

// whether a one-member comparison's run reaches a level there: "yes", "no", "unknown"
function reached(p) { return fin(p) ? (p > 0 ? "yes" : "no") : N.UNKNOWN; }

// ------------------------------------------------------------------ map

// A city's disc on the map: 0.2 to 1 % of the view's width, whatever the zoom (a floor at 5 % of the
// world view had made the discs cover a city-scale grid's cells; situation-room audit, session 40).
function markerRadius(pop, maxPop) {
  const zoom = state.viewBox[2] / 360;
  const base = fin(pop) && maxPop > 0 ? 0.7 + 3.0 * Math.sqrt(pop / maxPop) : 0.9;
  return base * Math.max(zoom, 1e-5);
}

function drawMarkers() {
  const g = $("markers");
  clear(g);
  const v = state.view;
  if (!v) return;
  const t = tNow();
  const pops = v.receptors.map((r) => r.population).filter(fin);
  const maxPop = pops.length ? Math.max(...pops) : 0;
  const order = [...v.receptors].sort((a, b) => (fin(b.population) ? b.population : 0) - (fin(a.population) ? a.population : 0));
  for (const r of order) {
    if (!fin(r.lat) || !fin(r.lon)) continue;
    const lv = levelAt(r, t);
    const c = svg("circle", {
      cx: mapX(r.lon), cy: 90 - r.lat, r: markerRadius(r.population, maxPop),
      class: `marker l${lv}${state.selected && state.selected.receptor === r.id ? " selected" : ""}`,
      "data-name": r.name, "data-level": lv,
    });
    c.appendChild(svg("title", {}, `${r.name}: ${levelText(r, lv)}; ${N.people(r.population)} people`));
    c.addEventListener("click", () => selectReceptor(r.id));
    g.appendChild(c);
  }
}

async function drawField() {
  const v = state.view;
  const img = $("field");
  if (!v || !v.n_frames || !$("show-field").checked) { img.removeAttribute("href"); img.dataset.frame = ""; return; }
  const k = Math.min(state.k, v.n_frames - 1);
  let url = state.frameUrls.get(k);
  if (!url) {
    const bytes = await getBytes(`/api/view/${v.id}/frame/${k}`);
    url = bytesToUrl(bytes, v.grid.nlon, v.grid.nlat, FIELD_LUT);
    state.frameUrls.set(k, url);
  }
  if (state.view !== v) return;
  place(img, v.grid);
  img.setAttribute("href", url);
  img.dataset.frame = String(k);
}

async function drawProbability() {
  const v = state.view;
  const img = $("prob");
  const levels = (v && v.layers && v.layers.probability) || [];
  if (!levels.length || !$("show-prob").checked) { img.removeAttribute("href"); return; }
  const level = $("prob-level").value || levels[levels.length - 1];
  const key = `${v.id}/${level}`;
  if (state.probUrl && state.probUrl.key === key) { img.setAttribute("href", state.probUrl.url); return; }
  const bytes = await getBytes(`/api/view/${v.id}/layer/${encodeURIComponent(level)}`);
  const url = bytesToUrl(bytes, v.prob_grid.nlon, v.prob_grid.nlat, PROB_LUT);
  state.probUrl = { key, url };
  const empty = !bytes.some((b) => b > 0);
  if (empty !== state.probEmpty) { state.probEmpty = empty; drawLegend(); }
  place(img, v.prob_grid);
  img.setAttribute("href", url);
}

async function drawFront() {
  const v = state.view;
  const img = $("front");
  if (!v || !v.layers || !v.layers.front || !$("show-front").checked) { img.removeAttribute("href"); return; }
  if (!state.frontHours || state.frontHours.vid !== v.id) {
    const bytes = await getBytes(`/api/view/${v.id}/layer/front`);
    state.frontHours = { vid: v.id, hours: new Float32Array(bytes.buffer) };
  }
  const g = v.front_grid;
  const th = tNow() / 3600;
  const mask = new Uint8Array(g.nlat * g.nlon);
  const h = state.frontHours.hours;
  for (let i = 0; i < mask.length; i++) mask[i] = Number.isFinite(h[i]) && h[i] <= th ? 1 : 0;
  const lut = new Uint8ClampedArray(256 * 4);
  lut.set([20, 160, 120, 150], 4);
  place(img, g);
  img.setAttribute("href", bytesToUrl(mask, g.nlon, g.nlat, lut));
}

function drawLegend() {
  const s = $("legend-svg");
  clear(s);
  const v = state.view;
  const note = $("legend-note");
  if (!v || !v.scale) {
    if (v && v.layers && v.layers.probability && v.layers.probability.length) {
      drawProbLegend(s);
      note.textContent = single()
        ? "Blue: cells where the one member reaches the chosen AEGL (no ensemble: not a probability)."
        : "Blue: share of ensemble members in which the cell reaches the chosen AEGL (darker: more members).";
      if (state.probEmpty) note.textContent += " No cell of the output grid reaches it: a grid-cell mean understates the exposure in a city (see the monitors).";
    } else {
      note.textContent = v && v.n_frames ? "The concentration is zero everywhere." : "";
    }
    return;
  }
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: "lg", x1: "0", x2: "1", y1: "0", y2: "0" });
  for (let i = 0; i <= 10; i++) {
    const [r, g, b] = ramp(i / 10);
    grad.appendChild(svg("stop", { offset: `${i * 10}%`, "stop-color": `rgb(${r},${g},${b})` }));
  }
  defs.appendChild(grad);
  s.appendChild(defs);
  const x0 = 10, x1 = 590;
  s.appendChild(svg("rect", { x: x0, y: 4, width: x1 - x0, height: 14, fill: "url(#lg)" }));
  const X = (c) => x0 + (x1 - x0) * concToT(c, v.scale);
  for (const c of [v.scale.vmin, v.scale.vmax]) {
    s.appendChild(svg("text", { x: X(c), y: 44, class: "tick", "text-anchor": c === v.scale.vmin ? "start" : "end" }, N.concentration(c)));
  }
  const colours = { 1: "#b89400", 2: "#c8620a", 3: "#c81e1e" };
  if (v.aegl) {
    for (const lv of ["1", "2", "3"]) {
      const a = v.aegl[lv];
      if (!a || !fin(a["60min"])) continue;
      const c = a["60min"];
      // a level off the scale is marked at the end it lies beyond
      const above = c > v.scale.vmax, below = c < v.scale.vmin;
      const x = above ? x1 : below ? x0 : X(c);
      const label = above ? `AEGL-${lv} ${N.concentration(c)} ›` : below ? `‹ AEGL-${lv}` : `AEGL-${lv}`;
      // near an end the label is anchored inside the scale (it was cut off at the right edge)
      const anchor = above || x > x1 - 30 ? "end" : below || x < x0 + 30 ? "start" : "middle";
      s.appendChild(svg("line", { x1: x, x2: x, y1: 0, y2: 22, stroke: colours[lv], "stroke-width": 2.5 }));
      s.appendChild(svg("text", { x: x, y: 32, class: "tick", "text-anchor": anchor, fill: colours[lv] }, label));
    }
  }
  note.textContent = `Near-surface concentration, ${N.roundSig((v.interval_s || 3600) / 60)}-min mean on the output grid, log scale. ` +
    (v.aegl ? "AEGL marks: the 1-h values; a city's level uses the AEGL for its elapsed exposure. " : "AEGL values unknown. ") +
    (v.agent ? `Agent: ${v.agent.name} (AEGL values: ${v.agent.check}).` : "");
}

// The probability layer's colour scale: the share of members (PROB_LUT), or the one member's
// "reached" colour.
function drawProbLegend(s) {
  const colour = (b) => `rgb(${PROB_LUT[4 * b]},${PROB_LUT[4 * b + 1]},${PROB_LUT[4 * b + 2]})`;
  const opacity = (b) => (PROB_LUT[4 * b + 3] / 255).toFixed(3);
  const x0 = 10, x1 = 590;
  if (single()) {
    s.appendChild(svg("rect", { x: x0, y: 4, width: 40, height: 14, fill: colour(255), "fill-opacity": opacity(255), class: "prob-scale" }));
    s.appendChild(svg("text", { x: x0 + 48, y: 16, class: "tick" }, "the one member reaches the chosen AEGL"));
    return;
  }
  const n = state.summary && state.summary.members;
  if (fin(n) && n > 1 && n < N.FEW_MEMBERS) {
    // a share of few members is a count of them ("1 of 3"), as the tables give it: a block per count
    const w = (x1 - x0) / n;
    for (let k = 1; k <= n; k++) {
      const b = Math.max(1, Math.ceil((k / n) * 255)), x = x0 + (k - 1) * w;  // as encode.fraction_bytes
      s.appendChild(svg("rect", { x, y: 4, width: w - 2, height: 14, fill: colour(b), "fill-opacity": opacity(b), class: "prob-scale" }));
      if (n <= 10 || k === 1 || k === n || 2 * k === n)
        s.appendChild(svg("text", { x: x + w / 2, y: 36, class: "tick", "text-anchor": "middle" }, `${k} of ${n}`));
    }
    return;
  }
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: "pg", x1: "0", x2: "1", y1: "0", y2: "0" });
  for (let i = 0; i <= 10; i++) {
    const b = Math.max(1, Math.ceil(255 * i / 10));
    grad.appendChild(svg("stop", { offset: `${i * 10}%`, "stop-color": colour(b), "stop-opacity": opacity(b) }));
  }
  defs.appendChild(grad);
  s.appendChild(defs);
  s.appendChild(svg("rect", { x: x0, y: 4, width: x1 - x0, height: 14, fill: "url(#pg)", class: "prob-scale" }));
  for (const [p, anchor, label] of [[0, "start", "> 0 %"], [0.5, "middle", "50 %"], [1, "end", "100 % of members"]]) {
    const x = x0 + (x1 - x0) * p;
    s.appendChild(svg("line", { x1: x, x2: x, y1: 18, y2: 24, stroke: "#555" }));
    s.appendChild(svg("text", { x, y: 36, class: "tick", "text-anchor": anchor }, label));
  }
}

function setupPanZoom() {
  const map = $("map");
  const apply = () => { map.setAttribute("viewBox", state.viewBox.join(" ")); drawMarkers(); drawPin(); };
  map.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = map.getBoundingClientRect();
    const [x, y, w, h] = state.viewBox;
    const fx = (ev.clientX - rect.left) / rect.width, fy = (ev.clientY - rect.top) / rect.height;
    const f = ev.deltaY > 0 ? 1.25 : 0.8;
    const nw = Math.min(Math.max(w * f, 8), 360), nh = nw / 2;
    state.viewBox = [x + fx * (w - nw), y + fy * (h - nh), nw, nh];
    apply();
  }, { passive: false });
  let drag = null;
  map.addEventListener("pointerdown", (ev) => { if (ev.target.classList.contains("marker")) return; drag = [ev.clientX, ev.clientY, ...state.viewBox]; });
  window.addEventListener("pointerup", () => { drag = null; });
  map.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const rect = map.getBoundingClientRect();
    const s = drag[4] / rect.width;
    state.viewBox = [drag[2] - (ev.clientX - drag[0]) * s, drag[3] - (ev.clientY - drag[1]) * s, drag[4], drag[5]];
    map.setAttribute("viewBox", state.viewBox.join(" "));
  });
  map.addEventListener("dblclick", () => { state.viewBox = fitBox(state.view); apply(); });
}

function fitBox(v) {
  const g = v && (v.grid || v.prob_grid);
  if (!g || g.lon1 - g.lon0 > 300) return [0, 0, 360, 180];
  const pad = 0.08 * Math.max(g.lon1 - g.lon0, 2 * (g.lat1 - g.lat0));
  let w = (g.lon1 - g.lon0) + 2 * pad, h = (g.lat1 - g.lat0) + 2 * pad;
  if (w < 2 * h) w = 2 * h; else h = w / 2;
  const cx = (g.lon0 + g.lon1) / 2 + 180, cy = 90 - (g.lat0 + g.lat1) / 2;
  return [cx - w / 2, cy - h / 2, w, h];
}

// ------------------------------------------------------------------ monitors and totals

function drawMonitors() {
  const v = state.view;
  const body = emptyBody("monitors");
  if (!v) return;
  const t = tNow();
  const ref = countdownRef(t);
  const plan = v.kind === "plan" && !v.pct3;
  const one = plan && single();
  $("mon-metric").textContent = one ? "AEGL-3 reached" : plan ? "P(AEGL-3)" : "% AEGL-3";
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
  rows.sort((a, b) => {
    const am = fin(a.m) ? a.m : -1, bm = fin(b.m) ? b.m : -1;
    if (bm !== am) return bm - am;
    if (at(a.r, "3") !== at(b.r, "3")) return at(a.r, "3") - at(b.r, "3");
    if (deaths(b.r) !== deaths(a.r)) return deaths(b.r) - deaths(a.r);
    if (p2(b.r) !== p2(a.r)) return p2(b.r) - p2(a.r);
    return at(a.r, "2") - at(b.r, "2");
  });
  for (const { r, m } of rows.slice(0, MONITOR_ROWS)) {
    const lv = levelAt(r, t);
    const tr = el("tr", { class: "monitor", "data-name": r.name, "data-id": String(r.id) });
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
    tr.appendChild(metric);
    const cells = [["countdown-aegl2", r.first && r.first["2"]], ["countdown-aegl3", r.first && r.first["3"]]];
    if (hasFront) cells.push(["countdown-front", r.front_s]);
    for (const [cls, sec] of cells) {
      const c = countdownCell(r, sec, ref, cls === "countdown-aegl2" ? "2" : cls === "countdown-aegl3" ? "3" : null);
      tr.appendChild(el("td", { class: cls + (c.passed ? " passed" : "") }, c.text));
    }
    tr.addEventListener("click", () => selectReceptor(r.id));
    body.appendChild(tr);
  }
  const more = v.receptors.length - Math.min(v.receptors.length, MONITOR_ROWS);
  $("monitors-note").textContent = (one
    ? "One member (no ensemble): whether that run reaches AEGL-3, not a probability; countdowns to that run's arrival (they err early)."
    : plan
      ? "Ranked by the share of ensemble members reaching AEGL-3; countdowns to the earliest member's arrival (they err early)."
      : wholeForecast()
        ? "The folder has no time steps: ranked by the highest % of AEGL-3 over the whole forecast (consequences.nc); countdowns to the earliest the air can reach a level, given the means of the first interval that reaches it and the one before (they err early)."
        : "Ranked by the highest % of AEGL-3 in the interval ending at the slider time (AEGL for the elapsed exposure); countdowns to the earliest the air can reach a level, given the means of the first interval that reaches it and the one before (they err early).")
    + ` Countdowns run from ${refText(ref)}; times UTC.`
    + ` "—": not reached ${forecastEndText(v)}, which is not "safe" after it.`
    + (more > 0 ? ` ${more} more receptors: use the search.` : "");
}

// "by 1 Mar 06:00 UTC (the forecast's end)": what a "—" countdown covers (situation-room audit, session 40)
function forecastEndText(v) {
  const n = v && v.times_s ? v.times_s.length : 0;
  if (!n) return "within the forecast";
  return `by ${clockAt(v.times_s[n - 1])} (the forecast's end)`;
}

// what a plan's lives saved leave out, as decision_table.md says it: " known; unknown at 1 receptor"
// where the plan changes the exposure at receptors whose deaths are unknown (never a bare 0 there)
// a lives-saved figure and what it leaves out: "15 known; unknown at 2 receptors", and
// "unknown (deaths unknown at 2 receptors)" where nothing is known (summary_text.saved_cell)
function savedText(text, n) {
  if (!(fin(n) && n > 0)) return text;
  const where = `${n} receptor${n === 1 ? "" : "s"}`;
  return text === N.UNKNOWN ? `${N.UNKNOWN} (deaths unknown at ${where})` : `${text} known; unknown at ${where}`;
}

function drawTotals() {
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
    let pop = 0, cities = 0, unknownPop = 0, unknownCities = 0;
    for (const r of v.receptors) {
      const l = levelAt(r, t);
      if (l !== "u" && Number(l) >= lv) {
        cities += 1;
        if (fin(r.population)) pop += r.population; else unknownPop += 1;
      } else if (l === "u" || (r.aegl_available && r.aegl_available[String(lv)] === false)) {
        unknownCities += 1;
      }
    }
    // the cities counted include those of unknown population: "n cities, k of them ...", not "+ k"
    const unknownText = unknownPop === cities ? (cities === 1 ? ", its population unknown" : ", all of unknown population")
      : `, ${unknownPop} of them of unknown population`;
    const extra = (unknownPop ? unknownText : "") +
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
    row("total-fatalities", "expected fatalities (whole forecast)",
      bound(tt.fatalities, N.peopleRange(tt.fatalities, tt.fatalities_low, tt.fatalities_high)));
    if (fin(tt.fatalities_sheltered)) {
      // with its range over the probit sets, as the console gives it
      row("total-sheltered", "with shelter-in-place", bound(tt.fatalities_sheltered,
        N.peopleRange(tt.fatalities_sheltered, tt.fatalities_sheltered_low, tt.fatalities_sheltered_high)));
    }
  }
  const unknown = v.receptors.filter((r) => !r.known).length;
  $("totals-note").textContent = `${v.receptors.length} receptor cities` +
    (unknown ? `; ${unknown} outside the forecast domain (unknown)` : "") +
    (fin(tt.receptors_unknown) && tt.receptors_unknown ? `; fatalities unknown at ${tt.receptors_unknown}` +
      (v.kind === "plan" && !single() ? " (the most in a member)" : "") : "") + ".";
}

// ------------------------------------------------------------------ detail chart

// open the detail panel on a place (a receptor or a pinned point), its series still to come
function openDetail(selected, pin, place) {
  state.selected = selected;
  state.pin = pin;
  drawMarkers(); drawPin();
  $("detail").hidden = false;
  $("detail-name").textContent = placeName(place);
  state.series = null;
  drawDetail();
}

async function selectReceptor(id) {
  const v = state.view;
  const r = v.receptors[id];
  openDetail({ receptor: id, name: r.name }, null, r);
  if (v.has_series) {
    try {
      state.series = await getJSON(`/api/view/${v.id}/receptor/${id}`);
    } catch (err) { showError(err); }
    drawDetail();
  }
}

async function selectPoint(hit) {
  const v = state.view;
  openDetail({ receptor: null, name: hit.name }, hit, hit);
  if (v.n_frames || v.has_series) {
    const q = new URLSearchParams({ lat: hit.lat, lon: hit.lon, name: hit.name });
    const r = await fetch(`/api/view/${v.id}/point?${q}`);
    const data = await r.json();
    // a point at a receptor's position is that receptor: open its monitor and its figures
    if (r.ok && data.receptor && Number.isInteger(data.receptor.id) && v.receptors[data.receptor.id]) {
      await selectReceptor(data.receptor.id);
      return;
    }
    // outside the forecast domain (or no map): an answer, "unknown" with the reason
    if (r.ok && data.known === false) state.series = { error: data.source, unknown: true };
    else if (r.ok) state.series = data; else state.series = { error: data.error };
    drawDetail();
  }
}

function drawPin() {
  const g = $("search-marker");
  clear(g);
  if (!state.pin || !fin(state.pin.lat)) return;
  const rr = 2.2 * Math.max(state.viewBox[2] / 360, 0.05);
  g.appendChild(svg("circle", { cx: mapX(state.pin.lon), cy: 90 - state.pin.lat, r: rr, class: "search-pin" }));
}

function drawDetail() {
  const v = state.view;
  const sel = state.selected;
  if (!sel || !v) return;
  const facts = $("detail-facts");
  clear(facts);
  const t = tNow();
  const ref = countdownRef(t);
  const add = (label, value) => {
    const p = el("div");
    p.appendChild(el("b", {}, `${label}: `));
    p.appendChild(document.createTextNode(value));
    facts.appendChild(p);
  };
  if (sel.receptor !== null) {
    const r = v.receptors[sel.receptor];
    const lv = levelAt(r, t);
    add("people", N.people(r.population));
    // the level by the end of the slider's interval, named by its time: it had read "level at the slider
    // time: AEGL-3 reached" over "AEGL-3: in 14 min" with the clock inside that interval (page audit)
    add(wholeForecast() ? "highest level in the forecast" : `level by ${clockAt(t)} (the slider)`, levelText(r, lv));
    if (v.pct3) add("% of AEGL-3 at the slider time", N.percent(metricAt(r)));
    else if (wholeForecast() && !r.ensemble && "peak_percent_aegl3" in r) add("highest % of AEGL-3 in the forecast", N.percent(metricAt(r)));
    for (const lv2 of ["2", "3"]) {
      const c = countdownCell(r, r.first && r.first[lv2], ref, lv2);
      add(`AEGL-${lv2}`, c.text === "—" ? "not reached in the forecast" : c.text);
    }
    add("countdowns from", refText(ref));
    if (fin(r.front_s)) add(single() ? "front (one member)" : "front (earliest member)",
      `${N.countdown(r.front_s - ref.s)} (${clockAt(r.front_s)})`);
    if ("fatalities" in r) add("expected fatalities", N.peopleRange(r.fatalities, r.fatalities_low, r.fatalities_high));
    // the run's table gives both (the page had given the outdoor figure alone; situation-room audit, session 40)
    if ("fatalities_sheltered" in r && r.fatalities_sheltered !== null) {
      add("with shelter-in-place", N.peopleRange(r.fatalities_sheltered, r.fatalities_sheltered_low, r.fatalities_sheltered_high));
    }
    if (r.ensemble && single()) {  // one member: whether that run reaches a level, its figure without interval
      const e = r.ensemble;
      add("AEGL-2 / AEGL-3 reached (one member)", `${reached(e.p_aegl2)} / ${reached(e.p_aegl3)}`);
      add(nSets() ? "expected fatalities (one member; range over the probit sets)" : "expected fatalities (one member)",
        N.peopleRange(e.fatalities[1], e.fatalities[0], e.fatalities[2]));
    } else if (r.ensemble) {
      const e = r.ensemble;
      add("P(AEGL-2) / P(AEGL-3), members", `${shareOf(e, "2")} / ${shareOf(e, "3")}`);
      add(`fatalities over members${nSets() ? " and probit sets" : ""}, median (5–95 %)`,
        N.peopleRange(e.fatalities[1], e.fatalities[0], e.fatalities[2]));
    }
    if (r.note) add("note", r.note);
    if (r.position_from === "shipped cities table") add("position", "from the shipped cities table (by name)");
  } else {
    add("people", N.people(state.pin && state.pin.population));
    add("receptor", "not a receptor of this forecast: no consequence figures");
    if (state.series && state.series.unknown) add("concentration", N.UNKNOWN);
  }
  drawChart();
}

function drawChart() {
  const s = $("chart");
  clear(s);
  const data = state.series;
  const src = $("detail-source");
  s.classList.toggle("empty", !data || Boolean(data.error));
  if (!data) { src.textContent = state.view.has_series || state.view.n_frames ? "loading…" : "no time series in this view"; return; }
  if (data.error) { src.textContent = data.error; return; }
  src.textContent = `Source: ${data.source}.`;
  const W = 640, H = 260, L = 84, R = 22, T = 10, B = 30;
  const ts = data.time_s;
  const xs = (sec) => L + (W - L - R) * (sec - ts[0] + (ts.length > 1 ? ts[1] - ts[0] : 0)) / (ts[ts.length - 1] - ts[0] + (ts.length > 1 ? ts[1] - ts[0] : 1));
  const vals = [...data.conc.filter((x) => fin(x) && x > 0)];
  for (const lv of ["1", "2", "3"]) if (data.aegl[lv]) vals.push(...data.aegl[lv].filter(fin));
  if (!vals.length) { s.appendChild(svg("text", { x: 20, y: 40, class: "label" }, "No gas and no AEGL values to plot.")); return; }
  let hi = Math.max(...vals) * 2;
  let lo = Math.max(Math.min(...vals) / 2, hi / 1e6);
  const ly = (c) => T + (H - T - B) * (1 - (Math.log10(c) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) {
    const y = ly(Math.pow(10, e));
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "gridline" }));
    s.appendChild(svg("text", { x: L - 4, y: y + 4, class: "tick", "text-anchor": "end" }, N.concentration(Math.pow(10, e))));
  }
  const spanH = (ts[ts.length - 1]) / 3600;
  const stepH = spanH > 48 ? 12 : spanH > 12 ? 6 : spanH > 4 ? 1 : 0.5;
  for (let h = 0; h <= spanH + 1e-9; h += stepH) {
    const x = xs(h * 3600);
    if (x < L - 1) continue;
    s.appendChild(svg("text", { x, y: H - 10, class: "tick", "text-anchor": "middle" }, `${N.roundSig(h, 3)} h`));
  }
  // what the hours count from (the axis had read "0 h … 3 h" alone; situation-room audit, session 40)
  const v0 = state.view;
  s.appendChild(svg("text", { x: W - R, y: H - B - 4, class: "tick", "text-anchor": "end" },
    v0 && v0.start ? `hours after ${clockAt(0)}` : "hours after the start"));
  s.appendChild(svg("path", { d: `M${L} ${T}V${H - B}H${W - R}`, class: "axis" }));
  const line = (arr, cls) => {
    let d = "", pen = false;
    arr.forEach((c, i) => {
      if (fin(c) && c > 0) {
        const y = Math.min(ly(Math.max(c, lo)), H - B);
        d += `${pen ? "L" : "M"}${xs(ts[i]).toFixed(1)} ${y.toFixed(1)}`; pen = true;
      } else pen = false;
    });
    if (d) s.appendChild(svg("path", { d, class: cls }));
  };
  for (const lv of ["1", "2", "3"]) if (data.aegl[lv]) line(data.aegl[lv], `curve${lv}`);
  if (data.indoor) line(data.indoor, "series indoor");
  line(data.conc, "series");
  const t = tNow();
  if (fin(t)) { const x = xs(t); s.appendChild(svg("line", { x1: x, x2: x, y1: T, y2: H - B, class: "now" })); }
  let lx = L + 8;
  for (const [cls, label] of [["series", "outdoors"], ["series indoor", "indoors"], ["curve1", "AEGL-1"], ["curve2", "AEGL-2"], ["curve3", "AEGL-3"]]) {
    if (cls === "series indoor" && !data.indoor) continue;
    if (cls.startsWith("curve") && !data.aegl[cls.slice(5)]) continue;
    s.appendChild(svg("path", { d: `M${lx} ${T + 8}h18`, class: cls }));
    s.appendChild(svg("text", { x: lx + 22, y: T + 12, class: "label" }, label));
    lx += 34 + 7 * label.length;
  }
}

// ------------------------------------------------------------------ plans

function drawPlans() {
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
    b.addEventListener("click", () => switchView(p.view));
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

// ------------------------------------------------------------------ views

function drawViews() {
  const nav = $("views");
  clear(nav);
  for (const v of state.summary.views) {
    const b = el("button", { type: "button", "data-view": v.id, class: v.id === state.vid ? "active" : "" }, v.label);
    b.addEventListener("click", () => switchView(v.id));
    nav.appendChild(b);
  }
}

async function switchView(vid) {
  stop();
  const view = await getJSON(`/api/view/${vid}`);
  const sameGrid = state.view && JSON.stringify(state.view.grid) === JSON.stringify(view.grid);
  const before = state.view ? tNow() : NaN;  // the time shown so far (another view, or a reload)
  state.vid = vid;
  state.view = view;
  state.frameUrls = new Map();
  state.probUrl = null;
  state.probEmpty = false;
  state.frontHours = null;
  if (!sameGrid) state.viewBox = fitBox(view);
  $("map").setAttribute("viewBox", state.viewBox.join(" "));
  const slider = $("time-slider");
  slider.max = String(Math.max(view.times_s.length - 1, 0));
  // first load: the frame holding the issue time; then the same time in the new view
  state.k = fin(before) && view.times_s.length ? Math.min(frameAt(before), view.times_s.length - 1) : openingFrame(view);
  slider.value = String(state.k);
  const sel = $("prob-level");
  clear(sel);
  const levels = (view.layers && view.layers.probability) || [];
  for (const lv of levels) sel.appendChild(el("option", { value: lv }, single() ? `${lv} reached (one member)` : `P(${lv})`));
  if (levels.length) sel.value = levels[levels.length - 1];
  $("show-prob").parentElement.hidden = !levels.length;
  $("show-front").parentElement.hidden = !(view.layers && view.layers.front);
  $("show-field").parentElement.hidden = !view.n_frames;
  $("map-note").textContent = view.n_frames ? "" : levels.length ? (single()
    ? "This plan has no concentration forecast of its own: the map shows where its one member reaches the chosen AEGL (not a probability)."
    : "This plan has no concentration forecast of its own: the map shows its probability of exceedance.") : "No concentration map in this view.";
  addProblems(view.problems || []);
  drawViews();
  drawPlans();
  drawLegend();
  if (state.selected && state.selected.receptor !== null) {
    const idx = view.receptors.findIndex((r) => r.name === state.selected.name);
    if (idx >= 0) { await selectReceptor(idx); } else { state.selected = null; $("detail").hidden = true; }
  }
  await render();
}

async function render() {
  const t = tNow();
  $("time-label").textContent = fin(t) ? timeText(t) : wholeForecast() ? "whole forecast (no time steps in the folder)" : "—";
  drawMarkers();
  drawMonitors();
  drawTotals();
  try {
    await Promise.all([drawField(), drawProbability(), drawFront()]);
  } catch (err) { showError(err); }
  if (state.selected) drawDetail();
}

function setFrame(k) {
  state.k = k;
  $("time-slider").value = String(k);
  return render();
}

function stop() {
  state.playing = false;
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
  $("play").textContent = "▶";
  $("play").setAttribute("aria-label", "play");
}

function play() {
  const v = state.view;
  if (!v || v.times_s.length < 2) return;
  state.playing = true;
  $("play").textContent = "❚❚";
  $("play").setAttribute("aria-label", "pause");
  if (state.k >= v.times_s.length - 1) state.k = 0;
  const tick = async () => {
    if (!state.playing) return;
    await setFrame(state.k);
    if (state.k >= state.view.times_s.length - 1) { stop(); return; }
    state.k += 1;
    state.timer = setTimeout(tick, PLAY_MS);
  };
  tick();
}

// ------------------------------------------------------------------ search

function setupSearch() {
  const input = $("search");
  const list = $("search-results");
  let timer = null;
  let seq = 0;
  const run = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { clear(list); return; }
    const data = await getJSON(`/api/search?${new URLSearchParams({ q, view: state.vid || "run" })}`);
    if (mine !== seq) return;
    clear(list);
    for (const hit of data.results) {
      const li = el("li", { tabindex: "0", "data-name": hit.name },
        `${hit.name}${hit.country ? ", " + hit.country : ""} — ${N.people(hit.population)} people${hit.receptor !== null ? " · monitored" : ""}`);
      const pick = () => (hit.receptor !== null ? selectReceptor(hit.receptor) : selectPoint(hit));
      li.addEventListener("click", pick);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
      list.appendChild(li);
    }
    if (!data.results.length) list.appendChild(el("li", { class: "none" }, `no city named “${q}”`));
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => run().catch(showError), 120); });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { const first = list.querySelector("li[data-name]"); if (first) first.click(); }
  });
}

// ------------------------------------------------------------------ live

function setupLive() {
  if (!window.EventSource) return;
  const es = new EventSource("/api/live");
  es.addEventListener("progress", (ev) => showLive(JSON.parse(ev.data)));
  es.addEventListener("folder", () => scheduleReload());
}

function showLive(d) {
  const box = $("live");
  if (!d) { box.hidden = true; return; }
  box.hidden = false;
  box.className = d.state || "";
  const title = d.title ? `${d.title}: ` : "";
  const labels = { starting: "starting", running: "running", done: "finished", failed: "failed", stale: "no progress",
    stopped: "stopped", unknown: "unknown" };
  $("live-state").textContent = title + (labels[d.state] || d.state || "");
  const p = $("live-progress");
  if (fin(d.step) && fin(d.n_steps) && d.n_steps > 0) { p.max = d.n_steps; p.value = d.step; p.hidden = false; } else p.hidden = d.state !== "running";
  const parts = [];
  if (d.sim_time) parts.push(`simulated ${N.clock(d.sim_time)}`);
  if (fin(d.particle_steps_per_s)) parts.push(`${N.roundSig(d.particle_steps_per_s / 1e6)} M particle-steps/s`);
  if (d.message) parts.push(d.message);
  $("live-detail").textContent = parts.join(" · ");
  // results written before this run started, shown under its name (live.py: _older_results)
  const older = $("live-older");
  older.hidden = !d.older_results;
  older.textContent = d.older_results || "";
  if (d.state === "done") scheduleReload();
}

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => load().catch(showError), 400);
}

// ------------------------------------------------------------------ start

async function loadGeo() {
  const geo = await getJSON("/api/geo");
  $("land").setAttribute("d", geo.land);
  $("coast").setAttribute("d", geo.coast);
  $("credit").textContent = geo.credit;
}

async function load() {
  const sm = await getJSON("/api/summary");
  if (state.lastSignature === sm.signature && state.view) { showLive(sm.live); return; }
  state.lastSignature = sm.signature;
  state.summary = sm;
  resetProblems();
  const running = sm.live && ["starting", "running"].includes(sm.live.state);
  if (!(running && !sm.usable)) addProblems(sm.problems);  // an empty folder is expected while a run starts
  $("title").textContent = `${sm.title} — situation room`;
  document.title = `${sm.title}: plumecast situation room`;
  $("folder").textContent = sm.folder;
  const files = $("files");
  clear(files);
  for (const f of sm.files || []) {
    if (f === "live.json") continue;
    files.appendChild(el("a", { href: `/files/${encodeURIComponent(f)}`, target: "_blank", rel: "noopener" }, f));
  }
  showLive(sm.live);
  drawViews();
  const ids = sm.views.map((v) => v.id);
  $("layer-toggles").hidden = !ids.length;
  if (!ids.length) {
    const liveState = sm.live && sm.live.state;
    $("map-note").textContent = !sm.live ? "No results in this folder."
      : liveState === "failed" ? "The run failed before writing results (see the state above)."
        : liveState === "stale" ? "The run has made no progress for a while and has written no results yet."
        : liveState === "stopped" ? "The run stopped without finishing and wrote no results (see the state above)."
          : liveState === "done" ? "The run has finished; its results are being read…"
            : "Waiting for the first results of the run…";
    drawPlans();
    return;
  }
  await switchView(ids.includes(state.vid) ? state.vid : ids[0]);
}

function setup() {
  $("time-slider").addEventListener("input", (ev) => { stop(); state.follow = false; setFrame(Number(ev.target.value)).catch(showError); });
  $("play").addEventListener("click", () => { state.follow = false; return state.playing ? stop() : play(); });
  for (const id of ["show-field", "show-prob", "show-front"]) $(id).addEventListener("change", () => render().catch(showError));
  $("prob-level").addEventListener("change", () => { state.probUrl = null; render().catch(showError); });
  $("detail-close").addEventListener("click", () => { state.selected = null; state.pin = null; $("detail").hidden = true; drawMarkers(); drawPin(); });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
    const v = state.view;
    if (!v) return;
    if (ev.key === " ") { ev.preventDefault(); state.follow = false; state.playing ? stop() : play(); }
  });
  setupPanZoom();
  setupSearch();
  setupLive();
  // live countdowns: while they run from the clock, they are redrawn as it moves, and the slider
  // follows the clock (its frame's map, levels and totals) until the user moves it or plays
  setInterval(() => {
    if (!state.view) return;
    const from = countdownRef(tNow()).from;
    const changed = from !== state.lastFrom;
    state.lastFrom = from;
    if (from !== "clock" && !changed) return;
    const k = openingFrame(state.view);
    if (state.follow && !state.playing && k !== state.k) {
      setFrame(k).catch(showError);  // redraws the monitors and the detail too
      return;
    }
    drawMonitors();
    if (state.selected) drawDetail();
  }, LIVE_REDRAW_MS);
}

setup();
Promise.all([loadGeo(), load()]).then(() => { document.body.dataset.ready = "1"; }).catch((err) => { showError(err); document.body.dataset.ready = "1"; });
