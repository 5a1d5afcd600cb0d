/**
 * Call-protocol RPC benchmark between two processes on loopback (not a test).
 *
 * Runs an echo operation with a ~100-byte input over framed TCP, TLS and
 * WebSocket (server: Deno.serve, client: npm:ws), each beside a bare JSON
 * echo on the same carrier (`bench/bare_echo.ts`: framing and a coalescing
 * writer, nothing of the call protocol) measured in the same run, plus Cap'n
 * Web over WebSocket for comparison: after a warm-up (300 000 calls over
 * the call layer, then per carrier sequential and 64 in flight), sequential
 * latency p50/p99 over N calls and throughput with 64 calls in flight
 * (max(10 N, 40 000) calls), each in 5 rounds alternating the call carrier
 * and its bare echo (calls/s: the median round), then the call/bare ratios.
 *
 * ```sh
 * deno run -A bench/call_rpc.ts            # 5000 sequential calls per carrier
 * deno run -A bench/call_rpc.ts --calls 1000
 * deno run -A bench/call_rpc.ts --warmup 0  # no call-layer warm-up first (default 300 000 calls)
 * deno run -A bench/call_rpc.ts --record   # a node recording its call graph vs not
 * deno run -A bench/call_rpc.ts --record --control   # the same with neither recording
 * ```
 *
 * `--record` runs two server processes, one whose registry's observer feeds
 * a `CallRecorder` (the bounds `alknet serve` uses: 10 000 calls, 10
 * minutes) and one without, and measures them in alternating batches over
 * framed TCP and WebSocket: calls/s with 64 in flight, and the server's CPU
 * time per call (from /proc, which a loaded machine disturbs far less than
 * wall-clock throughput). `--control` makes the second server not record
 * either: the spread of its ratios is what the machine's noise alone gives.
 * `CPU_PROF=DIR` writes each server's `--cpu-prof` profile under `DIR/plain`
 * and `DIR/rec`.
 *
 * @module
 */

import { selfSignedCertificate } from "@alknet/core/transport";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { newWebSocketRpcSession, RpcTarget } from "capnweb";
import {
  type CallConnection,
  connectCall,
  type Identity,
  OperationRegistry,
  serveCallTcp,
  serveCallTls,
  serveCallWebSocket,
} from "../call/mod.ts";
import { CallRecorder } from "../flowgraph/mod.ts";
import {
  connectBareFramed,
  connectBareWebSocket,
  serveBareFramed,
  serveBareWebSocket,
} from "./bare_echo.ts";

const TOKEN = "bench-token";
const who: Identity = { id: "bench", scopes: [], resources: {} };
const authenticate = (t: string) => (t === TOKEN ? who : null);

class EchoApi extends RpcTarget {
  echo(x: unknown): unknown {
    return x;
  }
}

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-bench-" });
  const { cert, key } = await selfSignedCertificate(dir);
  await Deno.remove(dir, { recursive: true });
  return { cert, key };
}

async function server(record: boolean): Promise<void> {
  const recorder = record ? new CallRecorder({ maxCalls: 10_000, maxAgeMs: 600_000 }) : undefined;
  const registry = new OperationRegistry({ observer: recorder?.observer });
  registry.register({
    name: "bench/echo",
    type: "query",
    input_schema: {
      type: "object",
      properties: { text: { type: "string" }, n: { type: "integer" } },
    },
    handler: (x) => x,
  });
  const { cert, key } = await selfSigned();
  const tcp = await serveCallTcp({ registry });
  const tls = await serveCallTls({ cert, key, registry, authenticate });
  const ws = await serveCallWebSocket({ registry, authenticate });
  const capn = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    newWebSocketRpcSession(socket as unknown as globalThis.WebSocket, new EchoApi());
    return response;
  });
  const bare = [serveBareFramed(), serveBareFramed({ cert, key }), serveBareWebSocket()];
  console.log(JSON.stringify({
    tcp: tcp.addr.port,
    tls: tls.addr.port,
    ws: ws.addr.port,
    capn: capn.addr.port,
    bare: bare.map((b) => b.port),
    cert,
  }));
  // Run until stdin closes (the parent ends us).
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  for (const b of bare) b.close();
  await Promise.all([tcp.close(), tls.close(), ws.close(), capn.shutdown()]);
}

