// Waits between reconnection attempts, shared by the app's frame socket and
// the guest page's signalling.

/** Waits before attempt `attempt` (0 first): 250 ms doubling, at most 5 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
}

/**
 * The wait before the next try at resuming a seat, or `null` when it is no
 * use: the server holds a dropped seat for `holdMs` (three heartbeat
 * intervals) and gives it back after, so a try that cannot start before
 * then would only find the seat gone.
 */
export function resumeDelay(attempt: number, sinceDropMs: number, holdMs: number): number | null {
  const wait = reconnectDelay(attempt);
  if (sinceDropMs + wait >= holdMs) return null;
  return wait;
}
