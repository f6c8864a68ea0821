import { describe, expect, it } from "vitest";
import type { UsagePoint } from "../types";
import { MARGIN, buildUsageChart, niceStep, sizingHint } from "./chart";

const HOUR = 3_600_000;
// Midnight, 30 Nov 2026 in Berlin (the test run's zone) = 23:00 UTC on the 29th.
const FROM = new Date(2026, 10, 30).getTime();

function point(hours: number, peak: number, licensed = 10, refused = 0): UsagePoint {
  return { at_ms: FROM + hours * HOUR, peak, licensed, refused };
}

const BASE = { fromMs: FROM, toMs: FROM + 24 * HOUR, bucketMinutes: 60, width: 296, height: 150, locale: "en-GB" };
// With the margins this leaves a plot 240 px wide (10 px per hour) and 100 px high.
const LEFT = MARGIN.left;
const BOTTOM = 150 - MARGIN.bottom;

describe("niceStep", () => {
  it.each([
    [1, 1],
    [5, 1],
    [8, 2],
    [10, 2],
    [12, 5],
    [40, 10],
    [50, 10],
    [180, 50],
  ])("splits %i into steps of %i", (max, step) => {
    expect(niceStep(max)).toBe(step);
  });
});

describe("buildUsageChart", () => {
  it("scales the y axis to the licence and the peak, in nice steps", () => {
    const c = buildUsageChart([point(0, 3), point(1, 8)], BASE);
    expect(c.yMax).toBe(10);
    expect(c.yTicks.map((t) => t.label)).toEqual(["0", "2", "4", "6", "8", "10"]);
    expect(c.yTicks[0]?.at).toBe(BOTTOM);
    expect(c.yTicks.at(-1)?.at).toBe(MARGIN.top);
  });

  it("draws one column per bucket from the baseline to the peak", () => {
    const c = buildUsageChart([point(0, 5), point(2, 10)], BASE);
    expect(c.peakPath).toBe(`M${LEFT} ${BOTTOM - 50}H${LEFT + 10}V${BOTTOM}H${LEFT}Z` + `M${LEFT + 20} ${BOTTOM - 100}H${LEFT + 30}V${BOTTOM}H${LEFT + 20}Z`);
  });

  it("leaves out empty buckets and buckets outside the range", () => {
    const c = buildUsageChart([point(-5, 4), point(3, 0), point(30, 4)], BASE);
    expect(c.peakPath).toBe("");
  });

  it("draws the licensed limit as steps, broken where no data was recorded", () => {
    const c = buildUsageChart([point(0, 1, 10), point(1, 1, 5), point(5, 1, 5)], BASE);
    const y10 = BOTTOM - 100;
    const y5 = BOTTOM - 50;
    expect(c.licensedPath).toBe(`M${LEFT} ${y10}H${LEFT + 10}V${y5}H${LEFT + 20}M${LEFT + 50} ${y5}H${LEFT + 60}`);
  });

  it("marks refused joins in the middle of their bucket", () => {
    const c = buildUsageChart([point(0, 10, 10, 0), point(4, 10, 10, 3)], BASE);
    expect(c.refused).toEqual([{ x: LEFT + 45, atMs: FROM + 4 * HOUR, count: 3 }]);
  });

  it("puts a labelled tick at each local midnight", () => {
    const c = buildUsageChart([], { ...BASE, fromMs: FROM - 12 * HOUR, toMs: FROM + 36 * HOUR });
    expect(c.xTicks.map((t) => t.label)).toEqual(["Mon 30", "Tue 1"]);
    expect(c.xTicks.map((t) => t.at)).toEqual([LEFT + 60, LEFT + 180]);
  });

  it("keeps the tick but drops a label that would be cut off at the right edge", () => {
    const c = buildUsageChart([], { ...BASE, toMs: FROM + 2 * HOUR });
    expect(c.xTicks).toEqual([{ at: LEFT, label: "Mon 30" }]);
    const late = buildUsageChart([], { ...BASE, fromMs: FROM - 22 * HOUR, toMs: FROM + 2 * HOUR });
    expect(late.xTicks).toEqual([{ at: LEFT + 220, label: "" }]);
  });

  it("still has a scale without any data", () => {
    const c = buildUsageChart([], BASE);
    expect(c.yMax).toBe(1);
    expect(c.peakPath).toBe("");
    expect(c.licensedPath).toBe("");
  });
});

describe("sizingHint", () => {
  const history = (points: UsagePoint[]) => ({ bucket_minutes: 15, points, days: [] });

  it("states the highest use and the refused joins", () => {
    const h = history([point(0, 3), point(1, 8, 10, 1), point(2, 6, 10, 2)]);
    expect(sizingHint(h, 7)).toBe("Highest use in 7 days: 8 of 10 lines; 3 joins refused because every line was in use.");
  });

  it("says when every line was taken even without refusals", () => {
    expect(sizingHint(history([point(0, 5, 5)]), 7)).toBe(
      "Highest use in 7 days: 5 of 5 lines; no joins refused, but every line was in use at the peak.",
    );
  });

  it("is plain when there was room", () => {
    expect(sizingHint(history([point(0, 1, 1), point(1, 0, 5)]), 7)).toBe("Highest use in 7 days: 1 of 1 line; no joins refused, but every line was in use at the peak.");
    expect(sizingHint(history([point(0, 2, 5)]), 7)).toBe("Highest use in 7 days: 2 of 5 lines; no joins refused.");
  });

  it("says so when nothing was recorded", () => {
    expect(sizingHint(history([]), 7)).toBe("No use recorded in 7 days yet.");
  });
});
