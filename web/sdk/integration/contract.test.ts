// Integration tests of the SDK against the real stack: the DataService on
// MySQL, the userservice, NATS and a messageservice node, started by the Go
// test tools/sdktest (TestSDKIntegration), which passes their addresses:
//   PRIVATEIM_API      the userservice's base URL
//   PRIVATEIM_WS       the messageservice's WebSocket URL
//   PRIVATEIM_CONTROL  the Go test's control endpoint: POST /messageservice/kill
//                      and /messageservice/start (same ports, answered once ready)
// Run them with `go test ./tools/sdktest/ -run Integration`.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";

import {
  ApiClient,
  ApiError,
  ChatClient,
  MemoryStorage,
  groupConversation,
  isLifecycleEvent,
  userConversation,
  type ClientFrame,
  type ClientOptions,
  type CloseInfo,
  type DeliveredMessage,
  type ReceiptFrame,
  type SentFrame,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../src/index.js";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test ./tools/sdktest/ (it starts the stack)`);
  return v;
}
const API = env("PRIVATEIM_API");
const WS_URL = env("PRIVATEIM_WS");
const CONTROL = env("PRIVATEIM_CONTROL");
// Each test gives up after this: a client keeps reconnecting forever otherwise.
const limit = { timeout: 60_000 };

/** Polls cond every 20 ms until it holds or timeoutMs pass. */
async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function control(action: "kill" | "start"): Promise<void> {
  const r = await fetch(`${CONTROL}/messageservice/${action}`, { method: "POST" });
  assert.equal(r.status, 200, `control ${action}: ${r.status} ${await r.text()}`);
}

interface Account {
  id: string;
  email: string;
  password: string;
  api: ApiClient;
}

async function signUp(name: string): Promise<Account> {
  const api = new ApiClient({ baseUrl: API });
  const email = `sdk-${randomBytes(6).toString("hex")}@example.com`;
  const password = "password-" + randomBytes(4).toString("hex");
  const auth = await api.signUp(name, email, password);
  return { id: auth.user.id, email, password, api };
}

async function friends(a: Account, b: Account): Promise<void> {
  const r = await a.api.requestFriend(b.id, { message: "hi" });
  assert.equal(r.status, "pending");
  await b.api.acceptFriend(a.id);
}

/**
 * A socket of the ws package that records the frames the client writes and
 * lets a test drop frames the server sends (a lost fan-out).
 */
function tapped(drop: (frame: Record<string, unknown>) => boolean = () => false): {
  WebSocket: WebSocketConstructor;
  written: ClientFrame[];
} {
  const written: ClientFrame[] = [];
  class Tapped implements WebSocketLike {
    private readonly ws: WebSocket;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (ev) => this.onopen?.(ev);
      this.ws.onerror = (ev) => this.onerror?.(ev);
      this.ws.onclose = (ev) => this.onclose?.({ code: ev.code, reason: ev.reason });
      this.ws.onmessage = (ev) => {
        const data = String(ev.data);
        if (!drop(JSON.parse(data) as Record<string, unknown>)) this.onmessage?.({ data });
      };
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      written.push(JSON.parse(data) as ClientFrame);
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  }
  return { WebSocket: Tapped, written };
}

interface Device {
  chat: ChatClient;
  got: DeliveredMessage[];
  closes: CloseInfo[];
}

// Every client, closed when the tests end, also after a failure: a client
// that goes on reconnecting would keep node running.
const opened: ChatClient[] = [];
after(() => {
  for (const c of opened) c.close();
});

function device(a: Account, opts: Partial<ClientOptions> = {}): Device {
  const chat = new ChatClient({
    url: WS_URL,
    token: () => a.api.token!,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    storage: new MemoryStorage(),
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    ...opts,
  });
  const d: Device = { chat, got: [], closes: [] };
  opened.push(chat);
  chat.on("message", (m) => d.got.push(m));
  chat.on("close", (c) => d.closes.push(c));
  return d;
}

/** The texts of the text messages of a conversation the device handed to the app, in order. */
function texts(d: Device, conversation: string): string[] {
  return d.got.filter((m) => m.conversation === conversation && m.content.kind === "text").map((m) => (m.content as { text: string }).text);
}

