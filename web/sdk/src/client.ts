// ChatClient is the client side of the delivery contract of
// docs/websocket.md: it connects with the token, reconnects with jittered
// backoff, sends every frame answered by `sent` through a persistent outbox
// (resent with the same client_msg_id until answered), hands messages to the
// app in seq order per conversation with duplicates dropped, fills gaps
// with `sync`, and acks cumulatively what it handed over.
//
// Ownership: one ChatClient owns one socket at a time (this.ws); handlers of
// an older socket check `ws === this.ws` and do nothing once replaced. All
// state lives on the JavaScript event loop, so there are no locks.

import {
  CLOSE_CODES,
  RETRYABLE_ERRORS,
  isLifecycleEvent,
  parseServerFrame,
  type ClientFrame,
  type Content,
  type ConversationName,
  type DeleteForMeFrame,
  type EditFrame,
  type ErrorFrame,
  type HistoryFrame,
  type HistoryMessage,
  type ID,
  type MessageFrame,
  type OutboxFrame,
  type ReactFrame,
  type RecallFrame,
  type SendContent,
  type SendFrame,
  type SentFrame,
  type SyncFrame,
  type VersionsAnswerFrame,
  type VersionsFrame,
  type ServerFrame,
  type Target,
} from "./frames.js";
import { Emitter } from "./emitter.js";
import { MemoryStorage, type Storage } from "./storage.js";

/** The part of the WebSocket API the client uses: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "stopped";

/** Why a connection closed, from its close code (docs/websocket.md, "Close codes"). */
export type CloseKind =
  | "going_away" // 1001: the node shuts down
  | "too_large" // 1009
  | "internal" // 1011: catch-up failed
  | "slow" // 1013 slow reader
  | "token_check_unavailable" // 1013 after a revocation
  | "replaced" // 4001: a newer connection of the user took the slot
  | "catch_up_queue_full" // 4002
  | "revoked" // 4003: sign in again
  | "expired" // 4004: sign in again
  | "logged_out" // 4005: an admin logged this device out; drop the token and sign in again
  | "rate_limited" // 4008
  | "no_pong" // the client gave up on a silent connection
  | "network"; // anything else: the connection broke or never opened

export interface CloseInfo {
  code: number;
  reason: string;
  kind: CloseKind;
  /** Whether the client connects again by itself (false for replaced, revoked, expired and logged_out). */
  reconnecting: boolean;
  /** Whether the connection had opened (a refused upgrade, e.g. HTTP 401, never opens). */
  opened: boolean;
}

/** A message handed to the app; `echo` marks one built from this connection's own `sent` answer. */
export type DeliveredMessage = MessageFrame & { echo?: boolean };

export interface ClientEvents {
  state: ConnectionState;
  close: CloseInfo;
  /** Messages in seq order per conversation, each once. Lifecycle events too (content kind recall, edit, react, unreact). */
  message: DeliveredMessage;
  sent: SentFrame;
  /** A frame of the outbox refused for good (not `internal` or `rate_limited`). */
  failed: { frame: OutboxFrame; error: ErrorFrame };
  /** Every error frame. */
  error: ErrorFrame;
  read: Extract<ServerFrame, { type: "read" }>;
  receipt: Extract<ServerFrame, { type: "receipt" }>;
  delivered: Extract<ServerFrame, { type: "delivered" }>;
  typing: Extract<ServerFrame, { type: "typing" }>;
  conversation: Extract<ServerFrame, { type: "conversation" }>;
  presence: Extract<ServerFrame, { type: "presence" }>;
  history: HistoryFrame;
  versions: VersionsAnswerFrame;
  /** Every frame as it arrives, before the client handles it. */
  frame: ServerFrame;
}

