// Sign up, sign in, forgot password, the reset page the mail's link opens
// (/reset-password?token=...), and the email verification page.

import { h, field } from "./dom.js";
import { api, errorText, signedIn } from "./state.js";
import { go } from "./router.js";

function form(title: string, fields: HTMLElement[], submit: string, action: (f: HTMLFormElement) => Promise<void>, footer: HTMLElement[] = []): HTMLElement {
  const err = h("p", { class: "error", role: "alert" });
  const ok = h("p", { class: "ok", role: "status" });
  const button = h("button", { type: "submit" }, submit);
  const f = h("form", { class: "card auth", novalidate: true, "aria-labelledby": "auth-title" }, h("h1", { id: "auth-title" }, title), ...fields, err, ok, button, ...footer);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    ok.textContent = "";
    button.disabled = true;
    try {
      await action(f);
    } catch (x) {
      err.textContent = errorText(x);
    } finally {
      button.disabled = false;
    }
  });
  (f as HTMLFormElement & { ok?: HTMLElement }).ok = ok;
  return h("div", { class: "center" }, h("p", { class: "brand" }, "PrivateIM"), f);
}

const input = (name: string, type: string, autocomplete: string, extra: Record<string, string> = {}) =>
  h("input", { name, type, autocomplete, required: true, ...extra });

export function signIn(): HTMLElement {
  return form(
    "Sign in",
    [field("Email", input("email", "email", "username")), field("Password", input("password", "password", "current-password"))],
    "Sign in",
    async (f) => {
      const d = new FormData(f);
      const a = await api.signIn(String(d.get("email")), String(d.get("password")));
      signedIn(a.token, a.user);
      go("/", true);
    },
    [h("p", null, h("a", { href: "/forgot" }, "Forgot password?"), " · ", h("a", { href: "/signup" }, "Create an account"))],
  );
}

export function signUp(): HTMLElement {
  return form(
    "Create an account",
    [
      field("Name", input("name", "text", "nickname")),
      field("Email", input("email", "email", "username")),
      field("Password", input("password", "password", "new-password")),
    ],
    "Sign up",
    async (f) => {
      const d = new FormData(f);
      const a = await api.signUp(String(d.get("name")), String(d.get("email")), String(d.get("password")));
      signedIn(a.token, a.user);
      go("/", true);
    },
    [h("p", null, "Have an account? ", h("a", { href: "/signin" }, "Sign in"))],
  );
}

export function forgot(): HTMLElement {
  let view: HTMLElement;
  view = form(
    "Forgot password",
    [field("Email", input("email", "email", "username"))],
    "Send the reset link",
    async (f) => {
      await api.forgotPassword(String(new FormData(f).get("email")));
      view.querySelector(".ok")!.textContent = "If an account has this email, a reset link is on its way. Open it in this browser.";
    },
    [h("p", null, h("a", { href: "/signin" }, "Back to sign in"))],
  );
  return view;
}

export function resetPassword(params: URLSearchParams): HTMLElement {
  const token = params.get("token") ?? "";
  let view: HTMLElement;
  view = form(
    "Choose a new password",
    [field("New password", input("password", "password", "new-password"))],
    "Set the password",
    async (f) => {
      await api.resetPassword(token, String(new FormData(f).get("password")));
      view.querySelector(".ok")!.replaceChildren("Your password is set. ", h("a", { href: "/signin" }, "Sign in"));
    },
  );
  return view;
}

export function verifyEmail(params: URLSearchParams): HTMLElement {
  const status = h("p", { role: "status" }, "Verifying your email…");
  void api
    .call("verifyEmail", { body: { token: params.get("token") ?? "" } })
    .then(() => status.replaceChildren("Your email is verified. ", h("a", { href: "/" }, "Open PrivateIM")))
    .catch((e) => status.replaceChildren(h("span", { class: "error", role: "alert" }, errorText(e))));
  return h("div", { class: "center" }, h("div", { class: "card auth" }, h("h1", null, "Email verification"), status));
}
