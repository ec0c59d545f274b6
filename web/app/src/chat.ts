// The conversation list (unread counts from GET /api/v1/conversations) and
// one conversation: messages in seq order, scroll-back with sync, text,
// emoji, images and files, read receipts, typing, reply, recall and
// reactions.

import type { Conversation, ConversationName, Target, SendContent } from "@privateim/sdk";
import { avatar, formatSize, formatTime, h, replace } from "./dom.js";
import {
  api,
  chat,
  conversationMessages,
  convs,
  delivered,
  errorText,
  notice,
  on,
  peerRead,
  presence,
  receipts,
  refreshConvs,
  session,
  setOpenConversation,
  typing,
  type Msg,
} from "./state.js";

const EMOJI = ["😀", "😂", "😍", "👍", "🙏", "🎉", "❤️", "😢", "🔥", "👀"];
const PAGE = 30;

/** Names of users seen in the conversation list and member lists, for the message headers. */
export const names = new Map<string, string>();

export function targetOf(c: ConversationName): Target {
  if (c.startsWith("g:")) return { kind: "group", id: c.slice(2) };
  const [, a, b] = c.split(":");
  return { kind: "user", id: a === session!.me.id ? b! : a! };
}

export function conversationOf(t: Target): ConversationName {
  if (t.kind === "group") return "g:" + t.id;
  const ids = [session!.me.id, t.id].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  return `u:${ids[0]}:${ids[1]}`;
}

// ----------------------------------------------------------------- list

export function conversationList(active: ConversationName | null): HTMLElement {
  const list = h("ul", { class: "convs", "aria-label": "Conversations" });
  const draw = () => {
    const items = convs.filter((c) => c.kind === "user" || c.kind === "group");
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, "No conversations yet. Add a friend or create a group."));
      return;
    }
    replace(
      list,
      items.map((c) => {
        if (c.kind === "user") names.set(targetOf(c.conversation).id, c.name);
        const peer = c.kind === "user" ? targetOf(c.conversation).id : null;
        const label = `${c.name}${c.unread ? `, ${c.unread} unread` : ""}`;
        return h(
          "li",
          null,
          h(
            "a",
            { href: "/chat/" + c.conversation, class: c.conversation === active ? "conv active" : "conv", "aria-label": label, "aria-current": c.conversation === active ? "page" : null, "data-conv": c.conversation },
            avatar(c.name, c.avatar, peer ? presence.get(peer) : undefined),
            h("span", { class: "conv-main" }, h("span", { class: "conv-name" }, c.name, c.kind === "group" ? h("span", { class: "tag" }, "group") : null), h("span", { class: "conv-preview" }, c.last_message?.preview ?? "")),
            h("span", { class: "conv-side" }, c.last_message ? h("time", null, formatTime(c.last_message.ts)) : null, c.unread ? h("span", { class: "badge", "data-unread": c.unread }, String(c.unread)) : null, c.mentioned ? h("span", { class: "mention", title: "you were mentioned" }, "@") : null),
          ),
        );
      }),
    );
  };
  draw();
  const offs = [on("convs", draw), on("presence", draw)];
  keepUntilDetached(list, offs);
  void refreshConvs();
  return list;
}

/** Unsubscribes once el left the document (views are replaced whole). */
export function keepUntilDetached(el: HTMLElement, offs: Array<() => void>): void {
  const check = setInterval(() => {
    if (!el.isConnected) {
      clearInterval(check);
      offs.forEach((f) => f());
    }
  }, 2000);
}

// ------------------------------------------------------- conversation

