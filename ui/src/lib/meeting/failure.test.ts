import { describe, expect, it } from "vitest";
import type { JoinFailure } from "../generated/app/JoinFailure";
import type { JoinFailureKind } from "../generated/app/JoinFailureKind";
import { asJoinFailure, failureView } from "./failure";

function failure(kind: JoinFailureKind, message = "sentence"): JoinFailure {
  return { kind, message, server: "https://office:8443", old_fingerprint: null, new_fingerprint: null };
}

describe("join failures", () => {
  it("give each failure a way forward", () => {
    expect(failureView(failure("wrong_passcode")).remedy).toBe("passcode");
    expect(failureView(failure("locked")).remedy).toBe("retry");
    expect(failureView(failure("unreachable")).remedy).toBe("retry");
    expect(failureView(failure("not_found")).remedy).toBe("home");
    expect(failureView(failure("no_host")).remedy).toBe("home");
    const cert = failureView(failure("certificate_changed"));
    expect(cert.remedy).toBe("trust");
    expect(cert.action).toBe("Trust the new certificate");
  });

  it("a full server keeps its sentence and offers to try again", () => {
    const view = failureView(failure("full", "All 5 lines are in use. Try again when someone leaves."));
    expect(view).toEqual({
      title: "All lines are in use",
      sentence: "All 5 lines are in use. Try again when someone leaves.",
      remedy: "retry",
      action: "Try again",
    });
  });

  it("any other failure becomes a sentence with a retry", () => {
    expect(asJoinFailure(failure("locked")).kind).toBe("locked");
    expect(asJoinFailure({ message: "the app is gone" })).toMatchObject({ kind: "other", message: "the app is gone" });
    expect(asJoinFailure("boom").message).toBe("boom");
  });
});
