// Polling that never overlaps and rests while the tab is hidden.
//
// The next run is scheduled only after the previous one has finished, so a
// slow server gets at most one request at a time. While the document is
// hidden nothing is scheduled; when it becomes visible again the task runs
// at once, so the panel is fresh when someone looks at it.

export interface VisibilitySource {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface PollOptions {
  intervalMs: number;
  /** One run; its errors are the task's own business (they do not stop polling). */
  task: () => Promise<void>;
  /** Defaults to `document`. */
  visibility?: VisibilitySource;
}

/** Starts polling; returns a function that stops it. */
export function startPolling({ intervalMs, task, visibility = document }: PollOptions): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let stopped = false;

  const visible = () => visibility.visibilityState === "visible";

  async function run() {
    timer = null;
    if (stopped || running || !visible()) return;
    running = true;
    try {
      await task();
    } catch {
      // The task reports its own errors; polling goes on.
    } finally {
      running = false;
    }
    schedule();
  }

  function schedule() {
    if (stopped || running || timer !== null || !visible()) return;
    timer = setTimeout(() => void run(), intervalMs);
  }

  function onVisibilityChange() {
    if (visible()) {
      if (timer !== null) clearTimeout(timer);
      void run();
    } else if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  }

  visibility.addEventListener("visibilitychange", onVisibilityChange);
  void run();

  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    visibility.removeEventListener("visibilitychange", onVisibilityChange);
  };
}
