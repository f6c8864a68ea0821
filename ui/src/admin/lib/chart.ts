// Geometry of the usage chart: scales, SVG paths and markers, computed as
// plain data so it can be tested without a DOM. The component only draws.

import type { UsageHistory, UsagePoint } from "../types";
import { plural } from "./format";

export interface ChartOptions {
  /** Left edge of the time axis, unix ms. */
  fromMs: number;
  /** Right edge of the time axis, unix ms. */
  toMs: number;
  bucketMinutes: number;
  width: number;
  height: number;
  locale?: string;
}

export interface Plot {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface Tick {
  /** Pixel position along the axis. */
  at: number;
  label: string;
}

export interface RefusedMarker {
  x: number;
  atMs: number;
  count: number;
}

export interface UsageChart {
  plot: Plot;
  yMax: number;
  yTicks: Tick[];
  xTicks: Tick[];
  /** Columns of peak lines in use, one closed sub-path per bucket. */
  peakPath: string;
  /** The licensed limit as a step line, broken where there is no data. */
  licensedPath: string;
  refused: RefusedMarker[];
}

export const MARGIN = { top: 22, right: 16, bottom: 28, left: 40 } as const;
/** Width a day label needs to the right of its tick. */
const LABEL_ROOM = 48;

/** The smallest "nice" step (1, 2 or 5 × 10ⁿ, at least 1) that splits `max` into ≤ `count` parts. */
export function niceStep(max: number, count = 5): number {
  const raw = Math.max(1, max / count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

export function buildUsageChart(points: readonly UsagePoint[], o: ChartOptions): UsageChart {
  const plot: Plot = {
    left: MARGIN.left,
    top: MARGIN.top,
    right: o.width - MARGIN.right,
    bottom: o.height - MARGIN.bottom,
  };
  const span = Math.max(1, o.toMs - o.fromMs);
  const x = (ms: number) => round(plot.left + ((clamp(ms, o.fromMs, o.toMs) - o.fromMs) / span) * (plot.right - plot.left));

  const highest = points.reduce((m, p) => Math.max(m, p.peak, p.licensed), 1);
  const step = niceStep(highest);
  const yMax = Math.ceil(highest / step) * step;
  const y = (v: number) => round(plot.bottom - (v / yMax) * (plot.bottom - plot.top));

  const yTicks: Tick[] = [];
  for (let v = 0; v <= yMax; v += step) yTicks.push({ at: y(v), label: String(v) });

  const bucketMs = Math.max(1, o.bucketMinutes) * 60_000;
  const visible = points.filter((p) => p.at_ms + bucketMs > o.fromMs && p.at_ms < o.toMs);

  let peakPath = "";
  let licensedPath = "";
  let lastEnd: number | null = null;
  const refused: RefusedMarker[] = [];
  for (const p of visible) {
    const x0 = x(p.at_ms);
    const x1 = x(p.at_ms + bucketMs);
    if (p.peak > 0) peakPath += `M${x0} ${y(p.peak)}H${x1}V${plot.bottom}H${x0}Z`;
    const yl = y(p.licensed);
    licensedPath += lastEnd === p.at_ms ? `V${yl}H${x1}` : `M${x0} ${yl}H${x1}`;
    lastEnd = p.at_ms + bucketMs;
    if (p.refused > 0) refused.push({ x: round((x0 + x1) / 2), atMs: p.at_ms, count: p.refused });
  }

  // A label starts at its midnight; one too close to the right edge would be cut off.
  const xTicks = dayTicks(o, x).map((t) => (t.at > plot.right - LABEL_ROOM ? { ...t, label: "" } : t));
  return { plot, yMax, yTicks, xTicks, peakPath, licensedPath, refused };
}

/** A tick at each local midnight inside the range, labelled "Mon 30". */
function dayTicks(o: ChartOptions, x: (ms: number) => number): Tick[] {
  const ticks: Tick[] = [];
  const day = new Date(o.fromMs);
  day.setHours(0, 0, 0, 0);
  if (day.getTime() < o.fromMs) day.setDate(day.getDate() + 1);
  while (day.getTime() <= o.toMs) {
    ticks.push({
      at: x(day.getTime()),
      label: day.toLocaleDateString(o.locale, { weekday: "short", day: "numeric" }),
    });
    day.setDate(day.getDate() + 1);
  }
  return ticks;
}

/**
 * One sentence for sizing the licence, e.g. "Highest use in 7 days: 8 of
 * 10 lines; 3 joins refused."
 */
export function sizingHint(history: UsageHistory, days: number): string {
  const period = days === 1 ? "the last day" : `${days} days`;
  const top = history.points.reduce<UsagePoint | null>(
    (best, p) => (best === null || p.peak > best.peak ? p : best),
    null,
  );
  if (top === null) return `No use recorded in ${period} yet.`;
  const refused = history.points.reduce((sum, p) => sum + p.refused, 0);
  const use = `Highest use in ${period}: ${top.peak} of ${plural(top.licensed, "line")}`;
  if (refused > 0) {
    return `${use}; ${plural(refused, "join")} refused because every line was in use.`;
  }
  if (top.peak >= top.licensed) return `${use}; no joins refused, but every line was in use at the peak.`;
  return `${use}; no joins refused.`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