export function conversationView(c: ConversationName): HTMLElement {
  setOpenConversation(c);
  const t = targetOf(c);
  const msgs = conversationMessages(c);
  const info = (): Conversation | undefined => convs.find((x) => x.conversation === c);
  const title = h("h2", { id: "chat-title" });
  const sub = h("p", { class: "chat-sub", role: "status" });
  const log = h("ol", { class: "messages", role: "log", "aria-labelledby": "chat-title", "aria-live": "polite", tabindex: 0 });
  const older = h("button", { type: "button", class: "link older" }, "Load older messages");
  const alert = h("p", { class: "error", role: "alert" });
  let replyTo: Msg | null = null;
  const replyBox = h("div", { class: "reply-box", hidden: true });
  const text = h("textarea", { id: "composer", rows: 1, placeholder: "Message", "aria-label": "Message", maxlength: null }) as HTMLTextAreaElement;
  const fileInput = h("input", { type: "file", id: "attach", class: "visually-hidden", "aria-label": "Attach an image or file" }) as HTMLInputElement;
  const emojiMenu = h("div", { class: "emoji-menu", role: "menu", hidden: true, "aria-label": "Emoji" });
  const pending = h("ol", { class: "messages pending", "aria-label": "Sending" });

  const drawHeader = () => {
    const cv = info();
    title.textContent = cv?.name ?? names.get(t.id) ?? (t.kind === "group" ? "Group" : "Chat");
    const ty = typing.get(c);
    if (ty && ty.until > Date.now()) {
      sub.textContent = `${names.get(ty.user) ?? "Someone"} is typing…`;
    } else if (t.kind === "user") {
      const p = presence.get(t.id);
      sub.textContent = p === undefined ? "" : p ? "online" : "offline";
    } else {
      sub.textContent = "group";
    }
  };

  const status = (m: Msg): string => {
    if (m.from !== session!.me.id || m.content.kind === "group_event") return "";
    if (t.kind === "user") {
      if ((peerRead.get(c) ?? 0) >= m.seq) return "Read";
      if ((delivered.get(c) ?? 0) >= m.seq) return "Delivered";
      return "Sent";
    }
    const r = receipts.get(c);
    return r && r.seq >= m.seq ? `Read by ${r.read}` : "Sent";
  };

  const drawMessages = () => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const sorted = [...msgs.values()].filter((m) => !["recall", "edit", "react", "unreact", "cleared"].includes(m.content.kind)).sort((a, b) => a.seq - b.seq);
    const lowest = Math.min(...msgs.keys());
    older.hidden = !(msgs.size > 0 && lowest > 1);
    let myLast = 0;
    for (const m of sorted) if (m.from === session!.me.id) myLast = m.seq;
    replace(
      log,
      sorted.map((m) => messageItem(m, m.seq === myLast ? status(m) : "")),
    );
    if (atBottom || log.dataset.scrolled !== "1") log.scrollTop = log.scrollHeight;
    markRead();
  };

  const messageItem = (m: Msg, st: string): HTMLElement => {
    const mine = m.from === session!.me.id;
    const content = m.content as { kind: string; [k: string]: unknown };
    if (content.kind === "group_event") {
      return h("li", { class: "event", "data-seq": m.seq }, groupEventText(content));
    }
    const reply = (content.reply_to as { seq: number } | undefined)?.seq;
    const replied = reply ? msgs.get(reply) : undefined;
    const actions = h(
      "span",
      { class: "actions" },
      h("button", { type: "button", class: "icon", "aria-label": "Reply", title: "Reply", onclick: () => setReply(m) }, "↩"),
      h("button", { type: "button", class: "icon", "aria-label": "React with 👍", title: "React 👍", onclick: () => react(m, "👍") }, "👍"),
      mine && !m.recalled ? h("button", { type: "button", class: "icon", "aria-label": "Recall", title: "Recall", onclick: () => recall(m) }, "⌫") : null,
    );
    return h(
      "li",
      { class: mine ? "msg mine" : "msg", "data-seq": m.seq },
      !mine && t.kind === "group" ? h("span", { class: "from" }, names.get(m.from) ?? "member " + m.from) : null,
      h(
        "div",
        { class: "bubble" },
        replied ? h("blockquote", { class: "quote" }, previewOf(replied)) : null,
        body(content),
        m.edited ? h("span", { class: "edited" }, " (edited)") : null,
      ),
      m.reactions?.length
        ? h("span", { class: "reactions" }, m.reactions.map((r) => h("button", { type: "button", class: r.me ? "reaction me" : "reaction", "aria-pressed": r.me ? "true" : "false", "aria-label": `${r.emoji} ${r.count}`, onclick: () => react(m, r.emoji) }, `${r.emoji} ${r.count}`)))
        : null,
      h("span", { class: "meta" }, h("time", { datetime: new Date(m.ts).toISOString() }, formatTime(m.ts)), st ? h("span", { class: "status" }, " · " + st) : null, actions),
    );
  };

  const setReply = (m: Msg | null) => {
    replyTo = m;
    replyBox.hidden = !m;
    if (m) replace(replyBox, "Replying to: ", previewOf(m), h("button", { type: "button", class: "icon", "aria-label": "Cancel the reply", onclick: () => setReply(null) }, "✕"));
    text.focus();
  };

  const react = (m: Msg, emoji: string) => {
    const mineAlready = m.reactions?.find((r) => r.emoji === emoji)?.me;
    const p = mineAlready ? chat?.unreact(c, m.seq, emoji) : chat?.react(c, m.seq, emoji);
    p?.catch((e) => (alert.textContent = errorText(e)));
  };

  const recall = (m: Msg) => {
    chat?.recall(c, m.seq).catch((e) => (alert.textContent = errorText(e)));
  };

  const markRead = () => {
    if (document.visibilityState !== "visible" || msgs.size === 0) return;
    const top = Math.max(...msgs.keys());
    chat?.read(c, top);
    const cv = info();
    if (cv && cv.unread) {
      cv.unread = 0;
      cv.read_seq = Math.max(cv.read_seq, top);
    }
  };

  const send = (content: SendContent, label: string) => {
    alert.textContent = "";
    if (replyTo) (content as { reply_to?: { seq: number } }).reply_to = { seq: replyTo.seq };
    setReply(null);
    const item = h("li", { class: "msg mine sending" }, h("div", { class: "bubble" }, label), h("span", { class: "meta" }, "Sending…"));
    pending.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (!chat) return;
    chat.send(t, content).then(
      () => item.remove(),
      (e) => {
        item.classList.add("failed");
        replace(item.querySelector(".meta")!, "Not sent: " + errorText(e));
        alert.textContent = errorText(e);
      },
    );
  };

  const submit = () => {
    const v = text.value;
    if (!v.trim()) return;
    text.value = "";
    const onlyEmoji = /^\p{Extended_Pictographic}(\u200d?\p{Extended_Pictographic}|\ufe0f)*$/u.test(v.trim());
    send({ kind: onlyEmoji ? "emoji" : "text", text: v }, v);
  };

  const upload = async (file: File) => {
    alert.textContent = "";
    try {
      const isImage = file.type.startsWith("image/");
      const dims = isImage ? await imageSize(file) : null;
      const up = await api.uploadFile(file, file.name);
      if (dims) send({ kind: "image", url: up.url, name: up.name, size: up.size, mime: up.mime, width: dims.w, height: dims.h }, "[image] " + file.name);
      else send({ kind: "file", url: up.url, name: up.name, size: up.size, mime: up.mime }, "[file] " + file.name);
    } catch (e) {
      alert.textContent = errorText(e);
    }
  };

  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  text.addEventListener("input", () => chat?.typing(c));
  fileInput.addEventListener("change", () => {
    const f = fileInput.files?.[0];
    fileInput.value = "";
    if (f) void upload(f);
  });
  replace(
    emojiMenu,
    EMOJI.map((e) =>
      h("button", { type: "button", role: "menuitem", "aria-label": e, onclick: () => { text.value += e; emojiMenu.hidden = true; text.focus(); } }, e),
    ),
  );
  log.addEventListener("scroll", () => (log.dataset.scrolled = "1"));
  older.addEventListener("click", async () => {
    const lowest = Math.min(...msgs.keys());
    const after = Math.max(0, lowest - 1 - PAGE);
    const before = log.scrollHeight;
    try {
      await chat?.sync(c, after, lowest - 1 - after);
      log.scrollTop = log.scrollHeight - before;
    } catch (e) {
      alert.textContent = errorText(e);
    }
  });

  const load = async () => {
    if (!chat) return;
    try {
      if (msgs.size === 0) {
        const head = info()?.head_seq ?? 0;
        await chat.sync(c, Math.max(0, head - PAGE), PAGE);
      }
    } catch (e) {
      alert.textContent = errorText(e);
    }
  };

  const view = h(
    "section",
    { class: "chat", "aria-labelledby": "chat-title", "data-conv": c },
    h("header", { class: "chat-head" }, h("a", { href: "/", class: "back", "aria-label": "Back to conversations" }, "←"), h("div", null, title, sub)),
    h("div", { class: "scroll" }, older, log, pending),
    alert,
    replyBox,
    h(
      "form",
      { class: "composer", "aria-label": "Write a message", onsubmit: (e: Event) => { e.preventDefault(); submit(); } },
      h("button", { type: "button", class: "icon", "aria-label": "Emoji", "aria-haspopup": "menu", onclick: () => (emojiMenu.hidden = !emojiMenu.hidden) }, "🙂"),
      emojiMenu,
      h("label", { for: "attach", class: "icon attach", title: "Attach an image or file" }, h("span", { "aria-hidden": "true" }, "📎"), h("span", { class: "visually-hidden" }, "Attach")),
      fileInput,
      text,
      h("button", { type: "submit", class: "send" }, "Send"),
    ),
  );
  drawHeader();
  drawMessages();
  const offs = [
    on("messages", (x) => x === c && drawMessages()),
    on("reads", (x) => x === c && drawMessages()),
    on("convs", drawHeader),
    on("typing", (x) => x === c && drawHeader()),
    on("presence", drawHeader),
    on("conn", () => chat?.state === "open" && msgs.size === 0 && void load()),
  ];
  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);
  offs.push(() => document.removeEventListener("visibilitychange", onVisible), () => setOpenConversation(null));
  keepUntilDetached(view, offs);
  void load();
  setTimeout(() => text.focus(), 0);
  return view;
}

