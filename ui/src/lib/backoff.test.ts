import { describe, expect, it } from "vitest";
import { reconnectDelay, resumeDelay } from "./backoff";

describe("reconnectDelay", () => {
  it("doubles from 250 ms and stops growing at 5 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map(reconnectDelay)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});

describe("resumeDelay", () => {
  it("backs off while the server still holds the seat", () => {
    expect(resumeDelay(0, 0, 15_000)).toBe(250);
    expect(resumeDelay(3, 1_750, 15_000)).toBe(2000);
  });

  it("gives up when the next try would come after the seat is given back", () => {
    expect(resumeDelay(5, 11_000, 15_000)).toBeNull();
    expect(resumeDelay(0, 15_000, 15_000)).toBeNull();
  });
});