export interface ClientOptions {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:8081/ws` or `wss://chat.example.com/ws`. */
  url: string;
  /** The bearer token, or a function asked before every connection (so it can refresh). */
  token: string | (() => string | Promise<string>);
  /** The signed-in user's id; default: the token's `sub` claim. Scopes the stored cursors and outbox. */
  userId?: ID;
  /** Default: MemoryStorage. In browsers: IndexedDBStorage.open(). */
  storage?: Storage;
  /** Default: one kept in storage (one per browser profile), made on first use. */
  deviceId?: string;
  /** Default: globalThis.WebSocket. In Node 20: the `ws` package's WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delays: full jitter over initialDelayMs * 2^attempt, capped at maxDelayMs. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** An outbox frame not answered within this is sent again with the same client_msg_id (default 10 s). */
  answerTimeoutMs?: number;
  /** A ping every this (default 20 s); a connection silent for two of them is given up and reconnected. */
  pingIntervalMs?: number;
  /** Acks of a conversation are sent at most this often (default 100 ms): acks are cumulative. */
  ackDelayMs?: number;
  /** A gap waits this long for the missing frames before it is filled with sync (default 300 ms). */
  gapWaitMs?: number;
  /** A sync not answered within this is given up (default 15 s). */
  syncTimeoutMs?: number;
  /** Frames larger than this are refused locally (the server closes with 1009 over 64 KiB). */
  maxFrameBytes?: number;
  /**
   * At most this many outbox frames are on the wire unanswered (default 16):
   * a long outbox after a reconnect goes out in order at the pace of the
   * answers, under the server's send burst (40), instead of all at once.
   */
  maxInFlight?: number;
}

/** An error of a client call: a refusal by the server (`code` from docs/websocket.md) or a local one. */
export class ChatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly frame?: ErrorFrame,
  ) {
    super(message);
    this.name = "ChatError";
  }
}

interface OutboxEntry {
  frame: OutboxFrame;
  n: number; // submission order, kept across reloads
  sentAt?: number; // last written to a socket
  retryAt?: number; // after a retryable error
  refusals: number; // retryable errors in a row: the backoff of `internal`
  waiters: Array<{ resolve: (s: SentFrame) => void; reject: (e: Error) => void }>;
}

/** A sync or versions frame waiting for its answer (history or versions), or for the pong that tells it was refused. */
interface PendingRequest {
  key: string; // what answers it: "sync <conversation>" or "versions <conversation> <seq>"
  conversation: ConversationName;
  gap: boolean; // a sync asked by the client to fill a gap, not by the app
  after: number; // the after_seq asked
  resolve: (answer: never) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
const terminalCloses: ReadonlySet<number> = new Set([CLOSE_CODES.replaced, CLOSE_CODES.revoked, CLOSE_CODES.expired, CLOSE_CODES.loggedOut]);

export class ChatClient extends Emitter<ClientEvents> {
  private readonly opts: Required<
    Pick<
      ClientOptions,
      "answerTimeoutMs" | "pingIntervalMs" | "ackDelayMs" | "gapWaitMs" | "syncTimeoutMs" | "maxFrameBytes" | "maxInFlight"
    >
  >;
  private readonly storage: Storage;
  private readonly WS: WebSocketConstructor;
  private token: ClientOptions["token"];
  private ns = ""; // storage key prefix of the user
  private userId: ID | undefined;
  private deviceIdValue: string | undefined;
  private loaded: Promise<void> | undefined;

  private ws: WebSocketLike | undefined;
  private stateValue: ConnectionState = "idle";
  private attempt = 0; // reconnect attempts since the last connection that lived
  private openedAt = 0;
  private lastFrameAt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private lastPing = 0;
  private openWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  private readonly outbox = new Map<string, OutboxEntry>();
  private nextN = 0;

  private readonly cursors = new Map<ConversationName, number>(); // handed to the app up to
  private readonly buffers = new Map<ConversationName, Map<number, DeliveredMessage>>();
  private readonly acked = new Map<ConversationName, number>(); // acked on this connection
  private readonly ackTimers = new Map<ConversationName, ReturnType<typeof setTimeout>>();
  private readonly gapTimers = new Map<ConversationName, ReturnType<typeof setTimeout>>();
  private readonly requests = new Map<string, PendingRequest[]>(); // by key, in the order written
  // The server handles a connection's sync, ack, read, typing and ping
  // frames one after another and answers a refused one with an error
  // without client_msg_id. So each sync is followed by a ping, its fence:
  // when that pong comes and the sync has no history yet, it was refused
  // (with the last such error since the pong before). One entry per ping
  // written, the sync it fences or undefined (a keepalive); a ping refused
  // by a rate limit leaves an entry with no pong, so later pongs meet
  // older entries, whose syncs have been answered anyway.
  private fences: Array<PendingRequest | undefined> = [];
  private unclaimedError: ErrorFrame | undefined;
  private readonly reads = new Map<ConversationName, number>(); // read frames waiting for a connection
  private readonly typingAt = new Map<ConversationName, number>();

