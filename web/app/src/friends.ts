// Friends: search (names in any script, CJK included), requests in and out
// with accept and reject, the friend list with presence dots, remarks and
// the blacklist.

import type { Friend, FriendRequest, User } from "@privateim/sdk";
import { avatar, field, h, replace } from "./dom.js";
import { api, errorText, on, presence } from "./state.js";
import { conversationOf, keepUntilDetached, names } from "./chat.js";

export function friendsView(): HTMLElement {
  const alert = h("p", { class: "error", role: "alert" });
  const status = h("p", { class: "ok", role: "status" });
  const q = h("input", { type: "search", name: "q", autocomplete: "off", placeholder: "Name, e.g. Ada or 张伟" }) as HTMLInputElement;
  const results = h("ul", { class: "people", "aria-label": "Search results" });
  const incoming = h("ul", { class: "people", "aria-label": "Requests to you" });
  const outgoing = h("ul", { class: "people", "aria-label": "Your requests" });
  const friends = h("ul", { class: "people", "aria-label": "Your friends" });
  let friendList: Friend[] = [];

  const fail = (e: unknown) => {
    status.textContent = "";
    alert.textContent = errorText(e);
  };
  const done = (text: string) => {
    alert.textContent = "";
    status.textContent = text;
  };

  const search = async () => {
    if (!q.value.trim()) return;
    try {
      const r = await api.searchUsers(q.value.trim(), { limit: 20 });
      replace(
        results,
        r.users.length === 0 ? h("li", { class: "empty" }, "Nobody found.") : null,
        r.users.map((u) =>
          h(
            "li",
            { class: "person" },
            avatar(u.name, u.avatar),
            h("span", { class: "person-name" }, u.name),
            u.friend
              ? h("a", { href: "/chat/" + conversationOf({ kind: "user", id: u.id }), class: "button" }, "Message")
              : h("button", { type: "button", onclick: () => request(u) }, "Add friend"),
          ),
        ),
      );
    } catch (e) {
      fail(e);
    }
  };

  const request = async (u: User) => {
    try {
      const r = await api.requestFriend(u.id, { message: "Hi, it's " + (names.get(u.id) ?? "me") });
      done(r.status === "accepted" ? `You and ${u.name} are friends now.` : `Request sent to ${u.name}.`);
      await load();
    } catch (e) {
      fail(e);
    }
  };

  const drawRequests = (list: FriendRequest[], into: HTMLElement, incomingSide: boolean) =>
    replace(
      into,
      list.length === 0 ? h("li", { class: "empty" }, "None.") : null,
      list.map((r) =>
        h(
          "li",
          { class: "person" },
          avatar(r.user.name, r.user.avatar),
          h("span", { class: "person-name" }, r.user.name, r.message ? h("span", { class: "muted" }, " — " + r.message) : null),
          incomingSide
            ? [
                h("button", { type: "button", onclick: () => act(() => api.acceptFriend(r.user.id), `You and ${r.user.name} are friends now.`) }, "Accept"),
                h("button", { type: "button", class: "secondary", onclick: () => act(() => api.rejectFriend(r.user.id), `Rejected ${r.user.name}.`) }, "Reject"),
              ]
            : h("span", { class: "muted" }, "pending"),
        ),
      ),
    );

  const act = async (f: () => Promise<unknown>, ok: string) => {
    try {
      await f();
      done(ok);
      await load();
    } catch (e) {
      fail(e);
    }
  };

  const drawFriends = () =>
    replace(
      friends,
      friendList.length === 0 ? h("li", { class: "empty" }, "No friends yet: search for someone above.") : null,
      friendList.map((f) => {
        names.set(f.id, f.note || f.name);
        const online = presence.get(f.id) ?? (f.last_seen ? false : undefined);
        const remark = h("input", { type: "text", value: f.note ?? "", "aria-label": `Remark for ${f.name}`, placeholder: "remark" }) as HTMLInputElement;
        remark.addEventListener("change", () => act(() => api.setFriendNote(f.id, remark.value), "Remark saved."));
        return h(
          "li",
          { class: "person", "data-user": f.id },
          avatar(f.name, f.avatar, online),
          h("span", { class: "person-name" }, f.note ? `${f.note} (${f.name})` : f.name, f.blacklisted ? h("span", { class: "tag" }, "blocked") : null),
          remark,
          h("a", { class: "button", href: "/chat/" + conversationOf({ kind: "user", id: f.id }) }, "Message"),
          f.blacklisted
            ? h("button", { type: "button", class: "secondary", onclick: () => act(() => api.unblacklist(f.id), `${f.name} is unblocked.`) }, "Unblock")
            : h("button", { type: "button", class: "secondary", onclick: () => act(() => api.blacklist(f.id), `${f.name} is blocked.`) }, "Block"),
        );
      }),
    );

  const load = async () => {
    try {
      const [inc, out, fr] = await Promise.all([api.friendRequests("incoming"), api.friendRequests("outgoing"), api.friends({ limit: 100 })]);
      drawRequests(inc.requests, incoming, true);
      drawRequests(out.requests, outgoing, false);
      friendList = fr.friends;
      drawFriends();
    } catch (e) {
      fail(e);
    }
  };

  const view = h(
    "section",
    { class: "page", "aria-labelledby": "friends-title" },
    h("h1", { id: "friends-title" }, "Friends"),
    h("form", { class: "search", role: "search", onsubmit: (e: Event) => { e.preventDefault(); void search(); } }, field("Find people", q), h("button", { type: "submit" }, "Search")),
    alert,
    status,
    results,
    h("h2", null, "Requests to you"),
    incoming,
    h("h2", null, "Your requests"),
    outgoing,
    h("h2", null, "Your friends"),
    friends,
  );
  keepUntilDetached(view, [on("presence", drawFriends)]);
  void load();
  return view;
}
