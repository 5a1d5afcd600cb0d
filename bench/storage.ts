/**
 * Storage benchmark, both backends in one run (SQLite in a temp dir, and a
 * throwaway PostgreSQL on 127.0.0.1 started here):
 *
 * - events appended per second, one at a time and in batches, against raw
 *   inserts of the same rows into a table of the same shape with the same
 *   native client (the limit);
 * - metagraph node inserts per second with validation, against raw inserts
 *   of the same rows into the same table;
 * - peer change -> notified latency across processes (a second process
 *   holds a `StoreIdentityProvider` and reports each change it applies);
 * - identity resolutions per second from the index (fingerprints, tokens).
 *
 * Usage: deno run -A bench/storage.ts [--events 20000] [--batch 100] [--single 2000]
 *        [--nodes 20000] [--changes 200] [--peers 1000] [--only sqlite|postgres]
 *
 * @module
 */

import { createRequire } from "node:module";
import net from "node:net";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openStore, type Store } from "../storage/mod.ts";
import { PostgresServer, signToken, testKey } from "../storage/testing/mod.ts";

/** The part of `node:sqlite` the raw baseline uses. */
interface DatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): { run(...params: unknown[]): unknown };
  close(): void;
}
// Loaded through require, as storage's driver does: the @types/node that
// ssh2 pulls in predates node:sqlite, so `deno check .` could not see it.
const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite") as {
  DatabaseSync: new (path: string) => DatabaseSync;
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "20000" },
    batch: { type: "string", default: "100" },
    single: { type: "string", default: "2000" },
    nodes: { type: "string", default: "20000" },
    changes: { type: "string", default: "200" },
    peers: { type: "string", default: "1000" },
    only: { type: "string" },
    child: { type: "string" },
  },
});

// ---- child mode: a "node" that follows peer changes and reports them ----
if (values.child) {
  const store = await openStore(values.child);
  const enc = new TextEncoder();
  await store.identityProvider({
    onChange: (c) => {
      const t = performance.timeOrigin + performance.now();
      Deno.stdout.writeSync(enc.encode(`seen ${c.peerId} ${c.identity?.scopes[0] ?? "-"} ${t}\n`));
    },
  });
  Deno.stdout.writeSync(enc.encode("ready\n"));
  // Runs until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  await store.close();
  Deno.exit(0);
}

const EVENTS = Number(values.events);
const BATCH = Number(values.batch);
const SINGLE = Number(values.single);
const NODES = Number(values.nodes);
const CHANGES = Number(values.changes);
const PEERS = Number(values.peers);

/** An event as the raw side inserts it: topic, seq, type, data (serialized at insert), at. */
type Row = [string, number, string, unknown, number];

let rawSeq = 0;
function rows(n: number, topic: string): Row[] {
  const at = Date.now();
  return Array.from({ length: n }, (_, i) => [
    topic,
    ++rawSeq,
    "bench.event",
    eventData(i),
    at,
  ]);
}

function eventData(i: number) {
  return { i, peer: `peer-${i % 50}`, remote: "198.51.100.7:40022", ok: true };
}

/** The row with its data serialized, as any insert of a JSON event must. */
function serial(r: Row): [string, number, string, string, number] {
  return [r[0], r[1], r[2], JSON.stringify(r[3]), r[4]];
}