  constructor(private readonly options: ClientOptions) {
    super();
    if (!options.url) throw new ChatError("bad_option", "url: required");
    this.token = options.token;
    this.storage = options.storage ?? new MemoryStorage();
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new ChatError("bad_option", "WebSocket: none in this environment; pass one (the ws package in Node)");
    this.WS = WS;
    this.opts = {
      answerTimeoutMs: options.answerTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 20_000,
      ackDelayMs: options.ackDelayMs ?? 100,
      gapWaitMs: options.gapWaitMs ?? 300,
      syncTimeoutMs: options.syncTimeoutMs ?? 15_000,
      maxFrameBytes: options.maxFrameBytes ?? 65_536,
      maxInFlight: options.maxInFlight ?? 16,
    };
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The device id the client connects with (known once connect() has loaded the storage). */
  get deviceId(): string | undefined {
    return this.deviceIdValue;
  }

  /** The highest seq of the conversation handed to the app in order. */
  cursor(conversation: ConversationName): number | undefined {
    return this.cursors.get(conversation);
  }

  /** The outbox: frames not yet answered with `sent`, in the order they were submitted. */
  pending(): OutboxFrame[] {
    return [...this.outbox.values()].sort((a, b) => a.n - b.n).map((e) => e.frame);
  }

  /** Replaces the token (after signing in again); the next connection uses it. */
  setToken(token: ClientOptions["token"]): void {
    this.token = token;
  }

  /**
   * Loads the stored state and connects; resolves once a connection is
   * open (it keeps trying meanwhile), rejects when close() is called or the
   * server closes with replaced, revoked, expired or logged_out first. Calling it again
   * after such a close connects again.
   */
  connect(): Promise<void> {
    if (this.stateValue === "open") return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.stateValue === "idle" || this.stateValue === "stopped") {
      this.setState("connecting");
      this.attempt = 0;
      this.tick ??= setInterval(() => this.onTick(), 250);
      void this.open();
    }
    return p;
  }

  /** Closes the connection and stops reconnecting; the outbox and cursors stay in storage. */
  close(): void {
    this.stop(new ChatError("closed", "the client was closed"));
    this.ws?.close(1000, "client closed");
    this.detach();
  }

  // ------------------------------------------------------------- sending

  /** Sends a message; resolves with its `sent` answer once stored (across reconnects), rejects on a final refusal. */
  send(to: Target, content: SendContent, opts: { clientMsgId?: string } = {}): Promise<SentFrame> {
    return this.submit({ type: "send", client_msg_id: opts.clientMsgId ?? newId(), to, content });
  }

  /** Sends a text message. */
  sendText(to: Target, text: string): Promise<SentFrame> {
    return this.send(to, { kind: "text", text });
  }

  recall(conversation: ConversationName, seq: number): Promise<SentFrame> {
    return this.submit({ type: "recall", client_msg_id: newId(), conversation, seq } satisfies RecallFrame);
  }

  edit(conversation: ConversationName, seq: number, text: string): Promise<SentFrame> {
    return this.submit({ type: "edit", client_msg_id: newId(), conversation, seq, text } satisfies EditFrame);
  }

  react(conversation: ConversationName, seq: number, emoji: string): Promise<SentFrame> {
    return this.submit({ type: "react", client_msg_id: newId(), conversation, seq, emoji } satisfies ReactFrame);
  }

  unreact(conversation: ConversationName, seq: number, emoji: string): Promise<SentFrame> {
    return this.submit({ type: "unreact", client_msg_id: newId(), conversation, seq, emoji } satisfies ReactFrame);
  }

  deleteForMe(conversation: ConversationName, seq: number): Promise<SentFrame> {
    return this.submit({ type: "delete_for_me", client_msg_id: newId(), conversation, seq } satisfies DeleteForMeFrame);
  }

  /** Tells the server (and the peer, or the group sender's receipt) that the user read up to seq. Sent once connected. */
  read(conversation: ConversationName, seq: number): void {
    if ((this.reads.get(conversation) ?? 0) >= seq) return;
    this.reads.set(conversation, seq);
    this.flushReads();
  }

  /** Says the user is typing; at most one frame per conversation per 2 s leaves (the server forwards no more). */
  typing(conversation: ConversationName): void {
    const now = Date.now();
    if (now - (this.typingAt.get(conversation) ?? 0) < 2000 || !this.isOpen()) return;
    this.typingAt.set(conversation, now);
    this.write({ type: "typing", conversation });
  }