type Call = (input: unknown) => Promise<unknown>;

interface Result {
  carrier: string;
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Calls with 64 in flight in the throughput phase (and in its warm-up). */
const INFLIGHT = 64;

/** `total` calls with {@link INFLIGHT} in flight. */
async function inFlight(call: Call, input: unknown, total: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < total) {
      next++;
      await call(input);
    }
  }));
}

/** Rounds each measurement is split into, alternating the variants measured side by side. */
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Measures variants side by side (a call carrier and its bare echo), after
 * a warm-up of each (3000 sequential calls and 20 000 with 64 in flight):
 * latency over `n` sequential calls and throughput with 64 in flight, each
 * split into {@link ROUNDS} rounds that alternate the variants, so a change
 * in the machine's load hits them alike. Latency percentiles are over every
 * round's calls; calls/s is the median of the rounds.
 */
async function measure(
  variants: { carrier: string; call: Call }[],
  n: number,
): Promise<Result[]> {
  const input = { text: "x".repeat(80), n: 0 }; // ≈ 100 bytes of JSON
  for (const v of variants) {
    for (let i = 0; i < 3000; i++) await v.call(input); // warm up (JIT, TCP windows)
    await inFlight(v.call, input, 20_000);
  }
  const lat = variants.map(() => [] as number[]);
  const rates = variants.map(() => [] as number[]);
  const per = Math.ceil(n / ROUNDS);
  const total = Math.ceil(throughputCalls(n) / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which variant goes first.
    const order = r % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => i).reverse();
    for (const k of order) {
      for (let i = 0; i < per; i++) {
        input.n = i;
        const t = performance.now();
        await variants[k].call(input);
        lat[k].push((performance.now() - t) * 1000);
      }
    }
    for (const k of order) {
      const t0 = performance.now();
      await inFlight(variants[k].call, input, total);
      rates[k].push(total / ((performance.now() - t0) / 1000));
    }
  }
  return variants.map((v, k) => {
    const sorted = lat[k].sort((a, b) => a - b);
    return {
      carrier: v.carrier,
      p50_us: Math.round(pct(sorted, 0.5)),
      p99_us: Math.round(pct(sorted, 0.99)),
      calls_per_s: Math.round(median(rates[k])),
    };
  });
}

/** Calls in the throughput phase for `n` sequential ones. */
function throughputCalls(n: number): number {
  return Math.max(n * 10, 40_000);
}

/** What a server process prints. */
interface Ports {
  tcp: number;
  tls: number;
  ws: number;
  capn: number;
  /** The bare echoes (bench/bare_echo.ts): framed TCP, framed TLS, WebSocket. */
  bare: [number, number, number];
  cert: string;
}

/** A server process (`--server`, with `--recording` when `record`) and the ports it printed. */
async function startServer(record: boolean): Promise<{ child: Deno.ChildProcess; ports: Ports }> {
  const profiles = Deno.env.get("CPU_PROF");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(profiles ? ["--cpu-prof", `--cpu-prof-dir=${profiles}/${record ? "rec" : "plain"}`] : []),
      import.meta.filename!,
      "--server",
      ...(record ? ["--recording"] : []),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited");
    line += value;
  }
  reader.releaseLock();
  return { child, ports: JSON.parse(line.split("\n")[0]) };
}

