// My profile: name, avatar upload, the QR code of my profile, sign out.

import { avatar, field, h, replace } from "./dom.js";
import { api, errorText, session, setMe, signOut } from "./state.js";
import { go } from "./router.js";

export function meView(): HTMLElement {
  const me = session!.me;
  const alert = h("p", { class: "error", role: "alert" });
  const status = h("p", { class: "ok", role: "status" });
  const pic = h("div", { class: "me-avatar" }, avatar(me.name, me.avatar));
  const name = h("input", { type: "text", name: "name", value: me.name, required: true, autocomplete: "nickname" }) as HTMLInputElement;
  const file = h("input", { type: "file", name: "avatar", accept: "image/png,image/jpeg,image/gif,image/webp" }) as HTMLInputElement;
  const qr = h("figure", { class: "qr" });
  const fail = (e: unknown) => ((status.textContent = ""), (alert.textContent = errorText(e)));
  const ok = (t: string) => ((alert.textContent = ""), (status.textContent = t));

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      setMe(await api.updateMe({ name: name.value }));
      ok("Saved.");
    } catch (x) {
      fail(x);
    }
  };
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      const form = new FormData();
      form.append("avatar", f, f.name);
      await api.call<{ avatar_url: string }>("putAvatar", { body: form });
      const fresh = await api.me();
      setMe(fresh);
      replace(pic, avatar(fresh.name, fresh.avatar));
      ok("Your avatar is updated.");
    } catch (x) {
      fail(x);
    } finally {
      file.value = "";
    }
  });
  // The QR code needs the token: fetched, then shown from a blob: URL.
  void fetch("/api/v1/me/qrcode", { headers: { Authorization: "Bearer " + session!.token } })
    .then(async (r) => {
      if (!r.ok) throw new Error(`QR code: HTTP ${r.status}`);
      const url = URL.createObjectURL(await r.blob());
      replace(qr, h("img", { src: url, alt: `QR code of ${me.name}'s profile`, width: 180, height: 180 }), h("figcaption", null, "Scan to add me"));
    })
    .catch((e) => replace(qr, h("figcaption", { class: "muted" }, errorText(e))));

  return h(
    "section",
    { class: "page", "aria-labelledby": "me-title" },
    h("h1", { id: "me-title" }, "Me"),
    alert,
    status,
    h("div", { class: "row" }, pic, h("div", null, h("p", null, h("strong", null, me.name)), h("p", { class: "muted" }, me.email + (me.email_verified ? "" : " (not verified)")), h("p", { class: "muted" }, "id " + me.id))),
    h("form", { class: "stack", onsubmit: save }, field("Name", name), h("button", { type: "submit" }, "Save")),
    h("div", { class: "stack" }, field("Avatar (PNG, JPEG, GIF or WebP, up to 2 MiB)", file)),
    qr,
    h("button", { type: "button", class: "secondary", onclick: () => { signOut(); go("/signin"); } }, "Sign out"),
  );
}
