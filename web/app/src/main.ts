// PrivateIM's web app: the shell (navigation, connection state, alerts)
// and the routes. Every view talks to the services through @privateim/sdk
// at the page's own origin (the webgateway, docs/web.md).

import { h, replace } from "./dom.js";
import { forgot, resetPassword, signIn, signUp, verifyEmail } from "./auth.js";
import { conversationList, conversationView } from "./chat.js";
import { friendsView } from "./friends.js";
import { groupsView, groupView } from "./groups.js";
import { meView } from "./me.js";
import { reviewView, subscriptionsView } from "./subs.js";
import { go, interceptLinks, setRenderer } from "./router.js";
import { api, connState, connect, convs, lastClose, noticeText, on, reconnect, session } from "./state.js";

const root = document.getElementById("app")!;
const PUBLIC = new Set(["/signin", "/signup", "/forgot", "/reset-password", "/verify-email"]);

// The shell's subscriptions, dropped at each render (the shell is rebuilt).
let shellOffs: Array<() => void> = [];
function sub(topic: Parameters<typeof on>[0], f: () => void): void {
  shellOffs.push(on(topic, f));
}

const connLabels: Record<string, string> = {
  idle: "Offline",
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};

function connBadge(): HTMLElement {
  const el = h("span", { class: "conn", role: "status", "aria-live": "polite" });
  const draw = () => {
    el.dataset.state = connState;
    el.textContent = connLabels[connState] ?? connState;
  };
  draw();
  sub("conn", draw);
  return el;
}

/** "Opened elsewhere": this tab's connection was replaced by a newer one (close 4001). */
function elsewhereBanner(): HTMLElement {
  const el = h("div", { class: "banner", role: "alert", hidden: true });
  const draw = () => {
    const replaced = lastClose?.kind === "replaced" && connState !== "open";
    el.hidden = !replaced;
    if (replaced)
      replace(el, "PrivateIM is opened elsewhere: a newer tab or device took this one's place. ", h("button", { type: "button", onclick: () => reconnect() }, "Use it here"));
  };
  sub("conn", draw);
  draw();
  return el;
}

function nav(path: string): HTMLElement {
  const unread = h("span", { class: "badge", hidden: true, "aria-label": "unread" });
  const drawUnread = () => {
    const n = convs.reduce((s, c) => s + (c.muted ? 0 : c.unread), 0);
    unread.hidden = n === 0;
    unread.textContent = String(n);
  };
  sub("convs", drawUnread);
  drawUnread();
  const link = (href: string, label: string, extra?: HTMLElement) =>
    h("a", { href, "aria-current": (href === "/" ? path === "/" || path.startsWith("/chat/") : path.startsWith(href)) ? "page" : null }, label, extra ?? null);
  return h(
    "nav",
    { "aria-label": "Main" },
    link("/", "Chats", unread),
    link("/friends", "Friends"),
    link("/groups", "Groups"),
    link("/subscriptions", "Subscriptions"),
    link("/review", "Review"),
    link("/me", "Me"),
  );
}

const alertBox = h("p", { class: "error global", role: "alert" });
on("notice", () => (alertBox.textContent = noticeText));

async function render(): Promise<void> {
  shellOffs.forEach((f) => f());
  shellOffs = [];
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  if (!session && !PUBLIC.has(path)) {
    go("/signin", true);
    return;
  }
  if (session && (path === "/signin" || path === "/signup")) {
    go("/", true);
    return;
  }
  let view: HTMLElement;
  switch (true) {
    case path === "/signin":
      view = signIn();
      break;
    case path === "/signup":
      view = signUp();
      break;
    case path === "/forgot":
      view = forgot();
      break;
    case path === "/reset-password":
      view = resetPassword(params);
      break;
    case path === "/verify-email":
      view = verifyEmail(params);
      break;
    default:
      view = shell(path);
  }
  replace(root, view);
  const heading = root.querySelector("h1, h2");
  if (heading instanceof HTMLElement && !root.contains(document.activeElement)) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function shell(path: string): HTMLElement {
  void connect();
  let main: HTMLElement;
  if (path === "/" || path.startsWith("/chat/")) {
    const conv = path.startsWith("/chat/") ? decodeURIComponent(path.slice(6)) : null;
    main = h(
      "div",
      { class: conv ? "split has-chat" : "split" },
      h("aside", { class: "list", "aria-label": "Conversations" }, h("h1", { class: "visually-hidden" }, "Chats"), conversationList(conv)),
      conv ? conversationView(conv) : h("section", { class: "chat empty" }, h("p", null, "Pick a conversation, or find friends under Friends.")),
    );
  } else if (path === "/friends") main = friendsView();
  else if (path === "/groups") main = groupsView();
  else if (path.startsWith("/groups/")) main = groupView(path.slice(8));
  else if (path === "/subscriptions") main = subscriptionsView();
  else if (path === "/review") main = reviewView();
  else if (path === "/me") main = meView();
  else main = h("section", { class: "page" }, h("h1", null, "Not found"), h("p", null, h("a", { href: "/" }, "Back to the chats")));
  return h(
    "div",
    { class: "shell" },
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h("header", { class: "top" }, h("span", { class: "brand" }, "PrivateIM"), connBadge(), h("span", { class: "who" }, session!.me.name)),
    nav(path),
    elsewhereBanner(),
    alertBox,
    h("main", { id: "main" }, main),
  );
}

setRenderer(() => void render());
interceptLinks(root);
void render();
// The app is usable without the SDK's connection: expose nothing global but
// the API client for debugging in the console.
(globalThis as { privateim?: unknown }).privateim = { api };
