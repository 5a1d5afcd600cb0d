/**
 * Hostile clients for the hardening test and the soak benchmark: many
 * connections of one kind that never authenticate, held until the server
 * closes them (or a bound passes).
 *
 * - `silent`: connects and sends nothing.
 * - `tls-slow-http`: TLS (ALPN `http/1.1`), then `GET / HTTP/1.1\r\nHost: x\r\nX-a: b`
 *   and nothing more (a header that never ends).
 * - `slowloris`: plain TCP (or TLS with `--ca`), a request line, then one
 *   header byte every `--interval-ms`.
 * - `garbage`: 4 KiB of random bytes, then silence.
 * - `banner-stall`: `SSH-2.0-partial` without an end of line.
 *
 * Run it as a process of its own (it needs a file descriptor per
 * connection, and competes with the server for the CPU as a remote client
 * would):
 *
 * ```sh
 * deno run -A tests/hostile.ts --kind silent --port 443 --count 1050
 * ```
 *
 * It prints JSON lines: `{"event":"opened","ok":N,"failed":M}` once every
 * connection was tried, then `{"event":"done","closedByPeer":N,"open":M}`.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** What kind of hostile client. */
export type HostileKind = "silent" | "tls-slow-http" | "slowloris" | "garbage" | "banner-stall";

/** Options of {@link runHostile}. */
export interface HostileOptions {
  kind: HostileKind;
  host: string;
  port: number;
  count: number;
  /** CA certificate (PEM) for TLS kinds; `slowloris` uses TLS when given. */
  ca?: string;
  /** Connections being opened at once. */
  concurrency?: number;
  /** Give up a connect after this long. */
  connectTimeoutMs?: number;
  /** Stop waiting for the server to close connections after this long. */
  holdMs?: number;
  /** `slowloris`: pause between header bytes. */
  intervalMs?: number;
  /** Told about progress. */
  report?: (event: Record<string, unknown>) => void;
}

const enc = new TextEncoder();

function timeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("timeout")), ms)),
  ]).finally(() => clearTimeout(timer));
}

async function open(o: HostileOptions): Promise<Deno.Conn> {
  const ms = o.connectTimeoutMs ?? 10_000;
  const tls = o.kind === "tls-slow-http" || (o.kind === "slowloris" && o.ca !== undefined);
  if (!tls) return await timeout(Deno.connect({ hostname: o.host, port: o.port }), ms);
  const pending = Deno.connectTls({
    hostname: o.host,
    port: o.port,
    caCerts: o.ca ? [o.ca] : undefined,
    alpnProtocols: ["http/1.1"],
  });
  const conn = await timeout(pending, ms).catch((e) => {
    pending.then((c) => c.close(), () => {});
    throw e;
  });
  await timeout(conn.handshake(), ms).catch((e) => {
    conn.close();
    throw e;
  });
  return conn;
}

/** Opens `count` hostile connections and holds them until the server closes them. */
export async function runHostile(
  o: HostileOptions,
): Promise<{ closedByPeer: number; open: number }> {
  const conns: Deno.Conn[] = [];
  const closings: Promise<boolean>[] = [];
  let failed = 0;
  let next = 0;
  const holdMs = o.holdMs ?? 120_000;
  const deadline = Date.now() + holdMs;
  const watch = (conn: Deno.Conn): Promise<boolean> =>
    (async () => {
      const buf = new Uint8Array(16 * 1024);
      while (Date.now() < deadline) {
        const n = await timeout(conn.read(buf), Math.max(1, deadline - Date.now()))
          .catch((e) => (e as Error).message === "timeout" ? "timeout" as const : null);
        if (n === "timeout") return false;
        if (n === null) return true;
      }
      return false;
    })();
  const feed = async (conn: Deno.Conn, closed: Promise<boolean>) => {
    let done = false;
    closed.then(() => done = true);
    try {
      if (o.kind === "tls-slow-http") {
        await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX-a: b"));
      } else if (o.kind === "garbage") {
        await conn.write(crypto.getRandomValues(new Uint8Array(4096)));
      } else if (o.kind === "banner-stall") {
        await conn.write(enc.encode("SSH-2.0-partial"));
      } else if (o.kind === "slowloris") {
        await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX-a: "));
        const step = o.intervalMs ?? 5_000;
        while (!done && Date.now() < deadline) {
          await Promise.race([new Promise((r) => setTimeout(r, step)), closed]);
          if (done) break;
          await conn.write(enc.encode("a"));
        }
      }
    } catch { /* closed by the server */ }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 64 }, async () => {
    while (next < o.count) {
      next++;
      try {
        const conn = await open(o);
        conns.push(conn);
        const closed = watch(conn);
        closings.push(closed);
        void feed(conn, closed);
      } catch {
        failed++;
      }
    }
  }));
  o.report?.({ event: "opened", ok: conns.length, failed });
  const results = await Promise.all(closings);
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed */ }
  }
  const closedByPeer = results.filter(Boolean).length;
  const result = { closedByPeer, open: results.length - closedByPeer };
  o.report?.({ event: "done", ...result });
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      kind: { type: "string", default: "silent" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      count: { type: "string", default: "100" },
      ca: { type: "string" },
      concurrency: { type: "string", default: "64" },
      "connect-timeout-ms": { type: "string", default: "10000" },
      "hold-ms": { type: "string", default: "120000" },
      "interval-ms": { type: "string", default: "5000" },
    },
  });
  await runHostile({
    kind: values.kind as HostileKind,
    host: values.host!,
    port: Number(values.port),
    count: Number(values.count),
    ca: values.ca ? await Deno.readTextFile(values.ca) : undefined,
    concurrency: Number(values.concurrency),
    connectTimeoutMs: Number(values["connect-timeout-ms"]),
    holdMs: Number(values["hold-ms"]),
    intervalMs: Number(values["interval-ms"]),
    report: (e) => console.log(JSON.stringify(e)),
  });
}
