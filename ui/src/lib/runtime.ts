// Where the UI is running: inside the desktop app (Tauri) or in a browser
// as a guest. Commands to the Rust side go through here so components never
// call `invoke` with untyped names.

import { invoke, isTauri } from "@tauri-apps/api/core";
import type { AppInfo } from "./generated/app/AppInfo";

export type Runtime = { kind: "desktop"; info: AppInfo } | { kind: "browser" };

export async function detectRuntime(): Promise<Runtime> {
  if (!isTauri()) return { kind: "browser" };
  const info = await invoke<AppInfo>("app_info");
  return { kind: "desktop", info };
}