function rate(n: number, ms: number): number {
  return n / (ms / 1000);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The raw side: the backend's native client, no store code. */
interface Raw {
  setup(): Promise<void>;
  insertSingle(r: Row): Promise<void>;
  insertBatch(rs: Row[]): Promise<void>;
  insertNodes(rs: unknown[][]): Promise<void>;
  insertNode(r: unknown[]): Promise<void>;
  close(): Promise<void>;
}

const RAW_EVENTS_SQLITE =
  "CREATE TABLE bench_raw_events (topic TEXT NOT NULL, seq INTEGER NOT NULL, " +
  "type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (topic, seq)) WITHOUT ROWID";
const NODE_INSERT = "INSERT INTO meta_nodes (graph_id, key, graph_type, node_type, attributes, " +
  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

function rawSqlite(path: string): Raw {
  const db = new DatabaseSync(path);
  db.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000",
  );
  let ins: ReturnType<DatabaseSync["prepare"]>;
  let node: ReturnType<DatabaseSync["prepare"]>;
  return {
    setup() {
      db.exec(RAW_EVENTS_SQLITE);
      ins = db.prepare(
        "INSERT INTO bench_raw_events (topic, seq, type, data, at) VALUES (?, ?, ?, ?, ?)",
      );
      node = db.prepare(NODE_INSERT);
      return Promise.resolve();
    },
    insertSingle(r) {
      ins.run(...serial(r));
      return Promise.resolve();
    },
    insertBatch(rs) {
      db.exec("BEGIN IMMEDIATE");
      for (const r of rs) ins.run(...serial(r));
      db.exec("COMMIT");
      return Promise.resolve();
    },
    insertNodes(rs) {
      db.exec("BEGIN IMMEDIATE");
      for (const r of rs) node.run(...(r as (string | number)[]));
      db.exec("COMMIT");
      return Promise.resolve();
    },
    insertNode(r) {
      node.run(...(r as (string | number)[]));
      return Promise.resolve();
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

function noDelaySocket(o: { host: string[]; port: number[] }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: o.host[0], port: o.port[0], noDelay: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

function rawPostgres(url: string, schema: string): Raw {
  const sql = postgres(url, {
    onnotice: () => {},
    connection: { search_path: schema },
    socket: noDelaySocket,
  } as unknown as postgres.Options<Record<string, postgres.PostgresType>>);
  const nodeSql = "INSERT INTO meta_nodes (graph_id, key, graph_type, node_type, attributes, " +
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
  return {
    async setup() {
      await sql.unsafe(
        RAW_EVENTS_SQLITE.replace(" WITHOUT ROWID", "").replace(/INTEGER/g, "BIGINT"),
      );
    },
    async insertSingle(r) {
      await sql.unsafe(
        "INSERT INTO bench_raw_events (topic, seq, type, data, at) VALUES ($1, $2, $3, $4, $5)",
        serial(r),
        { prepare: true },
      );
    },
    async insertBatch(rs) {
      const cols = ["topic", "seq", "type", "data", "at"] as const;
      await sql`INSERT INTO bench_raw_events ${
        sql(rs.map((r) => Object.fromEntries(cols.map((c, i) => [c, serial(r)[i]]))), ...cols)
      }`;
    },
    async insertNodes(rs) {
      const cols = [
        "graph_id",
        "key",
        "graph_type",
        "node_type",
        "attributes",
        "created_at",
        "updated_at",
      ] as const;
      await sql`INSERT INTO meta_nodes ${
        sql(rs.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]]))), ...cols)
      }`;
    },
    async insertNode(r) {
      await sql.unsafe(nodeSql, r as (string | number)[], { prepare: true });
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

interface Result {
  backend: string;
  appendSingle: number;
  rawSingle: number;
  appendBatched: number;
  rawBatched: number;
  nodesBatched: number;
  rawNodesBatched: number;
  nodeSingle: number;
  rawNodeSingle: number;
  notifyP50: number;
  notifyP99: number;
  resolveFingerprint: number;
  resolveToken: number;
}

const ROUNDS = 5;

/** Runs the store side and the raw side alternately ROUNDS times; keeps each side's best rate. */
async function duel(
  n: number,
  store: (round: number) => Promise<void>,
  raw: (round: number) => Promise<void>,
): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (let round = 0; round < ROUNDS; round++) {
    a = Math.max(a, rate(n, await time(() => store(round))));
    b = Math.max(b, rate(n, await time(() => raw(round))));
  }
  return [a, b];
}

async function benchEvents(store: Store, raw: Raw, r: Partial<Result>): Promise<void> {
  await raw.setup();
  // Warm both paths (statement preparation, connections).
  await store.streams.appendMany(
    "warm",
    rows(BATCH, "warm").map((x) => ({ type: x[2], data: x[3] })),
  );
  await raw.insertBatch(rows(BATCH, "warm"));

  [r.appendSingle, r.rawSingle] = await duel(SINGLE, async (round) => {
    const input = rows(SINGLE, `single${round}`);
    for (const e of input) await store.streams.append(e[0], { type: e[2], data: e[3] });
  }, async (round) => {
    for (const x of rows(SINGLE, `single${round}`)) await raw.insertSingle(x);
  });

  [r.appendBatched, r.rawBatched] = await duel(EVENTS, async (round) => {
    const input = rows(EVENTS, `batched${round}`).map((x) => ({ type: x[2], data: x[3] }));
    for (let i = 0; i < EVENTS; i += BATCH) {
      await store.streams.appendMany(`batched${round}`, input.slice(i, i + BATCH));
    }
  }, async (round) => {
    const all = rows(EVENTS, `batched${round}`);
    for (let i = 0; i < EVENTS; i += BATCH) await raw.insertBatch(all.slice(i, i + BATCH));
  });
}

async function benchNodes(store: Store, raw: Raw, r: Partial<Result>): Promise<void> {
  await store.metagraph.defineGraphType({
    name: "bench",
    nodeTypes: [{
      name: "server",
      schema: {
        type: "object",
        properties: {
          host: { type: "string", minLength: 1 },
          port: { type: "integer", minimum: 1, maximum: 65535 },
          tags: { type: "array", items: { type: "string" } },
        },
        required: ["host", "port"],
        additionalProperties: false,
      },
    }],
  });
  for (let round = 0; round < ROUNDS; round++) {
    for (const g of ["api", "raw", "api1", "raw1"]) {
      await store.metagraph.createGraph(`${g}${round}`, "bench");
    }
  }
  const attrs = (i: number) => ({
    host: `h${i}.example`,
    port: 1024 + (i % 60000),
    tags: ["a", "b"],
  });
  const now = Date.now();
  const rawRow = (
    g: string,
    i: number,
  ) => [g, `n${i}`, "bench", "server", JSON.stringify(attrs(i)), now, now];

  [r.nodesBatched, r.rawNodesBatched] = await duel(NODES, async (round) => {
    for (let i = 0; i < NODES; i += BATCH) {
      await store.metagraph.addNodes(
        `api${round}`,
        Array.from({ length: Math.min(BATCH, NODES - i) }, (_, j) => ({
          key: `n${i + j}`,
          type: "server",
          attributes: attrs(i + j),
        })),
      );
    }
  }, async (round) => {
    for (let i = 0; i < NODES; i += BATCH) {
      await raw.insertNodes(
        Array.from({ length: Math.min(BATCH, NODES - i) }, (_, j) => rawRow(`raw${round}`, i + j)),
      );
    }
  });
  [r.nodeSingle, r.rawNodeSingle] = await duel(SINGLE, async (round) => {
    for (let i = 0; i < SINGLE; i++) {
      await store.metagraph.addNode(`api1${round}`, {
        key: `n${i}`,
        type: "server",
        attributes: attrs(i),
      });
    }
  }, async (round) => {
    for (let i = 0; i < SINGLE; i++) await raw.insertNode(rawRow(`raw1${round}`, i));
  });
}

async function benchNotify(store: Store, location: string, r: Partial<Result>): Promise<void> {
  await store.peers.add({ peerId: "bench-peer" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", location],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    const deadline = Date.now() + 30_000;
    while (!buffered.includes("\n")) {
      if (Date.now() > deadline) throw new Error("the child stopped reporting");
      const { value, done } = await lines.read();
      if (done) throw new Error("the child exited");
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return line;
  };
  while ((await nextLine()) !== "ready") { /* skip */ }
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES + 10; i++) {
    const marker = `s${i}`;
    await store.peers.update("bench-peer", { scopes: [marker] });
    const committed = performance.timeOrigin + performance.now();
    for (;;) {
      const [, peer, scope, t] = (await nextLine()).split(" ");
      if (peer === "bench-peer" && scope === marker) {
        if (i >= 10) latencies.push(Number(t) - committed); // the first 10 warm up
        break;
      }
    }
  }
  await child.stdin.close();
  await lines.cancel();
  await child.status;
  latencies.sort((a, b) => a - b);
  r.notifyP50 = pct(latencies, 0.5);
  r.notifyP99 = pct(latencies, 0.99);
}

async function benchResolve(store: Store, r: Partial<Result>): Promise<void> {
  const keys = Array.from({ length: PEERS }, (_, i) => testKey(`p${i}`));
  for (let i = 0; i < PEERS; i += 100) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(PEERS, i + 100); j++) {
        await tx.peers.add({ peerId: `peer-${j}`, keys: [keys[j].line] });
      }
    });
  }
  const provider = await store.identityProvider();
  const fps = (await store.peers.list()).flatMap((p) => p.fingerprints);
  const N = 500_000;
  let hits = 0;
  r.resolveFingerprint = rate(
    N,
    await time(() => {
      for (let i = 0; i < N; i++) if (provider.resolveFingerprint(fps[i % fps.length])) hits++;
    }),
  );
  const tokens = keys.slice(0, 200).map((k) => signToken(k));
  const T = 2000;
  r.resolveToken = rate(
    T,
    await time(() => {
      for (let i = 0; i < T; i++) if (provider.resolveToken(tokens[i % tokens.length])) hits++;
    }),
  );
  if (hits !== N + T) throw new Error(`only ${hits} of ${N + T} resolutions succeeded`);
}

async function runBackend(backend: "sqlite" | "postgres"): Promise<Result> {
  const r: Partial<Result> = { backend };
  let location: string;
  let raw: Raw;
  let cleanup: () => Promise<void>;
  if (backend === "sqlite") {
    const dir = await Deno.makeTempDir({ prefix: "alknet-bench-" });
    location = `sqlite:${dir}/bench.db`;
    raw = rawSqlite(`${dir}/bench.db`);
    cleanup = () => Deno.remove(dir, { recursive: true });
  } else {
    const pg = await PostgresServer.start();
    location = pg.location("bench");
    raw = rawPostgres(pg.url, "bench");
    cleanup = () => pg.stop();
  }
  const store = await openStore(location);
  try {
    await benchEvents(store, raw, r);
    await benchNodes(store, raw, r);
    await benchNotify(store, location, r);
    await benchResolve(store, r);
  } finally {
    await raw.close();
    await store.close();
    await cleanup();
  }
  return r as Result;
}

const results: Result[] = [];
for (const b of ["sqlite", "postgres"] as const) {
  if (values.only && values.only !== b) continue;
  console.error(`running ${b} ...`);
  results.push(await runBackend(b));
}

const f = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => `${n.toFixed(2)} ms`;
for (const r of results) {
  console.log(`\n${r.backend}`);
  console.log(
    `  events appended, one per transaction: ${f(r.appendSingle)}/s   raw single inserts: ${
      f(r.rawSingle)
    }/s   ratio ${(r.appendSingle / r.rawSingle).toFixed(2)}`,
  );
  console.log(
    `  events appended, batches of ${BATCH}:      ${f(r.appendBatched)}/s   raw batched inserts: ${
      f(r.rawBatched)
    }/s   ratio ${(r.appendBatched / r.rawBatched).toFixed(2)} (goal >= 0.70)`,
  );
  console.log(
    `  metagraph nodes, validated, batches of ${BATCH}: ${f(r.nodesBatched)}/s   raw: ${
      f(r.rawNodesBatched)
    }/s   ratio ${(r.nodesBatched / r.rawNodesBatched).toFixed(2)}`,
  );
  console.log(
    `  metagraph nodes, validated, one by one: ${f(r.nodeSingle)}/s   raw: ${
      f(r.rawNodeSingle)
    }/s   ratio ${(r.nodeSingle / r.rawNodeSingle).toFixed(2)}`,
  );
  console.log(
    `  peer change -> other process notified: p50 ${ms(r.notifyP50)}, p99 ${
      ms(r.notifyP99)
    } (goal p50 <= ${r.backend === "sqlite" ? 2 : 5} ms)`,
  );
  console.log(
    `  identity resolutions from the index: fingerprint ${
      f(r.resolveFingerprint)
    }/s, signed token ${f(r.resolveToken)}/s`,
  );
}
