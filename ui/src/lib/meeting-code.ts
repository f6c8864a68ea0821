// Meeting codes look like `kqz-rmtp-wfa`: three groups of lower-case
// letters. People paste them in every shape (a whole join link, upper case,
// without dashes, with spaces), so the join box accepts all of those and
// reduces them to the one canonical form.

export interface MeetingTarget {
  /** Canonical code, `abc-defg-hij`. */
  code: string;
  /** Base URL of the host when a link was given, e.g. `https://office:8443`. */
  host: string | null;
}

const GROUPS = [3, 4, 3] as const;
const CODE_LENGTH = GROUPS.reduce((a, b) => a + b, 0);

export type ParseResult = { ok: true; target: MeetingTarget } | { ok: false; error: string };

export function parseMeetingInput(raw: string): ParseResult {
  const input = raw.trim();
  if (input === "") return { ok: false, error: "Enter a meeting code or paste a join link." };

  let host: string | null = null;
  let codePart = input;
  if (/^https?:\/\//i.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      return { ok: false, error: "That link is not a valid web address." };
    }
    const match = /^\/j\/([^/]+)\/?$/.exec(url.pathname);
    if (!match?.[1]) {
      return { ok: false, error: "That link is not a Confab join link (…/j/<code>)." };
    }
    host = url.origin;
    codePart = decodeURIComponent(match[1]);
  }

  const letters = codePart.toLowerCase().replace(/[\s-]/g, "");
  if (!/^[a-z]+$/.test(letters) || letters.length !== CODE_LENGTH) {
    return {
      ok: false,
      error: `A meeting code has ${CODE_LENGTH} letters, like kqz-rmtp-wfa.`,
    };
  }
  const parts: string[] = [];
  let at = 0;
  for (const n of GROUPS) {
    parts.push(letters.slice(at, at + n));
    at += n;
  }
  return { ok: true, target: { code: parts.join("-"), host } };
}