  /**
   * History after afterSeq (up to limit, 1..200). Rejects when not connected
   * or when the connection closes before the answer.
   */
  sync(conversation: ConversationName, afterSeq = 0, limit = 50): Promise<HistoryFrame> {
    if (limit < 1 || limit > 200) return Promise.reject(new ChatError("bad_frame", "limit: must be 1..200"));
    return this.requestSync(conversation, afterSeq, limit, false);
  }

  /**
   * The kept previous versions of edited message seq (with EDIT_HISTORY on
   * the server; `[]` otherwise), for its sender and a group's owner and
   * admins; others are refused `forbidden`.
   */
  versions(conversation: ConversationName, seq: number, limit = 50): Promise<VersionsAnswerFrame> {
    if (limit < 1 || limit > 200) return Promise.reject(new ChatError("bad_frame", "limit: must be 1..200"));
    return this.request(`versions ${conversation} ${seq}`, conversation, { type: "versions", conversation, seq, limit });
  }

  private async submit(frame: OutboxFrame): Promise<SentFrame> {
    const size = new TextEncoder().encode(JSON.stringify(frame)).length;
    if (size > this.opts.maxFrameBytes) {
      throw new ChatError("too_large", `frame: ${size} bytes, over the ${this.opts.maxFrameBytes} byte limit`);
    }
    await this.load();
    const id = frame.client_msg_id;
    let entry = this.outbox.get(id);
    if (!entry) {
      entry = { frame, n: this.order(), waiters: [], refusals: 0 };
      this.outbox.set(id, entry);
      // Stored before it leaves: a reload after this sends it again.
      await this.storage.set(this.key("outbox/", id), { frame, n: entry.n });
    }
    const p = new Promise<SentFrame>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    this.pump();
    return p;
  }

  private order(): number {
    // Milliseconds * 1000 + a counter: increasing across reloads.
    this.nextN = Math.max(this.nextN + 1, Date.now() * 1000);
    return this.nextN;
  }

  /**
   * Writes outbox frames in submission order: again those whose answer is
   * overdue, and new ones (or ones whose retry is due) while fewer than
   * maxInFlight are unanswered. A frame waiting to retry holds back the
   * frames after it that have not left yet, so they cannot overtake it.
   */
  private pump(): void {
    if (!this.isOpen()) return;
    const now = Date.now();
    let inFlight = 0;
    for (const e of [...this.outbox.values()].sort((a, b) => a.n - b.n)) {
      if (e.sentAt !== undefined) {
        inFlight++;
        if (now - e.sentAt >= this.opts.answerTimeoutMs) this.writeEntry(e);
        continue;
      }
      if (e.retryAt !== undefined && now < e.retryAt) break;
      if (inFlight >= this.opts.maxInFlight) break;
      this.writeEntry(e);
      inFlight++;
    }
  }

  private writeEntry(e: OutboxEntry): void {
    e.sentAt = Date.now();
    e.retryAt = undefined;
    this.write(e.frame);
  }