test("send, ack, and a resend with the same client_msg_id", limit, async () => {
  const ann = await signUp("Ann");
  const bob = await signUp("Bob");
  await friends(ann, bob);
  const conv = userConversation(ann.id, bob.id);
  const a = device(ann);
  const b = device(bob);
  const delivered: number[] = [];
  a.chat.on("delivered", (f) => delivered.push(f.seq));
  await Promise.all([a.chat.connect(), b.chat.connect()]);

  const seqs: number[] = [];
  for (const text of ["one", "two", "three"]) {
    const s = await a.chat.sendText({ kind: "user", id: bob.id }, text);
    assert.equal(s.conversation, conv);
    seqs.push(s.seq);
  }
  assert.deepEqual(seqs, [1, 2, 3]);
  await until("bob's three messages", () => texts(b, conv).length === 3);
  assert.deepEqual(texts(b, conv), ["one", "two", "three"]);
  assert.deepEqual(
    b.got.map((m) => m.seq),
    [1, 2, 3],
  );
  // Bob's cumulative ack reached the server: Ann is told that Bob's device has 3.
  await until("delivered 3", () => delivered.includes(3));
  // Ann's own sends are in her order too, from their sent answers.
  assert.deepEqual(
    a.got.map((m) => [m.seq, m.echo]),
    [
      [1, true],
      [2, true],
      [3, true],
    ],
  );

  // A reload lost the answer: another client (new storage, another device)
  // sends the same client_msg_id and gets the same message back.
  const first = await a.chat.send({ kind: "user", id: bob.id }, { kind: "text", text: "once" }, { clientMsgId: "sdk-resend-1" });
  const again = device(ann);
  await again.chat.connect();
  const second = await again.chat.send({ kind: "user", id: bob.id }, { kind: "text", text: "once" }, { clientMsgId: "sdk-resend-1" });
  assert.deepEqual(
    { msg_id: second.msg_id, seq: second.seq },
    { msg_id: first.msg_id, seq: first.seq },
    "the same client_msg_id answers the same sent",
  );
  await a.chat.sendText({ kind: "user", id: bob.id }, "after");
  await until("bob's marker", () => texts(b, conv).includes("after"));
  assert.deepEqual(texts(b, conv), ["one", "two", "three", "once", "after"]);
  for (const d of [a, b, again]) d.chat.close();
});

test("a reconnect across a messageservice restart resends what was not answered", limit, async () => {
  const cat = await signUp("Cat");
  const dan = await signUp("Dan");
  await friends(cat, dan);
  const conv = userConversation(cat.id, dan.id);
  const c = device(cat);
  const d = device(dan);
  await Promise.all([c.chat.connect(), d.chat.connect()]);
  await c.chat.sendText({ kind: "user", id: dan.id }, "before");
  await until("dan's first message", () => texts(d, conv).length === 1);

  await control("kill");
  let pending: Promise<SentFrame>;
  try {
    await until("both see the close", () => c.closes.length > 0 && d.closes.length > 0);
    assert.equal(c.closes[0]!.reconnecting, true);
    assert.equal(c.closes[0]!.kind, "network");
    // Sent while no node serves: it waits in the outbox.
    pending = c.chat.sendText({ kind: "user", id: dan.id }, "while down");
    await until("the send in the outbox", () => c.chat.pending().length === 1);
  } finally {
    await control("start"); // the tests after this one need a node
  }
  const sent = await pending;
  assert.equal(sent.seq, 2);
  await until("dan's second message", () => texts(d, conv).length === 2, 30_000);
  await c.chat.sendText({ kind: "user", id: dan.id }, "after");
  await until("dan's third message", () => texts(d, conv).length === 3);
  assert.deepEqual(texts(d, conv), ["before", "while down", "after"]);
  assert.deepEqual(
    d.got.map((m) => m.seq),
    [1, 2, 3],
  );
  assert.equal(c.chat.state, "open");
  for (const x of [c, d]) x.chat.close();
});

