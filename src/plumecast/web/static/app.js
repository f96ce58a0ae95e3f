// plumecast situation room. Plain JavaScript and SVG; everything comes from this
// server (no CDN, no tiles). Numbers shown to people go through numbers.js, the
// port of plumecast.numbers.
import * as N from "./numbers.js";
import {
  $, PLAY_MS, state, LIVE_REDRAW_MS, getJSON, getBytes, el, svg, clear, placeName, fin, showError, addProblems, resetProblems, ramp, FIELD_LUT, PROB_LUT, bytesToUrl, mapX, place, concToT, tNow, single, nSets, frameAt, openingFrame, countdownRef, refText, wholeForecast, timeText, originText, levelAt, levelText, shareOf, metricAt, countdownCell, clockAt, reached, hooks, focusedId, refocus, chartWidth, wrapText,
} from "./core.js";
import { drawMarkerKey, drawMonitors, drawTotals, setsText, shelterText } from "./monitors.js";
import { drawDelay, drawPlans } from "./plans.js";

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
  const focused = focusedId(g);
  clear(g);
  const v = state.view;
  if (!v) return;
  const t = tNow();
  const pops = v.receptors.map((r) => r.population).filter(fin);
  const maxPop = pops.length ? Math.max(...pops) : 0;
  const order = [...v.receptors].sort((a, b) => (fin(b.population) ? b.population : 0) - (fin(a.population) ? a.population : 0))
    .filter((r) => fin(r.lat) && fin(r.lon));
  // the keyboard: the discs are one stop of the Tab order (the focused one, else the selected city, else the
  // largest), the arrow keys move between them by population, Enter or space opens one (they answered only a
  // click, so a city's detail could be reached from the keyboard only through the search: audit 42)
  const ids = order.map((r) => r.id);
  if (!ids.includes(state.markerFocus)) {
    state.markerFocus = state.selected && ids.includes(state.selected.receptor) ? state.selected.receptor : ids[0];
  }
  for (const r of order) {
    const lv = levelAt(r, t);
    const label = `${placeName(r)}: ${levelText(r, lv)}; ${N.people(r.population)} people`;
    const c = svg("circle", {
      cx: mapX(r.lon), cy: 90 - r.lat, r: markerRadius(r.population, maxPop),
      class: `marker l${lv}${state.selected && state.selected.receptor === r.id ? " selected" : ""}`,
      "data-name": r.name, "data-level": lv, "data-id": String(r.id), role: "button", "aria-label": label,
      tabindex: r.id === state.markerFocus ? "0" : "-1",
    });
    c.appendChild(svg("title", {}, label));
    c.addEventListener("click", () => selectReceptor(r.id));
    c.addEventListener("keydown", (ev) => markerKey(ev, r.id, ids));
    g.appendChild(c);
  }
  refocus(g, focused);
}

function markerKey(ev, id, ids) {
  if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); selectReceptor(id); return; }
  const i = ids.indexOf(id);
  const j = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: ids.length - 1 }[ev.key];
  if (j === undefined) return;
  ev.preventDefault();
  state.markerFocus = ids[Math.min(Math.max(j, 0), ids.length - 1)];
  for (const c of $("markers").children) c.setAttribute("tabindex", c.dataset.id === String(state.markerFocus) ? "0" : "-1");
  const next = $("markers").querySelector(`[data-id="${state.markerFocus}"]`);
  if (next) next.focus();
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
  // drawn at its box's width on a narrow screen: its text had shrunk to 4-6 px at 360 px (audit 42, #7)
  const W = chartWidth(s, 600);
  s.setAttribute("viewBox", `0 0 ${W} 46`);
  if (!v || !v.scale) {
    if (v && v.layers && v.layers.probability && v.layers.probability.length) {
      drawProbLegend(s, W - 10);
      note.textContent = probNote();
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
  const x0 = 10, x1 = W - 10;
  s.appendChild(svg("rect", { x: x0, y: 4, width: x1 - x0, height: 14, fill: "url(#lg)" }));
  const X = (c) => x0 + (x1 - x0) * concToT(c, v.scale);
  for (const c of [v.scale.vmin, v.scale.vmax]) {
    s.appendChild(svg("text", { x: X(c), y: 44, class: "tick scale-end", "text-anchor": c === v.scale.vmin ? "start" : "end" }, N.concentration(c)));
  }
  const colours = { 1: "#b89400", 2: "#c8620a", 3: "#c81e1e" };
  // labels too close to the one before go on a row under it (they printed over each other on a narrow screen)
  const rowEnds = [];
  const rowFor = (left, right) => {
    let i = rowEnds.findIndex((end) => end + 6 <= left);
    if (i < 0) { i = rowEnds.length; rowEnds.push(right); } else rowEnds[i] = right;
    return i;
  };
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
      const wide = 6.4 * label.length;
      const left = anchor === "end" ? x - wide : anchor === "middle" ? x - wide / 2 : x;
      const row = rowFor(left, left + wide);
      s.appendChild(svg("line", { x1: x, x2: x, y1: 0, y2: 22 + 12 * row, stroke: colours[lv], "stroke-width": 2.5 }));
      s.appendChild(svg("text", { x: x, y: 32 + 12 * row, class: "tick", "text-anchor": anchor, fill: colours[lv] }, label));
    }
  }
  const extra = 12 * Math.max(rowEnds.length - 1, 0);
  if (extra) {
    s.setAttribute("viewBox", `0 0 ${W} ${46 + extra}`);
    for (const t of s.querySelectorAll("text.scale-end")) t.setAttribute("y", String(44 + extra));
  }
  note.textContent = `Near-surface concentration, ${N.roundSig((v.interval_s || 3600) / 60)}-min mean on the output grid, log scale. ` +
    (v.aegl ? "AEGL marks: the 1-h values; a city's level uses the AEGL for its elapsed exposure. " : "AEGL values unknown. ") +
    (v.agent ? `Agent: ${v.agent.name} (AEGL values: ${v.agent.check}).` : "") +
    (v.layers && v.layers.probability && v.layers.probability.length ? ` ${probNote()}` : "") + mapGapText(v);
}

