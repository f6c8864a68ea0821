// The window's screens, addressed by the URL's hash so a reload (and the
// window test) can open any of them directly.

export type Screen = "home" | "prejoin" | "meeting" | "host" | "settings" | "bench";

const SCREENS: readonly Screen[] = ["home", "prejoin", "meeting", "host", "settings", "bench"];

export interface Route {
  screen: Screen;
  /** The meeting code for pre-join, and the host's URL when joined by link. */
  code: string | null;
  host: string | null;
}

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const screen = SCREENS.find((s) => s === path) ?? "home";
  const params = new URLSearchParams(query);
  return { screen, code: params.get("code"), host: params.get("host") };
}

export function routeHash(route: Partial<Route> & { screen: Screen }): string {
  const params = new URLSearchParams();
  if (route.code) params.set("code", route.code);
  if (route.host) params.set("host", route.host);
  const query = params.toString();
  return `#/${route.screen}${query ? `?${query}` : ""}`;
}
