// Groups: mine, create with friends, search and join, a group's page with
// its members, transfer, quit and dismiss.

import type { Group, Member } from "@privateim/sdk";
import { avatar, field, h, replace } from "./dom.js";
import { api, errorText, session } from "./state.js";
import { go } from "./router.js";
import { names } from "./chat.js";

function feedback() {
  const alert = h("p", { class: "error", role: "alert" });
  const status = h("p", { class: "ok", role: "status" });
  return {
    alert,
    status,
    fail: (e: unknown) => ((status.textContent = ""), (alert.textContent = errorText(e))),
    done: (t: string) => ((alert.textContent = ""), (status.textContent = t)),
  };
}

export function groupsView(): HTMLElement {
  const fb = feedback();
  const mine = h("ul", { class: "people", "aria-label": "Your groups" });
  const found = h("ul", { class: "people", "aria-label": "Groups found" });
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 64 }) as HTMLInputElement;
  const picks = h("fieldset", { class: "picks" }, h("legend", null, "Members (your friends)"));
  const q = h("input", { type: "search", name: "q", autocomplete: "off" }) as HTMLInputElement;

  const row = (g: Group, action: HTMLElement) =>
    h("li", { class: "person" }, avatar(g.name, g.avatar), h("span", { class: "person-name" }, h("a", { href: "/groups/" + g.id }, g.name), h("span", { class: "muted" }, ` · ${g.member_count} members · ${g.join_policy}`)), action);

  const load = async () => {
    try {
      const [gs, fr] = await Promise.all([api.myGroups({ limit: 100 }), api.friends({ limit: 100 })]);
      replace(mine, gs.groups.length === 0 ? h("li", { class: "empty" }, "You are in no group yet.") : null, gs.groups.map((g) => row(g, h("a", { class: "button", href: "/chat/g:" + g.id }, "Open chat"))));
      replace(
        picks,
        h("legend", null, "Members (your friends)"),
        fr.friends.length === 0 ? h("p", { class: "muted" }, "Add friends first to invite them.") : null,
        fr.friends.map((f) => h("label", { class: "pick" }, h("input", { type: "checkbox", name: "member", value: f.id }), " " + (f.note || f.name))),
      );
    } catch (e) {
      fb.fail(e);
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    const ids = [...picks.querySelectorAll<HTMLInputElement>("input[name=member]:checked")].map((i) => i.value);
    try {
      const g = await api.createGroup(name.value, ids);
      name.value = "";
      fb.done(`Group ${g.name} created.`);
      go("/chat/g:" + g.id);
    } catch (x) {
      fb.fail(x);
    }
  };

  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api.searchGroups(q.value.trim(), { limit: 20 });
      replace(
        found,
        r.groups.length === 0 ? h("li", { class: "empty" }, "No group found.") : null,
        r.groups.map((g) =>
          row(
            g,
            h("button", {
              type: "button",
              onclick: async () => {
                try {
                  await api.joinGroup(g.id);
                  fb.done(g.join_policy === "open" ? `You joined ${g.name}.` : `Asked to join ${g.name}.`);
                  await load();
                } catch (x) {
                  fb.fail(x);
                }
              },
            }, "Join"),
          ),
        ),
      );
    } catch (x) {
      fb.fail(x);
    }
  };

  void load();
  return h(
    "section",
    { class: "page", "aria-labelledby": "groups-title" },
    h("h1", { id: "groups-title" }, "Groups"),
    fb.alert,
    fb.status,
    h("h2", null, "Your groups"),
    mine,
    h("h2", null, "Create a group"),
    h("form", { class: "stack", onsubmit: create }, field("Group name", name), picks, h("button", { type: "submit" }, "Create")),
    h("h2", null, "Find a group"),
    h("form", { class: "search", role: "search", onsubmit: search }, field("Group name", q), h("button", { type: "submit" }, "Search")),
    found,
  );
}

export function groupView(id: string): HTMLElement {
  const fb = feedback();
  const head = h("div");
  const members = h("ul", { class: "people", "aria-label": "Members" });
  const actions = h("div", { class: "row" });
  const load = async () => {
    try {
      const [g, ms] = await Promise.all([api.group(id), api.members(id, { limit: 200 })]);
      const me = session!.me.id;
      const owner = g.owner_id === me;
      replace(head, h("h1", { id: "group-title" }, g.name), h("p", { class: "muted" }, `${g.member_count} members · join: ${g.join_policy} · history: ${g.history}`), g.announcement?.text ? h("p", { class: "announcement" }, "📢 " + g.announcement.text) : null);
      replace(
        members,
        ms.members.map((m: Member) => {
          const n = m.nickname || m.user?.name || m.user_id;
          names.set(m.user_id, n);
          return h(
            "li",
            { class: "person" },
            avatar(n, m.user?.avatar),
            h("span", { class: "person-name" }, n, h("span", { class: "tag" }, m.role)),
            owner && m.user_id !== me
              ? h("button", {
                  type: "button",
                  class: "secondary",
                  onclick: async () => {
                    if (!confirm(`Hand ${g.name} over to ${n}?`)) return;
                    try {
                      await api.transferGroup(id, m.user_id);
                      fb.done(`${n} owns the group now.`);
                      await load();
                    } catch (x) {
                      fb.fail(x);
                    }
                  },
                }, "Make owner")
              : null,
          );
        }),
      );
      replace(
        actions,
        h("a", { class: "button", href: "/chat/g:" + id }, "Open chat"),
        owner
          ? h("button", {
              type: "button",
              class: "danger",
              onclick: async () => {
                if (!confirm(`Dismiss ${g.name} for every member?`)) return;
                try {
                  await api.dismissGroup(id);
                  go("/groups");
                } catch (x) {
                  fb.fail(x);
                }
              },
            }, "Dismiss the group")
          : h("button", {
              type: "button",
              class: "secondary",
              onclick: async () => {
                try {
                  await api.quitGroup(id);
                  go("/groups");
                } catch (x) {
                  fb.fail(x);
                }
              },
            }, "Leave the group"),
      );
    } catch (e) {
      fb.fail(e);
    }
  };
  void load();
  return h("section", { class: "page", "aria-labelledby": "group-title" }, head, fb.alert, fb.status, actions, h("h2", null, "Members"), members);
}
