import { describe, expect, it } from "vitest";
import { bindScope, checkBind, linesInUse, svgDataUrl } from "./lines";

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