  // --------------------------------------------------------- connection

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const token = await this.currentToken();
      this.userId = this.options.userId ?? tokenSubject(token);
      this.ns = `u/${this.userId ?? "_"}/`;
      let device = this.options.deviceId ?? (await this.storage.get<string>("device_id"));
      if (!device) {
        device = "web-" + newId().slice(0, 16);
        await this.storage.set("device_id", device);
      }
      this.deviceIdValue = device;
      for (const [k, v] of await this.storage.entries<number>(this.ns + "cursor/")) {
        this.cursors.set(k.slice((this.ns + "cursor/").length), v);
      }
      for (const [, v] of await this.storage.entries<{ frame: OutboxFrame; n: number }>(this.ns + "outbox/")) {
        if (!this.outbox.has(v.frame.client_msg_id)) {
          this.outbox.set(v.frame.client_msg_id, { frame: v.frame, n: v.n, waiters: [], refusals: 0 });
          this.nextN = Math.max(this.nextN, v.n);
        }
      }
    })();
    return this.loaded;
  }

  private async currentToken(): Promise<string> {
    return typeof this.token === "function" ? await this.token() : this.token;
  }

  private async open(): Promise<void> {
    let url: string;
    try {
      await this.load();
      const token = await this.currentToken();
      const exp = tokenClaims(token).exp;
      if (exp !== undefined && exp * 1000 <= Date.now()) {
        // The server would refuse it (HTTP 401), which a browser cannot
        // tell from a network error: say so instead of retrying forever.
        this.stop(new ChatError("expired", "the token has expired: sign in again"));
        this.emit("close", { code: CLOSE_CODES.expired, reason: "token expired", kind: "expired", reconnecting: false, opened: false });
        return;
      }
      const u = new URL(this.options.url);
      u.searchParams.set("device_id", this.deviceIdValue ?? "");
      u.searchParams.set("token", token);
      url = u.toString();
    } catch (err) {
      this.stop(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.stateValue === "stopped") return;
    const ws = new this.WS(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      opened = true;
      this.openedAt = this.lastFrameAt = this.lastPing = Date.now();
      this.acked.clear();
      this.setState("open");
      for (const w of this.openWaiters.splice(0)) w.resolve();
      // Everything unanswered, in submission order, with the same client_msg_id.
      this.pump();
      this.flushReads();
      for (const c of this.buffers.keys()) this.scheduleGapSync(c, 0);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      let f: ServerFrame;
      try {
        f = parseServerFrame(typeof ev.data === "string" ? ev.data : String(ev.data));
      } catch {
        return; // not a frame of the protocol: nothing to do with it
      }
      this.handle(f);
    };
    ws.onerror = () => {
      // onclose follows with the code.
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.closed(ev.code, ev.reason ?? "", opened);
    };
  }

  private closed(code: number, reason: string, opened: boolean): void {
    this.detach();
    const kind = closeKind(code, reason);
    const terminal = terminalCloses.has(code);
    const lived = opened && Date.now() - this.openedAt >= 5000;
    if (lived) this.attempt = 0;
    for (const q of this.requests.values()) {
      for (const s of q) {
        clearTimeout(s.timer);
        s.reject(new ChatError("closed", "the connection closed before the sync was answered"));
      }
    }
    this.requests.clear();
    this.fences = [];
    this.unclaimedError = undefined;
    for (const e of this.outbox.values()) e.sentAt = undefined;
    if (terminal) {
      this.stop(new ChatError(kind, `connection closed: ${code} ${reason}`));
    } else if (this.stateValue !== "stopped") {
      this.setState("reconnecting");
      const base = this.options.reconnect?.initialDelayMs ?? 500;
      const max = this.options.reconnect?.maxDelayMs ?? 30_000;
      // A node closing with rate_limited wants a pause: start at 5 s.
      const floor = code === CLOSE_CODES.rateLimited ? 5000 : 0;
      const delay = floor + Math.random() * Math.min(max, base * 2 ** Math.min(this.attempt, 16));
      this.attempt++;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (this.stateValue === "reconnecting") {
          this.setState("connecting");
          void this.open();
        }
      }, delay);
    }
    this.emit("close", { code, reason, kind, reconnecting: !terminal && this.stateValue !== "stopped", opened });
  }

  private detach(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = undefined;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
  }

  private stop(err: Error): void {
    this.setState("stopped");
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.tick) clearInterval(this.tick);
    this.tick = undefined;
    for (const t of this.ackTimers.values()) clearTimeout(t);
    this.ackTimers.clear();
    for (const t of this.gapTimers.values()) clearTimeout(t);
    this.gapTimers.clear();
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    for (const e of this.outbox.values()) {
      for (const w of e.waiters.splice(0)) w.reject(err);
    }
  }

  private setState(s: ConnectionState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit("state", s);
  }

  private isOpen(): boolean {
    return this.stateValue === "open" && this.ws !== undefined && this.ws.readyState === OPEN;
  }

  private write(f: ClientFrame): void {
    if (!this.isOpen()) return;
    this.ws!.send(JSON.stringify(f));
  }

  /** Every 250 ms: pings, the silence check, outbox frames whose answer is overdue or whose retry is due. */
  private onTick(): void {
    if (!this.isOpen()) return;
    const now = Date.now();
    if (now - this.lastFrameAt > 2 * this.opts.pingIntervalMs + 5000) {
      // Silent for two pings: the TCP connection is likely gone without a close.
      const ws = this.ws!;
      this.detach();
      ws.close(4000, "no pong");
      this.closed(4000, "no pong", true);
      return;
    }
    if (now - this.lastPing >= this.opts.pingIntervalMs) {
      this.lastPing = now;
      this.fences.push(undefined);
      this.write({ type: "ping" });
    }
    this.pump();
  }

  // ---------------------------------------------------------- receiving

  private handle(f: ServerFrame): void {
    this.emit("frame", f);
    switch (f.type) {
      case "sent":
        this.onSent(f);
        break;
      case "message":
        this.accept(f, false);
        break;
      case "history":
        this.onHistory(f);
        break;
      case "versions": {
        this.emit("versions", f);
        this.answered(`versions ${f.conversation} ${f.seq}`)?.resolve(f as never);
        break;
      }
      case "error":
        this.onError(f);
        break;
      case "pong":
        this.onPong();
        break;
      default:
        // read, receipt, delivered, typing, conversation, presence: to the app as they are.
        this.emit(f.type, f as never);
    }
  }

  private onSent(s: SentFrame): void {
    const e = this.outbox.get(s.client_msg_id);
    if (e) {
      this.outbox.delete(s.client_msg_id);
      void this.storage.delete(this.key("outbox/", s.client_msg_id));
    }
    this.emit("sent", s);
    if (e) {
      this.pump();
      for (const w of e.waiters.splice(0)) w.resolve(s);
      // The sending connection gets no message frame of its own send: the
      // answer fills the seq so the conversation's order has no hole.
      this.accept(this.echo(e.frame, s), false);
    }
  }

  private echo(f: OutboxFrame, s: SentFrame): DeliveredMessage {
    const me = this.userId ?? "";
    let to: Target;
    let content: Content;
    if (f.type === "send") {
      to = f.to;
      content = f.content as Content;
    } else {
      to = targetOf(f.conversation, me);
      switch (f.type) {
        case "recall":
          content = { kind: "recall", target_seq: f.seq, by: me };
          break;
        case "edit":
          content = { kind: "edit", target_seq: f.seq, text: f.text, edited_at: s.ts };
          break;
        case "react":
        case "unreact":
          content = { kind: f.type, target_seq: f.seq, emoji: f.emoji, user: me };
          break;
        case "delete_for_me":
          to = { kind: "user", id: me };
          content = { kind: "cleared", conversation: f.conversation, up_to_seq: f.seq };
          break;
      }
    }
    return { type: "message", msg_id: s.msg_id, conversation: s.conversation, seq: s.seq, from: me, to, content, ts: s.ts, echo: true };
  }

  private onError(f: ErrorFrame): void {
    this.emit("error", f);
    if (!f.client_msg_id) this.unclaimedError = f;
    const e = f.client_msg_id ? this.outbox.get(f.client_msg_id) : undefined;
    if (!e) return;
    if (RETRYABLE_ERRORS.includes(f.code)) {
      // rate_limited says when; internal (a DataService outage) backs off 1, 2, 4 .. 30 s.
      const wait = f.retry_after ?? Math.min(30_000, 1000 * 2 ** Math.min(5, e.refusals));
      e.refusals++;
      e.retryAt = Date.now() + wait;
      e.sentAt = undefined;
      return;
    }
    this.outbox.delete(f.client_msg_id!);
    void this.storage.delete(this.key("outbox/", f.client_msg_id!));
    const err = new ChatError(f.code, f.message, f);
    for (const w of e.waiters.splice(0)) w.reject(err);
    this.emit("failed", { frame: e.frame, error: f });
    this.pump();
  }

  /** Takes a message (live, echoed or from history) into its conversation's order. */
  private accept(m: DeliveredMessage, fromHistory: boolean): void {
    const c = m.conversation;
    let cur = this.cursors.get(c);
    if (cur === undefined) {
      if (fromHistory) return; // history of a conversation not followed yet is the app's own read
      // A conversation seen for the first time starts where the server
      // starts it (after the device's acked seq, or the member's join seq).
      cur = m.seq - 1;
      this.cursors.set(c, cur);
    }
    if (m.seq <= cur) {
      this.scheduleAck(c); // a redelivery: the server has not seen our ack
      return;
    }
    let buf = this.buffers.get(c);
    if (!buf) {
      buf = new Map();
      this.buffers.set(c, buf);
    }
    if (!buf.has(m.seq) || !m.echo) buf.set(m.seq, m);
    this.drain(c);
  }

  private drain(c: ConversationName): void {
    const buf = this.buffers.get(c);
    if (!buf) return;
    let cur = this.cursors.get(c) ?? 0;
    let moved = false;
    for (let m = buf.get(cur + 1); m; m = buf.get(cur + 1)) {
      buf.delete(cur + 1);
      cur++;
      this.cursors.set(c, cur);
      moved = true;
      this.deliver(m);
      cur = this.cursors.get(c) ?? cur; // deliver may move it (a cleared event of this conversation)
    }
    if (buf.size === 0) {
      this.buffers.delete(c);
      const t = this.gapTimers.get(c);
      if (t) clearTimeout(t);
      this.gapTimers.delete(c);
    } else {
      this.scheduleGapSync(c, this.opts.gapWaitMs);
    }
    if (moved) this.scheduleAck(c);
  }

  private deliver(m: DeliveredMessage): void {
    if (m.content.kind === "cleared" && m.conversation.startsWith("sys:")) {
      // Delete-for-me from one of the user's devices: the conversation's
      // messages up to up_to_seq are hidden and never come.
      const { conversation, up_to_seq } = m.content as { conversation: ConversationName; up_to_seq: number };
      const cur = this.cursors.get(conversation);
      if (cur !== undefined && cur < up_to_seq) {
        this.cursors.set(conversation, up_to_seq);
        const buf = this.buffers.get(conversation);
        if (buf) for (const s of [...buf.keys()]) if (s <= up_to_seq) buf.delete(s);
        this.scheduleAck(conversation);
        this.drain(conversation);
      }
    }
    try {
      this.emit("message", m);
    } catch {
      // A throwing handler must not stop the order (Emitter logs it).
    }
  }

  private scheduleAck(c: ConversationName): void {
    if (this.ackTimers.has(c)) return;
    this.ackTimers.set(
      c,
      setTimeout(() => {
        this.ackTimers.delete(c);
        const cur = this.cursors.get(c);
        if (cur === undefined) return;
        void this.storage.set(this.key("cursor/", c), cur);
        if (cur <= 0 || !this.isOpen()) return;
        // Re-acked after a redelivery even when acked before: that ack may
        // have been lost with its connection.
        this.acked.set(c, cur);
        this.write({ type: "ack", conversation: c, seq: cur });
      }, this.opts.ackDelayMs),
    );
  }

  private scheduleGapSync(c: ConversationName, wait: number): void {
    if (this.gapTimers.has(c)) return;
    this.gapTimers.set(
      c,
      setTimeout(() => {
        this.gapTimers.delete(c);
        if (!this.buffers.get(c)?.size || !this.isOpen()) return;
        if (this.requests.get(`sync ${c}`)?.some((s) => s.gap)) return; // its answer drains or schedules again
        const after = this.cursors.get(c) ?? 0;
        this.requestSync(c, after, 200, true).catch(() => {
          // Closed or timed out: the next connection's open tries again.
        });
      }, wait),
    );
  }

  private requestSync(c: ConversationName, afterSeq: number, limit: number, gap: boolean): Promise<HistoryFrame> {
    return this.request(`sync ${c}`, c, { type: "sync", conversation: c, after_seq: afterSeq, limit }, gap, afterSeq);
  }

  /** Writes a frame answered in order (sync, versions) and its fencing ping. */
  private request<T>(key: string, c: ConversationName, frame: SyncFrame | VersionsFrame, gap = false, after = 0): Promise<T> {
    if (!this.isOpen()) return Promise.reject(new ChatError("not_connected", `${frame.type}: not connected`));
    return new Promise<T>((resolve, reject) => {
      const q = this.requests.get(key) ?? [];
      this.requests.set(key, q);
      const s: PendingRequest = {
        key,
        conversation: c,
        gap,
        after,
        resolve: resolve as (answer: never) => void,
        reject,
        timer: setTimeout(() => {
          const i = q.indexOf(s);
          if (i >= 0) q.splice(i, 1);
          reject(new ChatError("timeout", `${frame.type} of ${c}: no answer within ${this.opts.syncTimeoutMs} ms`));
          if (gap) this.scheduleGapSync(c, this.opts.gapWaitMs);
        }, this.opts.syncTimeoutMs),
      };
      q.push(s);
      this.write(frame);
      this.fences.push(s);
      this.write({ type: "ping" });
    });
  }

  /** The oldest request waiting for an answer of key: the server answers them in order. */
  private answered(key: string): PendingRequest | undefined {
    const q = this.requests.get(key);
    const s = q?.shift();
    if (q && q.length === 0) this.requests.delete(key);
    if (s) clearTimeout(s.timer);
    return s;
  }

  /** A pong: every frame written before its ping has been handled; a sync it fences without history was refused. */
  private onPong(): void {
    const s = this.fences.shift();
    const err = this.unclaimedError;
    this.unclaimedError = undefined;
    if (!s) return;
    const q = this.requests.get(s.key);
    const i = q?.indexOf(s) ?? -1;
    if (!q || i < 0) return; // answered
    q.splice(i, 1);
    if (q.length === 0) this.requests.delete(s.key);
    clearTimeout(s.timer);
    s.reject(
      err
        ? new ChatError(err.code, err.message, err)
        : new ChatError("internal", `${s.key}: the server answered nothing`),
    );
    if (!s.gap) return;
    const buf = this.buffers.get(s.conversation);
    if (!err || RETRYABLE_ERRORS.includes(err.code) || !buf?.size) {
      this.scheduleGapSync(s.conversation, Math.max(1000, err?.retry_after ?? 0));
      return;
    }
    // Refused for good (no longer a member, say): go on from what is here.
    this.cursors.set(s.conversation, Math.min(...buf.keys()) - 1);
    this.drain(s.conversation);
  }

  private onHistory(h: HistoryFrame): void {
    const s = this.answered(`sync ${h.conversation}`);
    const c = h.conversation;
    const cur = this.cursors.get(c);
    if (s?.gap && cur !== undefined && cur === s.after) {
      const first = h.messages[0];
      const buf = this.buffers.get(c);
      if (first && first.seq > cur + 1) {
        // Nothing between for this user (cleared, or before the join seq).
        this.cursors.set(c, first.seq - 1);
      } else if (!first && !h.has_more && buf?.size) {
        // The gap cannot be filled: go on from the lowest buffered.
        this.cursors.set(c, Math.min(...buf.keys()) - 1);
      }
    }
    for (const m of h.messages) this.accept(toMessage(c, m), true);
    this.drain(c);
    this.emit("history", h);
    s?.resolve(h as never);
  }

  private flushReads(): void {
    if (!this.isOpen()) return;
    for (const [c, seq] of this.reads) this.write({ type: "read", conversation: c, seq });
    this.reads.clear();
  }

  private key(kind: "outbox/" | "cursor/", id: string): string {
    return this.ns + kind + id;
  }
}