// Where cities reach a level that no cell of the map reaches at any time in the forecast (its highest value below that
// level's lowest AEGL, the 8-h one), the caveat the comparison view and the compare console give: the map never
// reached AEGL-2 in the Rhine run while Duisburg stood at 290 % of AEGL-3, and the run view said nothing (audit 42,
// #14). The highest such level; "" where there is none.
function mapGapText(v) {
  if (!v || !fin(v.field_max) || !v.aegl || !v.n_frames) return "";
  for (const lv of ["3", "2", "1"]) {
    const a = v.aegl[lv];
    const values = a ? ["10min", "60min", "8h"].map((k) => a[k]).filter(fin) : [];
    if (!values.length || v.field_max >= Math.min(...values)) continue;
    const cities = v.receptors.filter((r) => r.known && r.first && fin(r.first[lv]));
    if (!cities.length) continue;
    const top = cities.reduce((x, r) => (fin(r.peak_percent_aegl3) && !(r.peak_percent_aegl3 <= x.peak_percent_aegl3) ? r : x));
    const peak = fin(top.peak_percent_aegl3) ? `: peak ${N.percent(top.peak_percent_aegl3)} of AEGL-3` : "";
    const g = v.grid;
    const cell = g ? `${N.roundSig((g.lon1 - g.lon0) / g.nlon, 2)}° ` : "";
    return ` No cell of the output grid reaches AEGL-${lv} at any time in the forecast (the map's highest value, `
      + `${N.concentration(v.field_max)}, is below AEGL-${lv} for every exposure), yet ${cities.length} `
      + `${cities.length === 1 ? "city reaches" : "cities reach"} it (${placeName(top)}${peak}): a grid-cell mean over the `
      + `${cell}cell and the ${N.roundSig((v.interval_s || 3600) / 60)}-min interval understates the exposure in a city; `
      + "the cities' levels come from their own series (see the monitors).";
  }
  return "";
}

// The probability layer is the whole forecast's (exceedance_probability.nc has no time): it stays as the slider
// moves, and the page says so (blue over continents at T+0, before any release, read as the state then: audit 42).
function probNote() {
  return (single()
    ? "Blue: cells where the one member reaches the chosen AEGL (no ensemble: not a probability)"
    : "Blue: share of ensemble members in which the cell reaches the chosen AEGL (darker: more members)")
    + " at any time in the whole forecast, not at the slider time: it does not change with the slider.";
}