test("a lost frame is a gap that sync fills, in order", limit, async () => {
  const eve = await signUp("Eve");
  const fay = await signUp("Fay");
  await friends(eve, fay);
  const conv = userConversation(eve.id, fay.id);
  let dropped = 0;
  const tap = tapped((f) => {
    if (f.type === "message" && f.seq === 2 && dropped === 0) {
      dropped++;
      return true;
    }
    return false;
  });
  const e = device(eve);
  const f = device(fay, { WebSocket: tap.WebSocket, gapWaitMs: 0 });
  await Promise.all([e.chat.connect(), f.chat.connect()]);
  for (const text of ["1", "2", "3", "4"]) await e.chat.sendText({ kind: "user", id: fay.id }, text);
  await until("fay's four messages", () => texts(f, conv).length === 4);
  assert.equal(dropped, 1);
  assert.deepEqual(texts(f, conv), ["1", "2", "3", "4"]);
  const syncs = tap.written.filter((w) => w.type === "sync");
  assert.ok(syncs.length >= 1, "the gap was filled with sync");
  assert.deepEqual(syncs[0], { type: "sync", conversation: conv, after_seq: 1, limit: 200 });
  await until("fay's ack of 4", () => tap.written.some((w) => w.type === "ack" && w.seq === 4));
  for (const x of [e, f]) x.chat.close();
});

test("close codes: a fourth connection replaces the oldest, a password change revokes", limit, async () => {
  const gus = await signUp("Gus");
  const devices = [device(gus), device(gus), device(gus)];
  for (const d of devices) await d.chat.connect();
  const fourth = device(gus);
  await fourth.chat.connect();
  await until("the oldest is replaced", () => devices[0]!.closes.length > 0);
  assert.deepEqual(
    { code: devices[0]!.closes[0]!.code, kind: devices[0]!.closes[0]!.kind, reconnecting: devices[0]!.closes[0]!.reconnecting },
    { code: 4001, kind: "replaced", reconnecting: false },
  );
  assert.equal(devices[0]!.chat.state, "stopped");

  await gus.api.changePassword(gus.password, gus.password + "-new");
  const live = [devices[1]!, devices[2]!, fourth];
  await until("every live connection is revoked", () => live.every((d) => d.closes.length > 0));
  for (const d of live) {
    assert.equal(d.closes[0]!.kind, "revoked");
    assert.equal(d.chat.state, "stopped");
  }
});

test("a group: order for every member, typing, receipts, lifecycle events and history", limit, async () => {
  const [hal, ida, jon] = await Promise.all([signUp("Hal"), signUp("Ida"), signUp("Jon")]);
  await friends(hal, ida);
  await friends(hal, jon);
  const group = await hal.api.createGroup("SDK group", [ida.id, jon.id]);
  assert.equal(group.member_count, 3);
  const conv = groupConversation(group.id);
  const to = { kind: "group" as const, id: group.id };
  const [h, i, j] = [device(hal), device(ida), device(jon)];
  const typing: string[] = [];
  i.chat.on("typing", (f) => typing.push(`${f.conversation} ${f.user}`));
  const receipts: ReceiptFrame[] = [];
  h.chat.on("receipt", (r) => receipts.push(r));
  await Promise.all([h.chat.connect(), i.chat.connect(), j.chat.connect()]);

  h.chat.typing(conv);
  await until("ida sees hal typing", () => typing.includes(`${conv} ${hal.id}`));

  const s1 = await h.chat.send(to, { kind: "text", text: "hello group" });
  const s2 = await h.chat.send(to, { kind: "text", text: "second" });
  const s3 = await i.chat.send(to, { kind: "text", text: "from ida", reply_to: { seq: s1.seq } });
  for (const d of [h, i, j]) {
    await until("the three messages", () => texts(d, conv).length === 3);
    assert.deepEqual(texts(d, conv), ["hello group", "second", "from ida"]);
    const seqs = d.got.filter((m) => m.conversation === conv).map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), "seq order");
  }

  // Both others read hal's second message: hal's receipt counts two reads.
  i.chat.read(conv, s3.seq);
  j.chat.read(conv, s3.seq);
  await until("a receipt of two reads", () => receipts.some((r) => r.conversation === conv && r.seq === s2.seq && r.read_count === 2));

  await i.chat.react(conv, s1.seq, "👍");
  const edited = await h.chat.edit(conv, s1.seq, "hello, group");
  await h.chat.recall(conv, s2.seq);
  // The node runs with EDIT_HISTORY: the sender reads what the message said before; a member may not.
  const v = await h.chat.versions(conv, s1.seq);
  assert.deepEqual(
    v.versions.map((x) => [(x.content as { text: string }).text, x.replaced_by_seq]),
    [["hello group", edited.seq]],
  );
  await assert.rejects(j.chat.versions(conv, s1.seq), (e: Error & { code?: string }) => e.code === "forbidden");
  const events = (d: Device) =>
    d.got.filter((m) => m.conversation === conv && isLifecycleEvent(m.content)).map((m) => {
      const c = m.content as { kind: string; target_seq: number };
      return [c.kind, c.target_seq];
    });
  for (const d of [h, i, j]) {
    await until("the three events", () => events(d).length === 3);
    assert.deepEqual(events(d), [
      ["react", s1.seq],
      ["edit", s1.seq],
      ["recall", s2.seq],
    ]);
  }

  // History shows the final state: the edit, the reaction, the tombstone.
  const page = await j.chat.sync(conv, 0, 50);
  assert.equal(page.conversation, conv);
  const first = page.messages.find((m) => m.seq === s1.seq)!;
  assert.equal((first.content as { text: string }).text, "hello, group");
  assert.equal(typeof (first.content as { edited_at?: number }).edited_at, "number");
  assert.deepEqual(first.reactions, [{ emoji: "👍", count: 1, me: false }]);
  assert.equal(page.messages.find((m) => m.seq === s2.seq)!.content.kind, "recalled");
  assert.deepEqual((page.messages.find((m) => m.seq === s3.seq)!.content as { reply_to?: unknown }).reply_to, { seq: s1.seq });

  // An outsider's sync is refused; the client tells it at once (the ping
  // after the sync fences the answer), not after its 15 s timeout.
  const kim = device(await signUp("Kim"));
  await kim.chat.connect();
  const asked = Date.now();
  await assert.rejects(kim.chat.sync(conv, 0, 10), (e: Error & { code?: string }) => e.code === "not_member");
  assert.ok(Date.now() - asked < 5000, `refused after ${Date.now() - asked} ms`);
  for (const d of [h, i, j, kim]) d.chat.close();
});

