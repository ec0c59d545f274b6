// The drift test: the SDK's frame types (FRAME_FIELDS, which the compiler
// holds equal to the TypeScript types), error and close codes and content
// kinds against docs/websocket.md, and its REST routes (ROUTES) against the
// OpenAPI files of the userservice and the subscriptionservice. Whoever
// changes the protocol or a route without the SDK (or the SDK without the
// docs) gets a failure here naming what drifted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  CLOSE_CODES,
  COMMON_CONTENT_FIELDS,
  CONTENT_FIELDS,
  ERROR_CODES,
  FRAME_FIELDS,
  ROUTES,
  SEND_KINDS,
  type Route,
} from "../src/index.js";

function repoRoot(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    if (existsSync(join(d, "go.work"))) return d;
    if (dirname(d) === d) throw new Error("no go.work above the test");
  }
}
const root = repoRoot();
const doc = readFileSync(join(root, "docs/websocket.md"), "utf8");

/** The lines of the section under heading (up to the next heading of the same or a higher level). */
function section(heading: string): string[] {
  const lines = doc.split("\n");
  const i = lines.findIndex((l) => l.trim() === heading);
  assert.ok(i >= 0, `docs/websocket.md has no heading ${heading}`);
  const level = heading.match(/^#+/)![0].length;
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    const m = l.match(/^(#+) /);
    if (m && m[1]!.length <= level) break;
    out.push(l);
  }
  return out;
}

/** The rows of the table whose header line is header, up to the first line that is not a row. */
function tableAfter(lines: string[], header: string): string[] {
  const i = lines.indexOf(header);
  assert.ok(i >= 0, `docs/websocket.md has no table ${header}`);
  const rows: string[] = [];
  for (const l of lines.slice(i + 2)) {
    if (!l.startsWith("|")) break;
    rows.push(l);
  }
  return rows;
}

/** The cells of a markdown table row, `\|` kept as `|` inside cells. */
function cells(row: string): string[] {
  return row
    .replace(/\\\|/g, "\u0000")
    .split("|")
    .slice(1, -1)
    .map((c) => c.replace(/\u0000/g, "|").trim());
}

/** The top-level keys of a JSON-like frame template (`...`, `<id>` and alternatives allowed). */
function topKeys(s: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    else if (ch === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) break;
      const word = s.slice(i + 1, end);
      if (depth === 1 && /^\s*:/.test(s.slice(end + 1))) keys.push(word);
      i = end;
    }
  }
  return keys;
}

/** The type names of a template: `"type":"react"|"unreact"` names two. */
function types(s: string): string[] {
  const m = s.match(/"type":((?:"[a-z_]+"\|?)+)/);
  return m ? [...m[1]!.matchAll(/"([a-z_]+)"/g)].map((x) => x[1]!) : [];
}

interface DocFrame {
  types: string[];
  keys: string[];
  mentioned: string[]; // every "key": of the row, its prose included
}

function frameTable(heading: string): DocFrame[] {
  return section(heading)
    .filter((l) => l.startsWith("| `{"))
    .map((row) => {
      const [template] = cells(row);
      const t = template!.replace(/^`|`$/g, "");
      return { types: types(t), keys: topKeys(t), mentioned: [...row.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!) };
    });
}

// Fields the SDK types that the frame's own row does not name, and why.
const documentedElsewhere: Record<string, string[]> = {
  // the history row: messages "each with "reactions":[...]"
  "server.message": ["reactions"],
};

