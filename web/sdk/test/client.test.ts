// Unit tests of ChatClient's contract logic over an in-process socket the
// test drives frame by frame (the integration tests run it against the real
// stack: integration.test.ts).
import { after, test } from "node:test";
import assert from "node:assert/strict";

import {
  ChatClient,
  MemoryStorage,
  tokenSubject,
  type ClientFrame,
  type CloseInfo,
  type DeliveredMessage,
  type ServerFrame,
  type WebSocketLike,
} from "../src/index.js";

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  written: ClientFrame[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.written.push(JSON.parse(data) as ClientFrame);
  }
  close(code = 1000, reason = ""): void {
    this.serverClose(code, reason);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(f: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code: number, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  of<T extends ClientFrame["type"]>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.written.filter((f) => f.type === type) as Extract<ClientFrame, { type: T }>[];
  }
}

// A JWT-shaped token whose sub is 101 (the client reads only the payload).
const token = "x." + Buffer.from(JSON.stringify({ sub: "101" })).toString("base64url") + ".y";

// Every client, closed at the end even after a failure: its timers would keep node running.
const clients: ChatClient[] = [];
after(() => clients.forEach((c) => c.close()));
function track(c: ChatClient): ChatClient {
  clients.push(c);
  return c;
}

function newClient(storage = new MemoryStorage()): ChatClient {
  return track(new ChatClient({
    url: "ws://chat.test/ws",
    token,
    storage,
    WebSocket: FakeSocket,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    ackDelayMs: 5,
    gapWaitMs: 20,
    answerTimeoutMs: 200,
  }));
}

/** Polls cond every 5 ms until it holds or 5 s pass. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function connected(c: ChatClient): Promise<FakeSocket> {
  const n = FakeSocket.all.length;
  const p = c.connect();
  await until("a socket", () => FakeSocket.all.length > n);
  const s = FakeSocket.all[FakeSocket.all.length - 1]!;
  s.open();
  await p;
  return s;
}

function msg(conversation: string, seq: number, text = `m${seq}`): ServerFrame {
  return {
    type: "message",
    msg_id: String(1000 + seq),
    conversation,
    seq,
    from: "202",
    to: { kind: "user", id: "101" },
    content: { kind: "text", text },
    ts: 1_700_000_000_000 + seq,
  };
}

/** A history message: a message frame without its type. */
function hist(conversation: string, seq: number): Omit<Extract<ServerFrame, { type: "message" }>, "type"> {
  const { type: _type, ...m } = msg(conversation, seq) as Extract<ServerFrame, { type: "message" }>;
  return m;
}

/** A connected client and the seqs of the messages it hands over. */
async function receiving(): Promise<{ c: ChatClient; s: FakeSocket; got: number[] }> {
  const c = newClient();
  const got: number[] = [];
  c.on("message", (m) => got.push(m.seq));
  return { c, s: await connected(c), got };
}

const conv = "u:101:202";

test("connects with the token and a device id kept in storage", async () => {
  const storage = new MemoryStorage();
  const c = newClient(storage);
  const s = await connected(c);
  const u = new URL(s.url);
  assert.equal(u.searchParams.get("token"), token);
  const device = u.searchParams.get("device_id");
  assert.match(device ?? "", /^web-[0-9a-f]{16}$/);
  c.close();
  const again = newClient(storage);
  const s2 = await connected(again);
  assert.equal(new URL(s2.url).searchParams.get("device_id"), device, "the second client of the profile reuses the device id");
  again.close();
  assert.equal(tokenSubject(token), "101");
});

test("a send resolves with its sent answer, and its echo fills the seq", async () => {
  const c = newClient();
  const got: DeliveredMessage[] = [];
  c.on("message", (m) => got.push(m));
  const s = await connected(c);
  s.push(msg(conv, 1));
  const p = c.sendText({ kind: "user", id: "202" }, "hi");
  await until("the send", () => s.of("send").length === 1);
  const f = s.of("send")[0]!;
  assert.match(f.client_msg_id, /^[0-9a-f]{32}$/);
  s.push({ type: "sent", client_msg_id: f.client_msg_id, msg_id: "9002", conversation: conv, seq: 2, ts: 5 });
  const sent = await p;
  assert.equal(sent.seq, 2);
  s.push(msg(conv, 3));
  await until("three messages", () => got.length === 3);
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
  assert.equal(got[1]!.echo, true);
  assert.equal(got[1]!.from, "101");
  assert.deepEqual(got[1]!.content, { kind: "text", text: "hi" });
  await until("the ack of 3", () => s.of("ack").some((a) => a.seq === 3));
  assert.deepEqual(c.pending(), []);
  c.close();
});

