// Wording for the host panel.

/** "0 of 5 lines in use" */
export function linesInUse(inUse: number, licensed: number): string {
  return `${inUse} of ${licensed} ${licensed === 1 ? "line" : "lines"} in use`;
}

/** A QR code's SVG as an image URL (the CSP allows data: images, not inline HTML). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export type BindCheck = { ok: true; bind: string } | { ok: false; error: string };

/**
 * Checks a listen address the way the app will parse it (`IP:port`, IPv6
 * in brackets), so the panel can say what is wrong before asking.
 */
export function checkBind(raw: string): BindCheck {
  const bind = raw.trim();
  const bad = { ok: false as const, error: `“${bind}” is not an address to listen on; write it like 0.0.0.0:8443.` };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(bind);
  if (!match) return bad;
  const [, v6, v4, portText] = match;
  const port = Number(portText);
  if (port > 65535) return { ok: false, error: `Port ${port} is above 65535.` };
  if (v4 && v4.split(".").some((part) => Number(part) > 255)) return bad;
  if (v6 !== undefined && !v6.includes(":")) return bad;
  return { ok: true, bind };
}

/** What a listen address means for colleagues. */
export function bindScope(bind: string): string {
  if (bind.startsWith("127.") || bind.startsWith("[::1]")) {
    return "Only this computer can connect. Use 0.0.0.0 to let colleagues in.";
  }
  if (bind.startsWith("0.0.0.0") || bind.startsWith("[::]")) {
    return "Colleagues on the office network can connect.";
  }
  return "Colleagues reach this computer at that address.";
}

/**
 * A certificate fingerprint (32 colon-separated bytes) as four rows of eight
 * bytes, so two people can compare it row by row, whatever separators or
 * case their browser uses ("AB CD …" in Chromium, "AB:CD:…" in Firefox).
 */
export function fingerprintRows(fingerprint: string, bytesPerRow = 8): string[] {
  const bytes = fingerprint.toUpperCase().match(/[0-9A-F]{2}/g) ?? [];
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += bytesPerRow) rows.push(bytes.slice(i, i + bytesPerRow).join(":"));
  return rows;
}
