import { describe, expect, it } from "vitest";
import { bindScope, checkBind, fingerprintRows, linesInUse, svgDataUrl } from "./lines";

describe("host panel wording", () => {
  it("counts lines like a phone system", () => {
    expect(linesInUse(0, 5)).toBe("0 of 5 lines in use");
    expect(linesInUse(1, 1)).toBe("1 of 1 line in use");
  });

  it("turns an SVG into an image URL", () => {
    expect(svgDataUrl("<svg a='1'/>")).toBe(
      "data:image/svg+xml;charset=utf-8,%3Csvg%20a%3D'1'%2F%3E",
    );
  });

  it("says who can connect for a listen address", () => {
    expect(bindScope("127.0.0.1:8443")).toMatch(/^Only this computer/);
    expect(bindScope("0.0.0.0:8443")).toMatch(/office network/);
  });
});

describe("checkBind", () => {
  it("accepts IPv4 and bracketed IPv6 with a port", () => {
    expect(checkBind(" 0.0.0.0:8443 ")).toEqual({ ok: true, bind: "0.0.0.0:8443" });
    expect(checkBind("[::]:8443")).toEqual({ ok: true, bind: "[::]:8443" });
    expect(checkBind("192.168.1.20:0").ok).toBe(true);
  });

  it("refuses names, missing ports and out-of-range numbers with a sentence", () => {
    expect(checkBind("office:8443")).toEqual({
      ok: false,
      error: "“office:8443” is not an address to listen on; write it like 0.0.0.0:8443.",
    });
    expect(checkBind("0.0.0.0").ok).toBe(false);
    expect(checkBind("300.0.0.1:80").ok).toBe(false);
    expect(checkBind("0.0.0.0:70000")).toEqual({ ok: false, error: "Port 70000 is above 65535." });
  });
});

describe("fingerprintRows", () => {
  const hex = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase());

  it("splits a SHA-256 fingerprint into four rows of eight bytes", () => {
    const rows = fingerprintRows(hex.join(":"));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toBe("00:01:02:03:04:05:06:07");
    expect(rows[3]).toBe("18:19:1A:1B:1C:1D:1E:1F");
  });

  it("reads the forms browsers show: spaces, lower case, no separators", () => {
    const expected = fingerprintRows(hex.join(":"));
    expect(fingerprintRows(hex.join(" ").toLowerCase())).toEqual(expected);
    expect(fingerprintRows(hex.join(""))).toEqual(expected);
  });

  it("gives nothing for an empty fingerprint", () => {
    expect(fingerprintRows("")).toEqual([]);
  });
});