test("unanswered sends are sent again with the same client_msg_id after a reconnect, in order", async () => {
  const c = newClient();
  const closes: CloseInfo[] = [];
  c.on("close", (i) => closes.push(i));
  const s = await connected(c);
  const p1 = c.sendText({ kind: "user", id: "202" }, "one");
  const p2 = c.sendText({ kind: "user", id: "202" }, "two");
  await until("two sends", () => s.of("send").length === 2);
  const ids = s.of("send").map((f) => f.client_msg_id);
  s.serverClose(1001, "going away");
  assert.equal(closes[0]?.kind, "going_away");
  assert.equal(closes[0]?.reconnecting, true);
  await until("a second socket", () => FakeSocket.all.at(-1) !== s);
  const s2 = FakeSocket.all.at(-1)!;
  s2.open();
  await until("the resends", () => s2.of("send").length === 2);
  assert.deepEqual(s2.of("send").map((f) => f.client_msg_id), ids);
  s2.push({ type: "sent", client_msg_id: ids[0]!, msg_id: "1", conversation: conv, seq: 1, ts: 1 });
  s2.push({ type: "sent", client_msg_id: ids[1]!, msg_id: "2", conversation: conv, seq: 2, ts: 2 });
  assert.deepEqual([(await p1).seq, (await p2).seq], [1, 2]);
  c.close();
});

test("an unanswered send is sent again on the same connection after answerTimeoutMs", async () => {
  const c = newClient();
  const s = await connected(c);
  void c.sendText({ kind: "user", id: "202" }, "one").catch(() => {});
  await until("a resend", () => s.of("send").length >= 2);
  const [a, b] = s.of("send");
  assert.equal(a!.client_msg_id, b!.client_msg_id);
  c.close();
});

test("messages reach the app in seq order, each once, and the ack is cumulative", async () => {
  const { c, s, got } = await receiving();
  s.push(msg(conv, 1));
  s.push(msg(conv, 3));
  s.push(msg(conv, 2));
  s.push(msg(conv, 2));
  s.push(msg(conv, 1));
  await until("three messages", () => got.length === 3);
  assert.deepEqual(got, [1, 2, 3]);
  await until("the ack of 3", () => s.of("ack").some((a) => a.seq === 3));
  assert.ok(s.of("ack").every((a) => a.conversation === conv && a.seq <= 3));
  assert.equal(c.cursor(conv), 3);
  c.close();
});

test("a gap is filled with sync", async () => {
  const { c, s, got } = await receiving();
  s.push(msg(conv, 1));
  s.push(msg(conv, 4));
  await until("a sync", () => s.of("sync").length === 1);
  assert.deepEqual(s.of("sync")[0], { type: "sync", conversation: conv, after_seq: 1, limit: 200 });
  s.push({ type: "history", conversation: conv, messages: [hist(conv, 2), hist(conv, 3)], has_more: true });
  await until("four messages", () => got.length === 4);
  assert.deepEqual(got, [1, 2, 3, 4]);
  c.close();
});

test("a gap the server cannot fill (cleared, before the join seq) is skipped", async () => {
  const { c, s, got } = await receiving();
  s.push(msg(conv, 1));
  s.push(msg(conv, 9));
  await until("a sync", () => s.of("sync").length === 1);
  s.push({ type: "history", conversation: conv, messages: [hist(conv, 9)], has_more: false });
  await until("two messages", () => got.length === 2);
  assert.deepEqual(got, [1, 9]);
  c.close();
});

test("close codes are events: replaced stops, slow reconnects", async () => {
  const c = newClient();
  const closes: CloseInfo[] = [];
  c.on("close", (i) => closes.push(i));
  let s = await connected(c);
  s.serverClose(1013, "slow reader");
  assert.deepEqual(
    { kind: closes[0]!.kind, reconnecting: closes[0]!.reconnecting },
    { kind: "slow", reconnecting: true },
  );
  await until("a second socket", () => FakeSocket.all.at(-1) !== s);
  s = FakeSocket.all.at(-1)!;
  s.open();
  await until("open", () => c.state === "open");
  s.serverClose(4001, "replaced");
  assert.deepEqual(
    { kind: closes[1]!.kind, reconnecting: closes[1]!.reconnecting },
    { kind: "replaced", reconnecting: false },
  );
  assert.equal(c.state, "stopped");
  const n = FakeSocket.all.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(FakeSocket.all.length, n, "no reconnect after replaced");
  // The app may take the slot back.
  s = await connected(c);
  s.serverClose(4003, "revoked");
  assert.equal(closes[2]!.kind, "revoked");
  assert.equal(c.state, "stopped");
  // An admin's logout of this device is final too.
  s = await connected(c);
  s.serverClose(4005, "logged out");
  assert.deepEqual(
    { kind: closes[3]!.kind, reconnecting: closes[3]!.reconnecting },
    { kind: "logged_out", reconnecting: false },
  );
  assert.equal(c.state, "stopped");
});

