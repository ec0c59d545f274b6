// One conformance suite for every Storage: MemoryStorage, and
// IndexedDBStorage over fake-indexeddb (Node has no IndexedDB; the browser
// tests of the web app run it over the real one).
import "fake-indexeddb/auto";
import { test } from "node:test";
import assert from "node:assert/strict";

import { IndexedDBStorage, MemoryStorage, type Storage } from "../src/index.js";

let dbs = 0;
const storages: Array<[string, () => Promise<Storage>]> = [
  ["MemoryStorage", async () => new MemoryStorage()],
  ["IndexedDBStorage", () => IndexedDBStorage.open(`test-${++dbs}`)],
];

for (const [name, make] of storages) {
  test(`${name}: get, set, delete`, async () => {
    const s = await make();
    assert.equal(await s.get("missing"), undefined);
    const v = { frame: { type: "send", client_msg_id: "a" }, n: 17 };
    await s.set("k", v);
    v.n = 18; // stored values are copies
    assert.deepEqual(await s.get("k"), { frame: { type: "send", client_msg_id: "a" }, n: 17 });
    await s.set("k", 3);
    assert.equal(await s.get<number>("k"), 3);
    await s.delete("k");
    assert.equal(await s.get("k"), undefined);
    await s.delete("k"); // deleting what is gone is fine
  });

  test(`${name}: entries by prefix, in key order`, async () => {
    const s = await make();
    for (const [k, v] of [
      ["u/10/cursor/g:2", 5],
      ["u/1/cursor/u:1:2", 7],
      ["u/1/cursor/g:9", 1],
      ["u/1/outbox/x", 0],
      ["device_id", "web-1"],
    ] as const) {
      await s.set(k, v);
    }
    assert.deepEqual(await s.entries("u/1/cursor/"), [
      ["u/1/cursor/g:9", 1],
      ["u/1/cursor/u:1:2", 7],
    ]);
    assert.deepEqual(await s.entries("u/2/"), []);
    assert.equal((await s.entries("")).length, 5);
  });
}

test("IndexedDBStorage: a second open of the database sees what the first stored", async () => {
  const a = await IndexedDBStorage.open("reopen");
  await a.set("device_id", "web-abc");
  a.close();
  const b = await IndexedDBStorage.open("reopen");
  assert.equal(await b.get("device_id"), "web-abc");
  b.close();
});
