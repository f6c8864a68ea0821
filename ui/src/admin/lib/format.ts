// Formatting for the admin console: durations, local times, and the
// conversion between `<input type="datetime-local">` values and RFC 3339.

/** "1 line", "3 lines". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Ends a message with a full stop unless it already ends with punctuation. */
export function asSentence(text: string): string {
  const t = text.trim();
  return t === "" || /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** How long something has lasted: "42 s", "4 min 05 s", "1 h 02 min", "2 d 3 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad2(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * A moment as local time: "14:03" when it is on the same local day as
 * `now`, else "Mon 30 Nov, 14:03".
 */
export function formatSince(ms: number, now: number, locale?: string): string {
  const at = new Date(ms);
  const time = at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (sameLocalDay(at, new Date(now))) return time;
  const day = at.toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short" });
  return `${day}, ${time}`;
}

/** An RFC 3339 time as a local date and time: "Tue, 1 Dec 2026, 09:00" (en-GB). */
export function formatDateTime(iso: string, locale?: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const day = at.toLocaleDateString(locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
  });
  const time = at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  return `${day}, ${time}`;
}

/** A UTC day `YYYY-MM-DD` as "Sun 29 Nov". */
export function formatDay(day: string, locale?: string): string {
  const at = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  return at.toLocaleDateString(locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
}

/**
 * The value of a `datetime-local` input ("2026-12-01T09:00", seconds
 * optional), read as local time, as RFC 3339 with the local offset:
 * "2026-12-01T09:00:00+01:00". `null` when the value is not a time.
 */
export function localInputToRfc3339(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((p) => Number(p ?? 0)) as [
    number, number, number, number, number, number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const at = new Date(y, mo - 1, d, h, mi, s);
  // A day that does not exist in that month (31 April) rolls over: refuse it.
  if (at.getMonth() !== mo - 1 || at.getDate() !== d) return null;
  // In a daylight-saving gap the clock time does not exist; Date moves it
  // forward, and the offset below is the one in force at the moved time.
  return `${localDate(at)}T${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}${offset(at)}`;
}

/** An RFC 3339 time as the value of a `datetime-local` input, in local time. */
export function rfc3339ToLocalInput(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return `${localDate(at)}T${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
}

function localDate(at: Date): string {
  return `${String(at.getFullYear()).padStart(4, "0")}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())}`;
}

function offset(at: Date): string {
  const minutes = -at.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
  );
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}