test("the outbox survives a reload: a new client on the same storage sends it with the same id", async () => {
  const storage = new MemoryStorage();
  const a = newClient(storage);
  const s = await connected(a);
  void a.sendText({ kind: "user", id: "202" }, "before the reload").catch(() => {});
  await until("the send", () => s.of("send").length === 1);
  const id = s.of("send")[0]!.client_msg_id;
  a.close();
  const b = newClient(storage);
  assert.deepEqual(b.pending(), []);
  const s2 = await connected(b);
  await until("the resend", () => s2.of("send").length === 1);
  assert.equal(s2.of("send")[0]!.client_msg_id, id);
  s2.push({ type: "sent", client_msg_id: id, msg_id: "1", conversation: conv, seq: 1, ts: 1 });
  await until("the outbox empty", () => b.pending().length === 0);
  assert.deepEqual(await storage.entries("u/101/outbox/"), []);
  b.close();
});

test("cursors survive a reload: redelivered messages are dropped and acked again", async () => {
  const storage = new MemoryStorage();
  const a = newClient(storage);
  const s = await connected(a);
  s.push(msg(conv, 1));
  s.push(msg(conv, 2));
  await until("the stored cursor", () => s.of("ack").some((f) => f.seq === 2));
  await until("stored", () => a.cursor(conv) === 2);
  a.close();
  const b = newClient(storage);
  const got: number[] = [];
  b.on("message", (m) => got.push(m.seq));
  const s2 = await connected(b);
  s2.push(msg(conv, 2));
  s2.push(msg(conv, 3));
  await until("message 3", () => got.length === 1);
  assert.deepEqual(got, [3]);
  b.close();
});

test("a final refusal rejects the send and empties the outbox; internal is retried", async () => {
  const c = newClient();
  const failed: string[] = [];
  c.on("failed", (f) => failed.push(f.error.code));
  const s = await connected(c);
  const p = c.sendText({ kind: "user", id: "303" }, "hey");
  await until("the send", () => s.of("send").length === 1);
  const id = s.of("send")[0]!.client_msg_id;
  s.push({ type: "error", code: "not_friends", message: "you and the receiver are not friends", client_msg_id: id });
  await assert.rejects(p, (e: Error & { code?: string }) => e.code === "not_friends");
  assert.deepEqual(failed, ["not_friends"]);
  assert.deepEqual(c.pending(), []);

  const q = c.sendText({ kind: "user", id: "202" }, "later");
  await until("the second send", () => s.of("send").length === 2);
  const id2 = s.of("send")[1]!.client_msg_id;
  s.push({ type: "error", code: "rate_limited", message: "slow down", client_msg_id: id2, retry_after: 30 });
  await until("the retry", () => s.of("send").filter((f) => f.client_msg_id === id2).length === 2);
  s.push({ type: "sent", client_msg_id: id2, msg_id: "7", conversation: conv, seq: 1, ts: 1 });
  assert.equal((await q).seq, 1);
  c.close();
});

test("a cleared event moves the conversation past the cleared messages", async () => {
  const c = newClient();
  const got: string[] = [];
  c.on("message", (m) => got.push(`${m.conversation}#${m.seq}`));
  const s = await connected(c);
  s.push(msg(conv, 1));
  s.push({
    type: "message",
    msg_id: "5",
    conversation: "sys:101",
    seq: 1,
    from: "101",
    to: { kind: "user", id: "101" },
    content: { kind: "cleared", conversation: conv, up_to_seq: 5 },
    ts: 1,
  });
  s.push(msg(conv, 6));
  await until("three messages", () => got.length === 3);
  assert.deepEqual(got, [`${conv}#1`, "sys:101#1", `${conv}#6`]);
  assert.equal(s.of("sync").length, 0);
  c.close();
});

test("frames over the size limit are refused before they leave", async () => {
  const c = newClient();
  await connected(c);
  await assert.rejects(c.sendText({ kind: "user", id: "202" }, "x".repeat(70_000)), (e: Error & { code?: string }) => e.code === "too_large");
  c.close();
});