function toMessage(conversation: ConversationName, m: HistoryMessage): MessageFrame {
  return { ...m, type: "message", conversation };
}

/** The target of a frame of conversation c as sent by me: the other user of a 1:1, or the group. */
function targetOf(c: ConversationName, me: ID): Target {
  if (c.startsWith("g:")) return { kind: "group", id: c.slice(2) };
  if (c.startsWith("u:")) {
    const [, a, b] = c.split(":");
    return { kind: "user", id: a === me ? (b ?? "") : (a ?? "") };
  }
  return { kind: "user", id: me };
}

function closeKind(code: number, reason: string): CloseKind {
  switch (code) {
    case CLOSE_CODES.goingAway:
      return "going_away";
    case CLOSE_CODES.tooLarge:
      return "too_large";
    case CLOSE_CODES.internalError:
      return "internal";
    case CLOSE_CODES.tryAgainLater:
      return reason === "token check unavailable" ? "token_check_unavailable" : "slow";
    case CLOSE_CODES.replaced:
      return "replaced";
    case CLOSE_CODES.catchUpQueueFull:
      return "catch_up_queue_full";
    case CLOSE_CODES.revoked:
      return "revoked";
    case CLOSE_CODES.expired:
      return "expired";
    case CLOSE_CODES.loggedOut:
      return "logged_out";
    case CLOSE_CODES.rateLimited:
      return "rate_limited";
    case 4000:
      return "no_pong";
    default:
      return "network";
  }
}

/** A random id of 32 hex digits (client_msg_id, device ids). */
export function newId(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The claims of a JWT the client uses, or {} when the token is not one (it is never verified here). */
export function tokenClaims(token: string): { sub?: string; exp?: number } {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (part.length % 4)) % 4));
    const c = JSON.parse(json) as { sub?: unknown; exp?: unknown };
    return {
      sub: typeof c.sub === "string" ? c.sub : undefined,
      exp: typeof c.exp === "number" ? c.exp : undefined,
    };
  } catch {
    return {};
  }
}

/** The `sub` claim of a JWT (the user id), or undefined when the token is not one. */
export function tokenSubject(token: string): string | undefined {
  return tokenClaims(token).sub;
}

export { isLifecycleEvent };