for (const [direction, heading] of [
  ["client", "### Client → server"],
  ["server", "### Server → client"],
] as const) {
  test(`${direction} frames: docs/websocket.md and FRAME_FIELDS name the same types and fields`, () => {
    const rows = frameTable(heading);
    assert.ok(rows.length >= 10, `${heading}: found only ${rows.length} frame rows`);
    const sdk = FRAME_FIELDS[direction];
    const docTypes = new Set(rows.flatMap((r) => r.types));
    assert.deepEqual([...docTypes].sort(), Object.keys(sdk).sort(), `${direction} frame types`);
    for (const r of rows) {
      for (const t of r.types) {
        const fields = sdk[t]!;
        for (const k of r.keys) {
          assert.ok(fields.includes(k), `${direction} frame ${t}: docs/websocket.md has field ${k}, the SDK has not`);
        }
        const known = new Set([...r.keys, ...r.mentioned, ...(documentedElsewhere[`${direction}.${t}`] ?? [])]);
        for (const f of fields) {
          assert.ok(known.has(f), `${direction} frame ${t}: the SDK has field ${f}, docs/websocket.md does not name it`);
        }
      }
    }
  });
}

test("every frame of the examples in docs/websocket.md is a typed frame with typed fields", () => {
  // Example lines: "> {...}" from the client, "< {...}" from the server,
  // continued on indented lines.
  const frames: Array<{ dir: "client" | "server"; text: string }> = [];
  let inCode = false;
  let continues = false; // the line before was part of an example frame
  for (const line of doc.split("\n")) {
    if (line.startsWith("```")) {
      inCode = !inCode;
      continues = false;
      continue;
    }
    if (!inCode) continue;
    const m = line.match(/^([<>]) (\{.*)$/);
    if (m) {
      frames.push({ dir: m[1] === ">" ? "client" : "server", text: m[2]! });
      continues = true;
    } else if (continues && /^\s+\S/.test(line)) {
      frames[frames.length - 1]!.text += line.trim();
    } else {
      continues = false;
    }
  }
  const checked = frames;
  assert.ok(checked.length >= 40, `found only ${checked.length} example frames`);
  for (const f of checked) {
    const ts = types(f.text);
    assert.equal(ts.length, 1, `example without one type: ${f.text}`);
    const fields = FRAME_FIELDS[f.dir][ts[0]!];
    assert.ok(fields, `example of an unknown ${f.dir} frame type ${ts[0]}: ${f.text}`);
    for (const k of topKeys(f.text)) {
      assert.ok(fields.includes(k), `example ${f.dir} frame ${ts[0]} has field ${k}, the SDK has not: ${f.text}`);
    }
  }
});

test("error codes: docs/websocket.md and ERROR_CODES agree", () => {
  const codes = section("### Error codes")
    .map((l) => l.match(/^\| `([a-z_]+)` \|/)?.[1])
    .filter((c): c is string => !!c);
  assert.deepEqual([...codes].sort(), [...ERROR_CODES].sort());
});

test("close codes: every close code of docs/websocket.md is in CLOSE_CODES", () => {
  const i = doc.indexOf("Close codes:");
  assert.ok(i >= 0, "docs/websocket.md has no Close codes table");
  const codes = doc
    .slice(i)
    .split("\n")
    .slice(1)
    .filter((l) => l.startsWith("|"))
    .map((l) => l.match(/^\| (\d{4}) \|/)?.[1])
    .filter((c): c is string => !!c)
    .map(Number);
  assert.ok(codes.length >= 9, `found only ${codes.length} close codes`);
  const ours = new Set<number>(Object.values(CLOSE_CODES));
  for (const c of codes) assert.ok(ours.has(c), `close code ${c} of docs/websocket.md is not in CLOSE_CODES`);
  for (const c of ours) assert.ok(codes.includes(c), `CLOSE_CODES has ${c}, docs/websocket.md does not`);
});

test("content kinds and their fields: docs/websocket.md and CONTENT_FIELDS agree", () => {
  const content = section("## Content");
  const kindRows = tableAfter(content, "| kind | fields | limits |");
  assert.ok(kindRows.length >= 8, `found only ${kindRows.length} rows of the content table`);
  const docKinds: string[] = [];
  for (const row of kindRows) {
    const [kinds, fields] = cells(row);
    const fieldNames = [...fields!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    for (const kind of [...kinds!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)) {
      docKinds.push(kind);
      const ours = CONTENT_FIELDS[kind];
      assert.ok(ours, `content kind ${kind} of docs/websocket.md is not in CONTENT_FIELDS`);
      for (const f of fieldNames) assert.ok(ours.includes(f), `content kind ${kind}: docs has field ${f}, the SDK has not`);
      // edited_at is the server's (Message lifecycle), not a field a send has.
      for (const f of ours) {
        if (f !== "edited_at") assert.ok(fieldNames.includes(f), `content kind ${kind}: the SDK has field ${f}, docs/websocket.md does not`);
      }
    }
  }
  assert.deepEqual([...docKinds].sort(), [...SEND_KINDS].sort(), "the kinds a client sends");

  // The common fields' table (a paragraph splits it in two).
  const common = content
    .slice(content.indexOf("| field | meaning | checked |"))
    .filter((l) => /^\| `[a-z_]+` \|/.test(l))
    .map((l) => l.match(/^\| `([a-z_]+)`/)![1]!);
  assert.deepEqual([...common].sort(), [...COMMON_CONTENT_FIELDS].sort(), "common content fields");

  // Server-written kinds: the lifecycle table's examples, and the kinds named in prose.
  for (const row of section("## Message lifecycle").filter((l) => l.startsWith("| `"))) {
    const example = cells(row)[2]?.replace(/^`|`$/g, "");
    if (!example?.startsWith("{")) continue;
    const kind = example.match(/"kind":"([a-z_]+)"/)![1]!;
    const keys = topKeys(example).filter((k) => k !== "kind");
    assert.deepEqual([...keys].sort(), [...(CONTENT_FIELDS[kind] ?? [])].sort(), `lifecycle content ${kind}`);
  }
  for (const kind of ["recalled", "cleared", "group_event", "group_request"]) {
    assert.ok(doc.includes(`"kind":"${kind}"`), `docs/websocket.md no longer has content kind ${kind}; CONTENT_FIELDS does`);
  }
});

/** operationId -> route, from an OpenAPI file's paths (the project's layout: two-space paths, four-space methods). */
function openapiRoutes(file: string, service: Route["service"]): Map<string, Route> {
  const out = new Map<string, Route>();
  let path = "";
  let method = "";
  for (const line of readFileSync(join(root, file), "utf8").split("\n")) {
    let m = line.match(/^ {2}(\/\S*):\s*$/);
    if (m) {
      path = m[1]!;
      continue;
    }
    m = line.match(/^ {4}(get|post|put|patch|delete|head):/);
    if (m) {
      method = m[1]!.toUpperCase();
      continue;
    }
    m = line.match(/^ {6}operationId:\s*(\S+)/);
    if (m && path.startsWith("/api/")) out.set(m[1]!, { service, method: method as Route["method"], path });
  }
  return out;
}

test("REST routes: ROUTES and the OpenAPI files have the same /api operations", () => {
  const spec = new Map([
    ...openapiRoutes("userservice/internal/httpapi/openapi.yaml", "user"),
    ...openapiRoutes("subscriptionservice/internal/httpapi/openapi.yaml", "subscription"),
  ]);
  assert.ok(spec.size >= 50, `found only ${spec.size} operations in the OpenAPI files`);
  const ours = new Map<string, Route>(Object.entries(ROUTES));
  for (const [op, r] of ours) {
    const s = spec.get(op);
    assert.ok(s, `ROUTES.${op}: no such operationId in the ${r.service}service's openapi.yaml`);
    assert.deepEqual(r, s, `ROUTES.${op} differs from the OpenAPI file`);
  }
  for (const [op, s] of spec) {
    assert.ok(ours.has(op), `the ${s.service}service's openapi.yaml has ${s.method} ${s.path} (${op}); ROUTES has not`);
  }
});