async function client(n: number, warmup: number): Promise<void> {
  const { child, ports } = await startServer(false);
  const results: Result[] = [];
  const conns: CallConnection[] = [];
  const viaConn = (c: CallConnection): Call => (x) => c.call("bench/echo", x);

  // Each carrier beside the bare echo on the same carrier (bench/bare_echo.ts), in turn.
  const bares = [
    await connectBareFramed(ports.bare[0]),
    await connectBareFramed(ports.bare[1], { caCerts: [ports.cert] }),
    await connectBareWebSocket(ports.bare[2]),
  ];
  const tcp = await connectCall(`tcp://127.0.0.1:${ports.tcp}`);
  conns.push(tcp);
  // The call layer's code on both ends reaches its steady state only after
  // 200 000-300 000 calls (framed TCP measured after 100 000: 74k calls/s,
  // after 300 000: 170k-190k); without this the carrier measured first
  // (framed TCP) measured V8's warm-up, not the protocol.
  await inFlight(viaConn(tcp), { text: "x".repeat(80), n: 0 }, warmup);
  results.push(
    ...await measure([
      { carrier: "call / framed TCP", call: viaConn(tcp) },
      { carrier: "bare framed-JSON echo / TCP", call: bares[0].call },
    ], n),
  );
  const tls = await connectCall(`tls://localhost:${ports.tls}`, {
    tlsCaCerts: [ports.cert],
    token: TOKEN,
  });
  conns.push(tls);
  results.push(
    ...await measure([
      { carrier: "call / TLS", call: viaConn(tls) },
      { carrier: "bare framed-JSON echo / TLS", call: bares[1].call },
    ], n),
  );
  const ws = await connectCall(`ws://127.0.0.1:${ports.ws}`, { token: TOKEN });
  conns.push(ws);
  results.push(
    ...await measure([
      { carrier: "call / WebSocket (npm:ws)", call: viaConn(ws) },
      { carrier: "bare JSON echo / WebSocket (npm:ws)", call: bares[2].call },
    ], n),
  );
  for (const b of bares) b.close();

  const sock = new WebSocket(`ws://127.0.0.1:${ports.capn}/`, { perMessageDeflate: false });
  await new Promise((r, j) => {
    sock.once("open", r);
    sock.once("error", j);
  });
  // deno-lint-ignore no-explicit-any
  const stub = newWebSocketRpcSession<EchoApi>(sock as any) as unknown as {
    echo(x: unknown): Promise<unknown>;
  };
  results.push(
    ...await measure([{ carrier: "Cap'n Web / WebSocket (npm:ws)", call: (x) => stub.echo(x) }], n),
  );
  sock.close();

  for (const c of conns) await c.close();
  await child.stdin.close();
  await child.status;
  console.log(
    `\n${n} sequential calls (p50/p99), then ${throughputCalls(n)} calls with 64 in flight ` +
      `(calls/s: the median of ${ROUNDS} rounds alternating each call carrier and its bare echo):\n`,
  );
  console.log("carrier                              p50 µs   p99 µs   calls/s");
  for (const r of results) {
    console.log(
      `${r.carrier.padEnd(36)} ${String(r.p50_us).padStart(6)}   ${
        String(r.p99_us).padStart(6)
      }   ${String(r.calls_per_s).padStart(7)}`,
    );
  }
  const ratio = (call: string, bare: string) => {
    const c = results.find((r) => r.carrier === call)!;
    const b = results.find((r) => r.carrier === bare)!;
    console.log(
      `${call.padEnd(36)} ${
        (c.calls_per_s / b.calls_per_s).toFixed(2)
      }x the bare echo's calls/s, p50 ${(c.p50_us / b.p50_us).toFixed(2)}x its p50`,
    );
  };
  console.log("");
  ratio("call / framed TCP", "bare framed-JSON echo / TCP");
  ratio("call / TLS", "bare framed-JSON echo / TLS");
  ratio("call / WebSocket (npm:ws)", "bare JSON echo / WebSocket (npm:ws)");
  console.log("\n" + JSON.stringify(results));
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11] and [12] are utime and stime (the 14th and 15th of the line), in ticks.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `count` calls with 64 in flight. */
async function burst(call: Call, count: number): Promise<void> {
  const input = { text: "x".repeat(80), n: 0 };
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < count) {
      next++;
      await call(input);
    }
  }));
}

