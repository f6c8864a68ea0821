// Where in the console we are. Pages live in the URL's hash (`/admin#/usage`)
// so the server serves one document at /admin and a reload keeps the page.
// First-run setup arrives as `/admin/setup?token=…`, printed by the server.

export const ROUTES = ["dashboard", "meetings", "licence", "usage"] as const;
export type Route = (typeof ROUTES)[number];

export const ROUTE_TITLES: Record<Route, string> = {
  dashboard: "Lines",
  meetings: "Meetings",
  licence: "Licence",
  usage: "Usage",
};

export function routeFromHash(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : "dashboard";
}

export function hrefFor(route: Route): string {
  return route === "dashboard" ? "#/" : `#/${route}`;
}

interface Place {
  pathname: string;
  search: string;
}

/** The setup token when this is the first-run setup link, else `null`. */
export function setupTokenFrom(place: Place): string | null {
  if (!/\/setup(\.html)?\/?$/.test(place.pathname)) return null;
  const token = new URLSearchParams(place.search).get("token")?.trim();
  return token ? token : null;
}

/** Where the console lives once setup is done: `/admin/setup` → `/admin`. */
export function consolePath(pathname: string): string {
  const base = pathname.replace(/\/setup(\.html)?\/?$/, "");
  return base === "" ? "/admin" : base;
}