function body(c: { kind: string; [k: string]: unknown }): HTMLElement {
  switch (c.kind) {
    case "text":
      return h("p", { class: "text" }, String(c.text));
    case "emoji":
      return h("p", { class: "text emoji" }, String(c.text));
    case "image": {
      const w = Number(c.width), hh = Number(c.height);
      const scale = Math.min(1, 280 / w, 280 / hh);
      return h("a", { href: String(c.url), target: "_blank", rel: "noopener" }, h("img", { class: "image", src: String(c.url), alt: String(c.name ?? "image"), width: Math.round(w * scale), height: Math.round(hh * scale), loading: "lazy" }));
    }
    case "file":
      return h("a", { class: "file", href: String(c.url), download: String(c.name) }, "📄 ", String(c.name), h("span", { class: "size" }, " " + formatSize(Number(c.size))));
    case "recalled":
      return h("p", { class: "recalled" }, "This message was recalled.");
    default:
      return h("p", { class: "other" }, `[${c.kind}]`);
  }
}

function previewOf(m: Msg): string {
  const c = m.content as { kind: string; text?: string; name?: string };
  if (c.kind === "text" || c.kind === "emoji") return (c.text ?? "").slice(0, 80);
  return `[${c.kind}]${c.name ? " " + c.name : ""}`;
}

function groupEventText(c: { kind: string; [k: string]: unknown }): string {
  const who = (id: unknown) => names.get(String(id)) ?? "member " + String(id);
  const users = ((c.users as string[]) ?? []).map(who).join(", ");
  switch (c.event) {
    case "created":
      return `${who(c.actor)} created the group “${String(c.name)}”${users ? " with " + users : ""}`;
    case "member_joined":
      return `${users} joined`;
    case "member_left":
      return `${users} left`;
    case "member_removed":
    case "member_banned":
      return `${who(c.actor)} removed ${users}`;
    case "renamed":
      return `${who(c.actor)} renamed the group to “${String(c.name)}”`;
    case "announcement":
      return `Announcement: ${String(c.text)}`;
    case "ownership_transferred":
      return `${who(c.actor)} handed the group to ${users}`;
    case "dismissed":
      return `${who(c.actor)} dismissed the group`;
    default:
      return "The group changed (" + String(c.event) + ")";
  }
}

function imageSize(file: File): Promise<{ w: number; h: number } | null> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      URL.revokeObjectURL(url);
      resolve({ w: img.naturalWidth, h: img.naturalHeight });
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      resolve(null);
    };
    img.src = url;
  });
}

export { notice };
