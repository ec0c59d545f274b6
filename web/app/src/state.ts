// The app's state: the session (token and profile, kept in localStorage),
// the REST client, the chat client of @privateim/sdk, and what the views
// show of the chat (messages per conversation, the conversation list,
// presence, typing, read state). Views subscribe with on(); every change
// calls the subscribers of its topic.

import {
  ApiClient,
  ApiError,
  ChatClient,
  ChatError,
  IndexedDBStorage,
  MemoryStorage,
  newId,
  type CloseInfo,
  type ConnectionState,
  type Conversation,
  type ConversationName,
  type HistoryMessage,
  type Me,
  type Reaction,
  type Storage,
} from "@privateim/sdk";

export type Topic = "session" | "conn" | "convs" | "messages" | "presence" | "typing" | "reads" | "notice";

const listeners = new Map<Topic, Set<(arg?: string) => void>>();

/** Subscribes to a topic; returns the unsubscribe. */
export function on(topic: Topic, f: (arg?: string) => void): () => void {
  let s = listeners.get(topic);
  if (!s) listeners.set(topic, (s = new Set()));
  s.add(f);
  return () => s!.delete(f);
}

export function emit(topic: Topic, arg?: string): void {
  for (const f of [...(listeners.get(topic) ?? [])]) f(arg);
}

// ------------------------------------------------------------- session

const SESSION_KEY = "privateim.session";

interface Session {
  token: string;
  me: Me;
}

export let session: Session | null = load();

function load(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null") as Session | null;
    return s && s.token && s.me ? s : null;
  } catch {
    return null;
  }
}

/** The REST client: one origin behind the webgateway (docs/web.md). */
export const api = new ApiClient({ baseUrl: "", subscriptionBaseUrl: "/sub", token: session?.token });

export function signedIn(token: string, me: Me): void {
  session = { token, me };
  api.token = token;
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  emit("session");
}

export function setMe(me: Me): void {
  if (!session) return;
  session.me = me;
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  emit("session");
}

export function signOut(): void {
  chat?.close();
  chat = null;
  session = null;
  api.signOut();
  localStorage.removeItem(SESSION_KEY);
  messages.clear();
  convs = [];
  emit("session");
}

/** The message of an error for the person: the server's own words when it answered. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError || e instanceof ChatError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

// ---------------------------------------------------------------- chat

export let chat: ChatClient | null = null;
export let connState: ConnectionState = "idle";
export let lastClose: CloseInfo | null = null;

/** Every tab is a device of its own (docs/websocket.md: up to 3 connections; a 4th replaces the oldest). */
function tabDevice(): string {
  let d = sessionStorage.getItem("privateim.device");
  if (!d) {
    d = "web-" + newId().slice(0, 12);
    sessionStorage.setItem("privateim.device", d);
  }
  return d;
}

