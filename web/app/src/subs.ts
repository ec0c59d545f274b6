// Subscriptions: search and follow (userservice), a feed of the published
// articles of the followed ones (subscriptionservice, behind /sub), and the
// reviewers' queue.

import type { Subscription } from "@privateim/sdk";
import { avatar, field, h, replace } from "./dom.js";
import { api, errorText } from "./state.js";

interface Article {
  id: string;
  subscription_id: string;
  title: string;
  body: string;
  state: string;
  published_at?: string;
  created_at: string;
}

export function subscriptionsView(): HTMLElement {
  const alert = h("p", { class: "error", role: "alert" });
  const status = h("p", { class: "ok", role: "status" });
  const q = h("input", { type: "search", name: "q", autocomplete: "off" }) as HTMLInputElement;
  const found = h("ul", { class: "people", "aria-label": "Subscriptions found" });
  const following = h("ul", { class: "people", "aria-label": "Subscriptions you follow" });
  const feed = h("ol", { class: "feed", "aria-label": "Feed" });
  const fail = (e: unknown) => ((status.textContent = ""), (alert.textContent = errorText(e)));

  const row = (s: Subscription, action: HTMLElement) =>
    h("li", { class: "person" }, avatar(s.name, s.avatar), h("span", { class: "person-name" }, s.name, h("span", { class: "muted" }, ` · ${s.follower_count} followers · ${s.intro}`)), action);

  const load = async () => {
    try {
      const f = await api.following({ limit: 50 });
      replace(
        following,
        f.subscriptions.length === 0 ? h("li", { class: "empty" }, "You follow nothing yet.") : null,
        f.subscriptions.map((s) => row(s, h("button", { type: "button", class: "secondary", onclick: () => act(() => api.call("unfollow", { params: { id: s.id } }), `Unfollowed ${s.name}.`) }, "Unfollow"))),
      );
      const lists = await Promise.all(f.subscriptions.map((s) => api.call<{ articles: Article[] }>("listArticles", { params: { id: s.id }, query: { limit: 20 } }).then((r) => r.articles.map((a) => ({ a, s }))).catch(() => [])));
      const all = lists.flat().filter((x) => x.a.state === "published").sort((x, y) => (y.a.published_at ?? "").localeCompare(x.a.published_at ?? ""));
      replace(
        feed,
        all.length === 0 ? h("li", { class: "empty" }, "No articles yet.") : null,
        all.map(({ a, s }) => h("li", { class: "article" }, h("h3", null, a.title), h("p", { class: "muted" }, s.name + (a.published_at ? " · " + new Date(a.published_at).toLocaleString() : "")), h("p", null, a.body))),
      );
    } catch (e) {
      fail(e);
    }
  };
  const act = async (f: () => Promise<unknown>, ok: string) => {
    try {
      await f();
      alert.textContent = "";
      status.textContent = ok;
      await load();
    } catch (e) {
      fail(e);
    }
  };
  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api.searchSubscriptions(q.value.trim(), { limit: 20 });
      replace(found, r.subscriptions.length === 0 ? h("li", { class: "empty" }, "None found.") : null, r.subscriptions.map((s) => row(s, h("button", { type: "button", onclick: () => act(() => api.follow(s.id), `You follow ${s.name}.`) }, "Follow"))));
    } catch (x) {
      fail(x);
    }
  };
  void load();
  return h(
    "section",
    { class: "page", "aria-labelledby": "subs-title" },
    h("h1", { id: "subs-title" }, "Subscriptions"),
    alert,
    status,
    h("form", { class: "search", role: "search", onsubmit: search }, field("Find subscriptions", q), h("button", { type: "submit" }, "Search")),
    found,
    h("h2", null, "Following"),
    following,
    h("h2", null, "Feed"),
    feed,
  );
}

export function reviewView(): HTMLElement {
  const alert = h("p", { class: "error", role: "alert" });
  const status = h("p", { class: "ok", role: "status" });
  const queue = h("ol", { class: "feed", "aria-label": "Articles in review" });
  const load = async () => {
    try {
      const r = await api.call<{ articles: Article[] }>("reviewQueue", { query: { limit: 50 } });
      replace(
        queue,
        r.articles.length === 0 ? h("li", { class: "empty" }, "Nothing to review.") : null,
        r.articles.map((a) => {
          const reason = h("input", { type: "text", "aria-label": `Reason to reject “${a.title}”` }) as HTMLInputElement;
          return h(
            "li",
            { class: "article" },
            h("h3", null, a.title),
            h("p", null, a.body),
            h(
              "div",
              { class: "row" },
              h("button", { type: "button", onclick: () => act(() => api.call("approveArticle", { params: { aid: a.id } }), `Approved “${a.title}”.`) }, "Approve"),
              reason,
              h("button", { type: "button", class: "secondary", onclick: () => act(() => api.call("rejectArticle", { params: { aid: a.id }, body: { reason: reason.value } }), `Rejected “${a.title}”.`) }, "Reject"),
            ),
          );
        }),
      );
    } catch (e) {
      alert.textContent = errorText(e);
    }
  };
  const act = async (f: () => Promise<unknown>, ok: string) => {
    try {
      await f();
      alert.textContent = "";
      status.textContent = ok;
      await load();
    } catch (e) {
      status.textContent = "";
      alert.textContent = errorText(e);
    }
  };
  void load();
  return h("section", { class: "page", "aria-labelledby": "review-title" }, h("h1", { id: "review-title" }, "Review"), alert, status, queue);
}