// The probability layer's colour scale: the share of members (PROB_LUT), or the one member's
// "reached" colour.
function drawProbLegend(s, x1) {
  const colour = (b) => `rgb(${PROB_LUT[4 * b]},${PROB_LUT[4 * b + 1]},${PROB_LUT[4 * b + 2]})`;
  const opacity = (b) => (PROB_LUT[4 * b + 3] / 255).toFixed(3);
  const x0 = 10;
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
      // the first and the last label inside the scale (a narrow block had cut "20 of 20" at the edge)
      const [lx, anchor] = k === 1 && w < 60 ? [x, "start"] : k === n && w < 60 ? [x + w - 2, "end"] : [x + w / 2, "middle"];
      if (n <= 10 || k === 1 || k === n || 2 * k === n)
        s.appendChild(svg("text", { x: lx, y: 36, class: "tick", "text-anchor": anchor }, `${k} of ${n}`));
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

// ------------------------------------------------------------------ detail chart

// close the detail panel (its ×, or Escape anywhere); the focus, if it was in the panel, goes back to the city's
// monitor row or disc, else to the search
function closeDetail() {
  const inside = $("detail").contains(document.activeElement);
  const id = state.selected ? state.selected.receptor : null;
  state.selected = null; state.pin = null; $("detail").hidden = true; drawMarkers(); drawPin();
  if (!inside) return;
  const back = id === null ? null
    : $("monitors").querySelector(`tr[data-id="${id}"]`) || $("markers").querySelector(`[data-id="${id}"]`);
  (back || $("search")).focus();
}

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
    if (r.worst_part) add("part of the city", "a plume crosses it: its level, peak and % of AEGL-3 are its most exposed part's, not all its people's; its expected fatalities are the whole city's");
    if (v.pct3) add("% of AEGL-3 at the slider time", N.percent(metricAt(r)));
    else if (wholeForecast() && !r.ensemble && "peak_percent_aegl3" in r) add("highest % of AEGL-3 in the forecast", N.percent(metricAt(r)));
    for (const lv2 of ["2", "3"]) {
      const c = countdownCell(r, r.first && r.first[lv2], ref, lv2);
      add(`AEGL-${lv2}`, c.text === "—" ? "not reached in the forecast" : c.text);
    }
    add("countdowns from", refText(ref));
    if (fin(r.front_s)) add(single() ? "front (one member)" : "front (earliest member)",
      `${N.countdown(r.front_s - ref.s)} (${clockAt(r.front_s)})`);
    // what the range spans and what the shelter assumes, as the totals say it (audit 42, #12)
    const sets = setsText(v.totals, true);
    if ("fatalities" in r) add(`expected fatalities${sets ? ` (${sets})` : ""}`, N.peopleRange(r.fatalities, r.fatalities_low, r.fatalities_high));
    // the run's table gives both (the page had given the outdoor figure alone; situation-room audit, session 40)
    if ("fatalities_sheltered" in r && r.fatalities_sheltered !== null) {
      add(`with shelter-in-place (${shelterText(v.totals)})`,
        N.peopleRange(r.fatalities_sheltered, r.fatalities_sheltered_low, r.fatalities_sheltered_high));
    }
    if (r.ensemble && single()) {  // one member: whether that run reaches a level, its figure without interval
      const e = r.ensemble;
      add("AEGL-2 / AEGL-3 reached (one member, whole forecast)", `${reached(e.p_aegl2)} / ${reached(e.p_aegl3)}`);
      add(nSets() ? "expected fatalities (one member; range over the probit sets)" : "expected fatalities (one member)",
        N.peopleRange(e.fatalities[1], e.fatalities[0], e.fatalities[2]));
    } else if (r.ensemble) {
      const e = r.ensemble;
      add("P(AEGL-2) / P(AEGL-3), members, whole forecast", `${shareOf(e, "2")} / ${shareOf(e, "3")}`);
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
  const W = chartWidth(s, 640), H = 260, L = 84, R = 22, T = 10, B = 30;  // its box's width when narrow (audit 42, #7)
  s.setAttribute("viewBox", `0 0 ${W} ${H}`);
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
  // what the hours count from (the axis had read "0 h … 3 h" alone; situation-room audit, session 40), and what that
  // moment is (audit 42, #11): wrapped to the plot's width on a narrow screen, upwards from the axis
  const axisLines = wrapText(`hours after ${originText().slice(4)}`, W - L - R - 8);
  axisLines.forEach((text, i) => s.appendChild(svg("text", { x: W - R, y: H - B - 4 - 13 * (axisLines.length - 1 - i),
    class: "tick axis-origin", "text-anchor": "end" }, text)));
  s.appendChild(svg("path", { d: `M${L} ${T}V${H - B}H${W - R}`, class: "axis" }));
  // A curve leaving the chart through its floor is drawn to the floor, where it crosses it (log-linear between the
  // two values), and broken there, with a mark ▾ (it had been drawn along the floor: the indoor air, decaying below
  // it, read as staying at 0.7 mg m⁻³ for 13 h; audit 42, #13); it comes back where it rises through the floor.
  const floorY = H - B;
  const below = [];
  const line = (arr, cls, name) => {
    let d = "";
    let prev = null;  // [x, c] of the last value above zero
    let leftAt = null, under = false, any = false;  // when it last went below; whether it is below now, ever was
    arr.forEach((c, i) => {
      const x = xs(ts[i]);
      if (!(fin(c) && c > 0)) { prev = null; return; }
      const up = c >= lo;
      const cross = () => { const f = Math.log(prev[1] / lo) / Math.log(prev[1] / c); return prev[0] + f * (x - prev[0]); };
      if (up) {
        if (prev && prev[1] < lo) d += `M${cross().toFixed(1)} ${floorY.toFixed(1)}L`;
        else d += prev ? "L" : "M";
        d += `${x.toFixed(1)} ${ly(c).toFixed(1)}`;
        under = false;
      } else {
        if (prev && prev[1] >= lo) {
          const xc = cross();
          d += `L${xc.toFixed(1)} ${floorY.toFixed(1)}`;
          s.appendChild(svg("text", { x: xc, y: floorY - 2, class: "below-floor", "text-anchor": "middle", "data-curve": name }, "▾"));
        }
        if (!under) leftAt = ts[i];
        under = true; any = true;
      }
      prev = [x, c];
    });
    if (d) s.appendChild(svg("path", { d, class: cls }));
    if (any) below.push(`${name}: below the chart's floor (${N.concentration(lo)}) ${under ? `from ${clockAt(leftAt)} to the end` : "at times"}`);
  };
  for (const lv of ["1", "2", "3"]) if (data.aegl[lv]) line(data.aegl[lv], `curve${lv}`, `AEGL-${lv}`);
  if (data.indoor) line(data.indoor, "series indoor", "indoors");
  line(data.conc, "series", "outdoors");
  if (below.length) src.textContent += ` ${below.join("; ")} (▾ where it leaves the chart): not drawn below it.`;
  const t = tNow();
  if (fin(t)) { const x = xs(t); s.appendChild(svg("line", { x1: x, x2: x, y1: T, y2: H - B, class: "now" })); }
  let lx = L + 8, ly0 = T;
  for (const [cls, label] of [["series", "outdoors"], ["series indoor", "indoors"], ["curve1", "AEGL-1"], ["curve2", "AEGL-2"], ["curve3", "AEGL-3"]]) {
    if (cls === "series indoor" && !data.indoor) continue;
    if (cls.startsWith("curve") && !data.aegl[cls.slice(5)]) continue;
    if (lx > L + 8 && lx + 22 + 7 * label.length > W - R) { lx = L + 8; ly0 += 16; }  // a second row when narrow
    s.appendChild(svg("path", { d: `M${lx} ${ly0 + 8}h18`, class: cls }));
    s.appendChild(svg("text", { x: lx + 22, y: ly0 + 12, class: "label" }, label));
    lx += 34 + 7 * label.length;
  }
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
  for (const lv of levels) sel.appendChild(el("option", { value: lv }, single() ? `${lv} reached (one member), whole forecast` : `P(${lv}), whole forecast`));
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
  drawMarkerKey();
  if (state.selected && state.selected.receptor !== null) {
    const idx = view.receptors.findIndex((r) => r.name === state.selected.name);
    if (idx >= 0) { await selectReceptor(idx); } else { state.selected = null; $("detail").hidden = true; }
  }
  await render();
}

async function render() {
  const t = tNow();
  $("time-label").textContent = fin(t) ? timeText(t) : wholeForecast() ? "whole forecast (no time steps in the folder)" : "—";
  $("time-origin").textContent = fin(t) ? originText() : "";
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
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); } });
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
  $("detail-close").addEventListener("click", closeDetail);
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !$("detail").hidden) { closeDetail(); return; }
    if (ev.key !== " " || !state.view) return;
    // space plays or pauses from the page itself, the map or the slider only: on a button, a menu, a link, a
    // field, a monitor row, a search result or a city disc it is that control's own (it had started playback and
    // cancelled the control's action: space on a plan's "show" left the view unchanged; audit 42)
    const t = ev.target;
    const mine = t === document.body || t === document.documentElement || t === $("time-slider")
      || (t.closest && t.closest("#map") && !t.classList.contains("marker"));
    if (!mine) return;
    ev.preventDefault(); state.follow = false; state.playing ? stop() : play();
  });
  // the legend and the charts are drawn at their boxes' widths: again when these change
  let widths = "";
  window.addEventListener("resize", () => {
    clearTimeout(state.resizeTimer);
    state.resizeTimer = setTimeout(() => {
      const now = ["legend-svg", "delay-chart", "chart"].map((id) => Math.round($(id).getBoundingClientRect().width)).join();
      if (now === widths || !state.view) return;
      widths = now;
      drawLegend();
      if (state.summary && state.summary.plans.length) drawDelay();
      if (state.selected) drawChart();
    }, 150);
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

hooks.switchView = switchView;
hooks.selectReceptor = selectReceptor;
setup();
Promise.all([loadGeo(), load()]).then(() => { document.body.dataset.ready = "1"; }).catch((err) => { showError(err); document.body.dataset.ready = "1"; });