test("REST errors carry status, code and field; an uploaded image goes out as an image message", limit, async () => {
  const [kit, lou] = await Promise.all([signUp("Kit"), signUp("Lou")]);
  await friends(kit, lou);
  const anon = new ApiClient({ baseUrl: API });
  await assert.rejects(anon.signIn(kit.email, "not-the-password"), (e) => e instanceof ApiError && e.status === 401 && e.code === "bad_credentials");
  await assert.rejects(anon.signUp("", "nobody@example.com", "password-1"), (e) => e instanceof ApiError && e.status === 400 && e.field === "name");
  assert.equal(anon.token, undefined, "a failed sign-in keeps no token");

  // A 1x1 PNG.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  const up = await kit.api.uploadFile(new Blob([png], { type: "image/png" }), "dot.png");
  assert.deepEqual({ name: up.name, size: up.size, mime: up.mime }, { name: "dot.png", size: png.length, mime: "image/png" });

  const k = device(kit);
  const l = device(lou);
  await Promise.all([k.chat.connect(), l.chat.connect()]);
  const conv = userConversation(kit.id, lou.id);
  const sent = await k.chat.send({ kind: "user", id: lou.id }, { kind: "image", url: up.url, name: up.name, size: up.size, mime: up.mime, width: 1, height: 1 });
  await until("lou's image", () => l.got.some((m) => m.conversation === conv && m.content.kind === "image"));
  const image = l.got.find((m) => m.content.kind === "image")!.content as { url: string; width: number };
  assert.equal(image.url, up.url);
  const file = await fetch(image.url);
  assert.equal(file.status, 200);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), png);

  // The conversation list counts it unread until Lou reads it.
  const entry = async () => (await lou.api.conversations()).conversations.find((c) => c.conversation === conv);
  const before = await entry();
  assert.deepEqual({ unread: before?.unread, kind: before?.last_message?.kind }, { unread: 1, kind: "image" });
  await lou.api.markRead(conv, sent.seq);
  assert.equal((await entry())?.unread, 0);
  assert.equal((await lou.api.unreadTotal()).total, 0);
  for (const d of [k, l]) d.chat.close();
});
