// Routing by location.pathname: the webgateway answers index.html for every
// page of the app (docs/web.md), so links are plain paths.

export type View = (params: URLSearchParams, rest: string[]) => HTMLElement | Promise<HTMLElement>;

let render: () => void = () => undefined;

export function setRenderer(f: () => void): void {
  render = f;
}

export function go(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

/** Same-origin links navigate without a reload. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (e) => {
    const a = (e.target as Element).closest("a");
    if (!a || a.target || a.hasAttribute("download") || e.metaKey || e.ctrlKey || e.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/static/") || url.pathname.startsWith("/sub/")) return;
    e.preventDefault();
    go(url.pathname + url.search);
  });
  window.addEventListener("popstate", () => render());
}