test("at most maxInFlight outbox frames are unanswered on the wire, in order", async () => {
  const c = track(new ChatClient({ url: "ws://chat.test/ws", token, WebSocket: FakeSocket, maxInFlight: 4, answerTimeoutMs: 60_000 }));
  const s = await connected(c);
  const sends = Array.from({ length: 10 }, (_, i) => c.sendText({ kind: "user", id: "202" }, `m${i}`));
  await until("the first four", () => s.of("send").length === 4);
  const texts = () => s.of("send").map((f) => (f.content as { text: string }).text);
  assert.deepEqual(texts(), ["m0", "m1", "m2", "m3"]);
  const answer = (i: number) => {
    const f = s.of("send")[i]!;
    s.push({ type: "sent", client_msg_id: f.client_msg_id, msg_id: String(i), conversation: conv, seq: i + 1, ts: i });
  };
  answer(0);
  await until("the fifth", () => s.of("send").length === 5);
  // A frame waiting to retry holds back those after it that have not left:
  // m5 and m6 wait for m1's retry (1 s after internal), then follow it.
  s.push({ type: "error", code: "internal", message: "try again", client_msg_id: s.of("send")[1]!.client_msg_id });
  answer(2);
  answer(3);
  await until("the retry of m1 and the two after it", () => s.of("send").length === 8);
  assert.deepEqual(texts().slice(4), ["m4", "m1", "m5", "m6"]);
  c.close();
  await Promise.allSettled(sends);
});

test("an expired token stops the client with an expired close instead of retrying", async () => {
  const expired = "x." + Buffer.from(JSON.stringify({ sub: "101", exp: Math.floor(Date.now() / 1000) - 60 })).toString("base64url") + ".y";
  const c = track(new ChatClient({ url: "ws://chat.test/ws", token: expired, WebSocket: FakeSocket }));
  const closes: CloseInfo[] = [];
  c.on("close", (i) => closes.push(i));
  const n = FakeSocket.all.length;
  await assert.rejects(c.connect(), (e: Error & { code?: string }) => e.code === "expired");
  assert.deepEqual(closes.map((x) => [x.kind, x.reconnecting, x.opened]), [["expired", false, false]]);
  assert.equal(FakeSocket.all.length, n, "no socket was opened");
  assert.equal(c.state, "stopped");
});

test("a refused sync rejects at once: the ping after it fences its answer", async () => {
  const c = newClient();
  const s = await connected(c);
  const ok = c.sync(conv, 0, 10);
  const refused = c.sync("g:77", 0, 10);
  await until("two syncs and their pings", () => s.of("sync").length === 2 && s.of("ping").length >= 2);
  s.push({ type: "history", conversation: conv, messages: [hist(conv, 1)], has_more: false });
  s.push({ type: "pong" });
  s.push({ type: "error", code: "not_member", message: "you are not a member of this conversation" });
  s.push({ type: "pong" });
  assert.equal((await ok).messages.length, 1);
  await assert.rejects(refused, (e: Error & { code?: string }) => e.code === "not_member");
  c.close();
});

test("a gap sync refused for good goes on from what is buffered", async () => {
  const { c, s, got } = await receiving();
  s.push(msg("g:5", 1));
  s.push(msg("g:5", 3));
  await until("a sync", () => s.of("sync").length === 1);
  s.push({ type: "error", code: "not_member", message: "you are not a member of this conversation" });
  s.push({ type: "pong" });
  await until("two messages", () => got.length === 2);
  assert.deepEqual(got, [1, 3]);
  c.close();
});

test("versions resolves with its answer, or rejects with the refusal its ping fences", async () => {
  const c = newClient();
  const s = await connected(c);
  const mine = c.versions(conv, 7);
  const theirs = c.versions(conv, 8);
  await until("two versions frames", () => s.of("versions").length === 2);
  assert.deepEqual(s.of("versions")[0], { type: "versions", conversation: conv, seq: 7, limit: 50 });
  s.push({
    type: "versions",
    conversation: conv,
    seq: 7,
    versions: [{ content: { kind: "text", text: "v1" }, replaced_by_seq: 9, replaced_at: 5 }],
    has_more: false,
  });
  s.push({ type: "pong" });
  s.push({ type: "error", code: "forbidden", message: "seq: not your message" });
  s.push({ type: "pong" });
  assert.deepEqual((await mine).versions.map((v) => v.replaced_by_seq), [9]);
  await assert.rejects(theirs, (e: Error & { code?: string }) => e.code === "forbidden");
  c.close();
});