const BATCHES = 40;
const BATCH = 2000;

/**
 * `--record`: a server recording its calls and one not, measured in
 * alternating batches of 2000 calls (64 in flight), 40 batches each per
 * carrier, so that both see the same machine: calls/s over the batches and
 * the server's CPU µs per call.
 */
async function compareRecording(warmup: number, control: boolean): Promise<void> {
  const servers = [await startServer(false), await startServer(!control)];
  const rows = [];
  for (const carrier of ["tcp", "ws"] as const) {
    const url = (p: Ports) =>
      carrier === "tcp" ? `tcp://127.0.0.1:${p.tcp}` : `ws://127.0.0.1:${p.ws}`;
    const calls: Call[] = [];
    for (const { ports } of servers) {
      const conn = await connectCall(url(ports), { token: TOKEN });
      calls.push((x) => conn.call("bench/echo", x));
      // Both servers (and this client) reach their steady state only after
      // 200 000-300 000 calls, as in the main run (--warmup).
      await burst(calls[calls.length - 1], warmup);
    }
    const wall = [0, 0];
    const cpu = [0, 0];
    for (let b = 0; b < BATCHES; b++) {
      for (const i of b % 2 === 0 ? [0, 1] : [1, 0]) {
        const pid = servers[i].child.pid;
        const c0 = await cpuSeconds(pid);
        const t0 = performance.now();
        await burst(calls[i], BATCH);
        wall[i] += (performance.now() - t0) / 1000;
        cpu[i] += (await cpuSeconds(pid)) - c0;
      }
    }
    const n = BATCHES * BATCH;
    const rate = wall.map((w) => Math.round(n / w));
    const us = cpu.map((c) => Math.round((c * 1e6) / n * 10) / 10);
    rows.push({
      carrier: carrier === "tcp" ? "framed TCP" : "WebSocket",
      calls_per_s: { without: rate[0], with: rate[1] },
      server_cpu_us_per_call: { without: us[0], with: us[1] },
      throughput_ratio: Math.round((rate[1] / rate[0]) * 100) / 100,
      cpu_ratio: Math.round((us[0] / us[1]) * 100) / 100,
    });
  }
  for (const s of servers) {
    await s.child.stdin.close();
    await s.child.status;
  }
  console.log(
    `\n${BATCHES} alternating batches of ${BATCH} calls (64 in flight) per server and carrier;` +
      ` CPU: the server's CPU time per call; ratios: with ÷ without as calls/s` +
      (control ? " (--control: neither server records)\n" : "\n"),
  );
  console.log(
    "carrier       calls/s without  calls/s with  ratio   CPU µs without  CPU µs with  ratio",
  );
  for (const r of rows) {
    console.log(
      `${r.carrier.padEnd(13)} ${String(r.calls_per_s.without).padStart(15)}  ${
        String(r.calls_per_s.with).padStart(12)
      }  ${String(r.throughput_ratio).padStart(5)}   ${
        String(r.server_cpu_us_per_call.without).padStart(14)
      }  ${String(r.server_cpu_us_per_call.with).padStart(11)}  ${String(r.cpu_ratio).padStart(5)}`,
    );
  }
  console.log("\n" + JSON.stringify(rows));
}

if (import.meta.main) {
  if (Deno.args.includes("--server")) {
    await server(Deno.args.includes("--recording"));
  } else {
    const i = Deno.args.indexOf("--calls");
    const n = i >= 0 ? Number(Deno.args[i + 1]) : 5000;
    const w = Deno.args.indexOf("--warmup");
    const warmup = w >= 0 ? Number(Deno.args[w + 1]) : 300_000;
    if (Deno.args.includes("--record")) {
      await compareRecording(warmup, Deno.args.includes("--control"));
    } else await client(n, warmup);
  }
}
