// How numbers are shown to people: the rules of plumecast.numbers (DESIGN.md,
// "Honest numbers"), ported line by line. Two significant figures, with a range
// where one exists; unknown is "unknown", never 0; countdowns err early.
// tests/web/test_browser.py checks these functions against the Python module.

export const UNKNOWN = "unknown";

function finite(x) {
  return typeof x === "number" && Number.isFinite(x);
}

// The double x exactly: |x| = mant * 2^exp (BigInt mant).
function exactParts(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) return { mant, exp: -1074 };
  mant |= 1n << 52n;
  return { mant, exp: e - 1075 };
}

// |x| * 10^digits rounded to an integer (a BigInt), from the double's exact binary value,
// half to even on exact ties: what Python's round() and format(x, ".Nf") do. (x * 10^d in
// floating point is not exact: 9.95 * 10 gives 99.5, a tie, where 9.95 is 9.9499999…)
function scaledInt(x, digits) {
  const { mant, exp } = exactParts(x);
  let num = mant, den = 1n;
  if (exp >= 0) num <<= BigInt(exp); else den <<= BigInt(-exp);
  if (digits >= 0) num *= 10n ** BigInt(digits); else den *= 10n ** BigInt(-digits);
  const q = num / den, twice = 2n * (num % den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

// Python's round(x, digits) for a float: the double nearest to the correctly rounded decimal.
function pyRound(x, digits) {
  if (!finite(x) || x === 0) return x;
  return Number(`${x < 0 ? "-" : ""}${scaledInt(x, digits)}e${-digits}`);
}

// Python's format(x, ".{d}f") (with comma groups: ",.{d}f"); digits rounded as Python does.
function fixed(x, d, group = false) {
  let s = scaledInt(x, d).toString();
  let frac = "";
  if (d > 0) {
    s = s.padStart(d + 1, "0");
    frac = "." + s.slice(-d);
    s = s.slice(0, -d);
  }
  if (group) s = s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${x < 0 || Object.is(x, -0) ? "-" : ""}${s}${frac}`;
}

export function roundSig(x, sig = 2) {
  if (!finite(x) || x === 0) return x;
  const digits = sig - 1 - Math.floor(Math.log10(Math.abs(x)));
  return pyRound(x, digits);
}

function decimals(v, sig) {
  return v ? Math.max(0, sig - 1 - Math.floor(Math.log10(Math.abs(v)))) : 0;
}

function grouped(v, d) {
  return fixed(v, d, true);
}

export function people(x, sig = 2) {
  if (x === null || x === undefined || !finite(x)) return UNKNOWN;
  if (x === 0) return "0";
  if (Math.abs(x) < 1) return "< 1";
  // whole people, rounded once (plumecast.numbers.people)
  if (Math.abs(x) < 10) return grouped(x, 0);
  const r = roundSig(x, sig);
  if (Math.abs(r) >= 1e9) return `${fixed(r / 1e9, decimals(r / 1e9, sig))} billion`;
  if (Math.abs(r) >= 1e6) return `${fixed(r / 1e6, decimals(r / 1e6, sig))} million`;
  return grouped(r, 0);
}

// plumecast.numbers.span: a dash only between counts written in the same scale ("44 to 46,000")
function scale(text) {
  const word = text.endsWith("million") || text.endsWith("billion") ? text.slice(text.lastIndexOf(" ") + 1) : "";
  return `${word}|${text.includes(",")}`;
}

export function span(lo, hi) {
  const same = scale(lo) === scale(hi) && !lo.startsWith("<") && !hi.startsWith("<");
  return same ? `${lo}–${hi}` : `${lo} to ${hi}`;
}

export function peopleRange(central, low, high) {
  const text = people(central);
  if (!(finite(low) && finite(high))) return text;
  const lo = people(low);
  const hi = people(high);
  if (lo === hi && hi === text) return text;
  return `${text} (${span(lo, hi)})`;
}

// plumecast.numbers.lives_saved: the sign kept ("costs 5"; people() says "< 1" for either sign)
export function livesSaved(x) {
  if (x !== null && x !== undefined && finite(x) && x < 0) return `costs ${people(-x)}`;
  return people(x);
}

// plumecast.numbers.lives_saved_range
export function livesSavedRange(central, low, high) {
  if (!(finite(low) && finite(high)) || !finite(central)) return livesSaved(central);
  if (low >= 0) return peopleRange(central, low, high);
  if (high <= 0 && central <= 0) {
    if (central < 0 && peopleRange(-central, -high, -low) === people(-central)) return livesSaved(central);
    // a median of 0 has no sign of its own: the range says they are lives lost
    return `${livesSaved(central)} (${central < 0 ? "" : "costs "}${span(people(-high), people(-low))})`;
  }
  const text = livesSaved(central);
  return high > 0 ? `${text} (costs ${people(-low)} – saves ${people(high)})` : `${text} (costs ${people(-low)} – ${people(-high)})`;
}

// plumecast.numbers.PERCENT_FLOOR: a known positive percentage below it reads "< 0.01 %"
export const PERCENT_FLOOR = 0.01;

export function percent(x) {
  if (x === null || x === undefined || !finite(x)) return UNKNOWN;
  if (x === 0) return "0 %";
  if (x > 0 && x < PERCENT_FLOOR) return "< 0.01 %";
  const r = roundSig(x, 2);
  return Math.abs(r) < 10 ? `${grouped(r, decimals(r, 2))} %` : `${grouped(r, 0)} %`;
}

// plumecast.numbers.FEW_MEMBERS: below it a share of members reads as a count ("1 of 6")
export const FEW_MEMBERS = 21;

// plumecast.numbers.members_share: "1 of 6", "2 of 4 known", "34 %", "25 % of 40 known"
export function membersShare(p, nKnown, nMembers = null) {
  if (p === null || p === undefined || !finite(p) || !(nKnown >= 1)) return UNKNOWN;
  const known = nMembers !== null && nMembers !== undefined && nMembers > nKnown ? " known" : "";
  if (nKnown < FEW_MEMBERS) return `${pyRound(p * nKnown, 0)} of ${nKnown}${known}`;
  return percent(100 * p) + (known ? ` of ${nKnown}${known}` : "");
}

function hm(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min`;
}

export function countdown(seconds) {
  if (seconds === null || seconds === undefined || !finite(seconds)) return "—";
  if (seconds >= 0) {
    const minutes = Math.floor(seconds / 60);
    return minutes === 0 ? "now" : `in ${hm(minutes)}`;
  }
  return `passed ${hm(Math.ceil(-seconds / 60))} ago`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// "10 Mar 14:25 UTC" (plumecast.numbers.clock): the day before the month's name, since
// "03-10 14:25 UTC" reads 3 October in most of Europe (situation-room audit, session 40).
export function clock(iso) {
  if (!iso) return "—";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "—";
  const hm = t.toISOString().slice(11, 16);
  return `${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${hm} UTC`;
}

// A concentration in kg m-3 for an axis or a legend: two significant figures in
// the unit that keeps the number readable.
export function concentration(kg) {
  if (!finite(kg)) return UNKNOWN;
  if (kg === 0) return "0";
  const units = [[1e-6, "mg m⁻³"], [1e-9, "µg m⁻³"], [1e-12, "ng m⁻³"]];
  for (const [f, u] of units) {
    if (Math.abs(kg) >= f) return `${fmtSig(kg / f)} ${u}`;
  }
  return `${fmtSig(kg / 1e-12)} ng m⁻³`;
}

function fmtSig(v) {
  const r = roundSig(v, 2);
  return Math.abs(r) >= 10 ? grouped(r, 0) : grouped(r, decimals(r, 2));
}

// Hours after the release start, for a view with no calendar times.
export function hours(seconds) {
  if (!finite(seconds)) return "—";
  return seconds >= 0 ? `T+${hm(Math.floor(seconds / 60))}` : `T−${hm(Math.ceil(-seconds / 60))}`;
}

if (typeof window !== "undefined") {
  window.plumecastNumbers = { roundSig, people, peopleRange, livesSaved, livesSavedRange, percent, countdown, clock, concentration,
    hours };
}