export async function connect(): Promise<void> {
  if (!session) return;
  if (!chat) {
    const device = tabDevice();
    let storage: Storage;
    try {
      storage = await IndexedDBStorage.open("privateim-" + device);
    } catch {
      storage = new MemoryStorage();
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const c = new ChatClient({ url: `${proto}//${location.host}/ws`, token: () => session?.token ?? "", userId: session.me.id, storage, deviceId: device });
    chat = c;
    c.on("state", (s) => {
      connState = s;
      emit("conn");
    });
    c.on("close", (info) => {
      lastClose = info;
      if (info.kind === "revoked" || info.kind === "expired" || info.kind === "logged_out") {
        signOut();
        notice("Your session ended (" + info.kind + "): sign in again.");
        return;
      }
      emit("conn");
    });
    c.on("message", (m) => addMessages(m.conversation, [m], true));
    c.on("history", (hf) => addMessages(hf.conversation, hf.messages, false));
    c.on("presence", (p) => {
      presence.set(p.user, p.online);
      emit("presence", p.user);
    });
    c.on("typing", (t) => {
      typing.set(t.conversation, { user: t.user, until: Date.now() + 5000 });
      emit("typing", t.conversation);
      setTimeout(() => emit("typing", t.conversation), 5100);
    });
    c.on("read", (r) => {
      if (r.user === session?.me.id) {
        const cv = convs.find((x) => x.conversation === r.conversation);
        if (cv) {
          cv.read_seq = Math.max(cv.read_seq, r.seq);
          cv.unread = Math.max(0, cv.head_seq - cv.read_seq);
          emit("convs");
        }
      } else {
        peerRead.set(r.conversation, Math.max(peerRead.get(r.conversation) ?? 0, r.seq));
        emit("reads", r.conversation);
      }
    });
    c.on("delivered", (d) => {
      delivered.set(d.conversation, Math.max(delivered.get(d.conversation) ?? 0, d.seq));
      emit("reads", d.conversation);
    });
    c.on("receipt", (r) => {
      receipts.set(r.conversation, { seq: r.seq, read: r.read_count, delivered: r.delivered_count });
      emit("reads", r.conversation);
    });
    c.on("conversation", () => refreshConvs());
  }
  lastClose = null;
  emit("conn");
  await chat.connect().catch(() => undefined);
}

/** Connects again after a close that does not reconnect by itself (replaced: "opened elsewhere"). */
export function reconnect(): void {
  void connect();
}

// ----------------------------------------------------------- messages

export interface Msg extends HistoryMessage {
  recalled?: boolean;
  edited?: boolean;
}

/** Messages per conversation, by seq; lifecycle events are folded into their targets. */
export const messages = new Map<ConversationName, Map<number, Msg>>();
export const presence = new Map<string, boolean>();
export const typing = new Map<ConversationName, { user: string; until: number }>();
export const peerRead = new Map<ConversationName, number>();
export const delivered = new Map<ConversationName, number>();
export const receipts = new Map<ConversationName, { seq: number; read: number; delivered: number }>();
/** The conversation on screen: its messages are read as they arrive. */
export let openConversation: ConversationName | null = null;

export function setOpenConversation(c: ConversationName | null): void {
  openConversation = c;
}

export function conversationMessages(c: ConversationName): Map<number, Msg> {
  let m = messages.get(c);
  if (!m) messages.set(c, (m = new Map()));
  return m;
}

function addMessages(c: ConversationName, list: HistoryMessage[], live: boolean): void {
  const m = conversationMessages(c);
  let newest = 0;
  for (const raw of list) {
    const msg: Msg = { ...raw };
    const content = msg.content as { kind: string; target_seq?: number; text?: string; emoji?: string; user?: string };
    if (m.has(msg.seq) && !live) {
      // history again: keep the folded state, take the server's reactions
      if (msg.reactions) m.get(msg.seq)!.reactions = msg.reactions;
      continue;
    }
    m.set(msg.seq, msg);
    newest = Math.max(newest, msg.seq);
    const target = content.target_seq !== undefined ? m.get(content.target_seq) : undefined;
    if (target) {
      switch (content.kind) {
        case "recall":
          target.recalled = true;
          target.content = { kind: "recalled", by: msg.from };
          target.reactions = [];
          break;
        case "edit":
          if ("text" in target.content) (target.content as { text: string }).text = content.text ?? "";
          target.edited = true;
          break;
        case "react":
        case "unreact":
          target.reactions = fold(target.reactions ?? [], content.emoji ?? "", content.kind === "react" ? 1 : -1, content.user === session?.me.id);
          break;
      }
    }
  }
  if (live && newest > 0) {
    const cv = convs.find((x) => x.conversation === c);
    const mine = list.every((x) => x.from === session?.me.id);
    if (cv) {
      cv.head_seq = Math.max(cv.head_seq, newest);
      if (c !== openConversation && !mine) cv.unread = Math.max(0, cv.head_seq - cv.read_seq);
      const last = list[list.length - 1]!;
      cv.last_message = { sender: last.from, kind: last.content.kind, preview: preview(last.content), seq: last.seq, ts: last.ts };
      emit("convs");
    }
    refreshConvsSoon();
  }
  emit("messages", c);
}

function fold(rs: Reaction[], emoji: string, delta: number, me: boolean): Reaction[] {
  const out = rs.map((r) => ({ ...r }));
  const r = out.find((x) => x.emoji === emoji);
  if (r) {
    r.count += delta;
    if (me) r.me = delta > 0;
  } else if (delta > 0) {
    out.push({ emoji, count: 1, me });
  }
  return out.filter((x) => x.count > 0);
}

export function preview(c: { kind: string }): string {
  const content = c as { kind: string; [k: string]: unknown };
  switch (content.kind) {
    case "text":
    case "emoji":
      return String(content.text ?? "");
    case "image":
      return "[image]";
    case "file":
      return "[file] " + String(content.name ?? "");
    case "recalled":
    case "recall":
      return "[recalled]";
    case "group_event":
      return "[group] " + String(content.event ?? "");
    default:
      return "[" + content.kind + "]";
  }
}

// ------------------------------------------------------ conversations

export let convs: Conversation[] = [];
let convTimer: ReturnType<typeof setTimeout> | undefined;

export async function refreshConvs(): Promise<void> {
  if (!session) return;
  try {
    const r = await api.conversations({ limit: 100 });
    convs = r.conversations;
    for (const cv of convs) if (cv.conversation === openConversation) cv.unread = 0;
    emit("convs");
  } catch (e) {
    notice(errorText(e));
  }
}

/** The server's counts a moment after a burst of messages. */
function refreshConvsSoon(): void {
  clearTimeout(convTimer);
  convTimer = setTimeout(() => void refreshConvs(), 800);
}

// -------------------------------------------------------------- notice

export let noticeText = "";

/** A message in the app's alert region (role=alert): the server's words for a refusal. */
export function notice(text: string): void {
  noticeText = text;
  emit("notice");
}
