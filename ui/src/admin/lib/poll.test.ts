import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startPolling, type VisibilitySource } from "./poll";

class FakeDocument extends EventTarget implements VisibilitySource {
  visibilityState: DocumentVisibilityState = "visible";

  set(state: DocumentVisibilityState) {
    this.visibilityState = state;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

/** A task whose runs finish only when the test says so. */
function controlledTask() {
  const pending: Array<() => void> = [];
  const task = vi.fn(() => new Promise<void>((resolve) => pending.push(resolve)));
  const finish = async () => {
    pending.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { task, finish };
}

describe("startPolling", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs at once, then every interval after the previous run finished", async () => {
    const doc = new FakeDocument();
    const { task, finish } = controlledTask();
    const stop = startPolling({ intervalMs: 2000, task, visibility: doc });
    expect(task).toHaveBeenCalledTimes(1);
    await finish();
    await vi.advanceTimersByTimeAsync(1999);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(2);
    stop();
  });

  it("never overlaps a slow request", async () => {
    const doc = new FakeDocument();
    const { task, finish } = controlledTask();
    const stop = startPolling({ intervalMs: 2000, task, visibility: doc });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(task).toHaveBeenCalledTimes(1);
    await finish();
    await vi.advanceTimersByTimeAsync(2000);
    expect(task).toHaveBeenCalledTimes(2);
    stop();
  });

  it("keeps going after a failed run", async () => {
    const doc = new FakeDocument();
    const task = vi.fn(() => Promise.reject(new Error("down")));
    const stop = startPolling({ intervalMs: 1000, task, visibility: doc });
    await vi.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(4);
    stop();
  });

  it("rests while the tab is hidden and runs at once when it is shown", async () => {
    const doc = new FakeDocument();
    const task = vi.fn(() => Promise.resolve());
    const stop = startPolling({ intervalMs: 2000, task, visibility: doc });
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(1);
    doc.set("hidden");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(task).toHaveBeenCalledTimes(1);
    doc.set("visible");
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(task).toHaveBeenCalledTimes(3);
    stop();
  });

  it("does not start while hidden, nor double up when shown during a run", async () => {
    const doc = new FakeDocument();
    doc.visibilityState = "hidden";
    const { task, finish } = controlledTask();
    const stop = startPolling({ intervalMs: 2000, task, visibility: doc });
    expect(task).not.toHaveBeenCalled();
    doc.set("visible");
    expect(task).toHaveBeenCalledTimes(1);
    doc.set("hidden");
    doc.set("visible");
    expect(task).toHaveBeenCalledTimes(1);
    await finish();
    await vi.advanceTimersByTimeAsync(2000);
    expect(task).toHaveBeenCalledTimes(2);
    stop();
  });

  it("stops for good", async () => {
    const doc = new FakeDocument();
    const task = vi.fn(() => Promise.resolve());
    const stop = startPolling({ intervalMs: 1000, task, visibility: doc });
    await vi.advanceTimersByTimeAsync(0);
    stop();
    doc.set("hidden");
    doc.set("visible");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(task).toHaveBeenCalledTimes(1);
  });
});
