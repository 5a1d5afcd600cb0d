/**
 * Mesh benchmark (not a test): what the extra hop through a head costs.
 * Four processes on loopback: a head (`alknet serve`), two workers that
 * dial it (tests/mesh_worker.ts): `wc` over the call protocol on the head's
 * WebSocket (`joinMesh`) and `ws` over SSH `alknet-control`
 * (`connect(head, { worker })`); each also serves its operations directly
 * on a WebSocket. This process is the client, on WebSocket everywhere. The
 * same ~100-byte `node/ping` is called client → worker directly and
 * client → head → worker, in the same run: sequential latency p50/p99 (the
 * paths interleaved in rounds), then throughput with 64 calls in flight,
 * after a warm-up of every path. Goals for the hop (the call-protocol
 * link): at most 2× the direct p50, at least 0.5× the direct calls/s.
 *
 * ```sh
 * deno run -A bench/mesh.ts              # 5000 sequential calls per path
 * deno run -A bench/mesh.ts --calls 2000
 * ```
 *
 * @module
 */

import {
  type CallConnection,
  connectCall,
  type Identity,
  joinMesh,
  MeshHead,
  OperationRegistry,
  registerNodeOperations,
  serveCallWebSocket,
} from "@alknet/call";
import { makeKey, Proc, ROOT } from "../tests/helpers.ts";

const START_MS = 90_000;
const ROUNDS = 5;

type Call = (input: unknown) => Promise<unknown>;

interface Result {
  path: string;
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const INPUT = { text: "x".repeat(80), n: 0 }; // ≈ 100 bytes of JSON

async function latency(call: Call, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    INPUT.n = i;
    const t = performance.now();
    await call(INPUT);
    into.push((performance.now() - t) * 1000);
  }
}

async function throughput(call: Call, total: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < total) {
      next++;
      await call(INPUT);
    }
  }));
  return Math.round(total / ((performance.now() - t0) / 1000));
}

/**
 * The same comparison in one process (head, worker and client share the
 * event loop, real WebSockets on loopback): the cost of the head's routing
 * without the scheduling of extra processes.
 */
async function inProcess(n: number): Promise<Result[]> {
  const head = new MeshHead({ validateOutput: "off" });
  const worker: Identity = { id: "w", scopes: ["mesh:worker"], resources: {} };
  const headServer = await serveCallWebSocket({ registry: head, authenticate: () => worker });
  const calls = new OperationRegistry({ validateOutput: "off" });
  registerNodeOperations(calls, { version: "bench" });
  const direct = await serveCallWebSocket({ registry: calls });
  const member = await joinMesh(headServer.url, { name: "w", registry: calls, token: "t" });
  const viaHead = await connectCall(headServer.url, { token: "t" });
  const toWorker = await connectCall(direct.url);
  try {
    const paths: [string, Call][] = [
      ["client → worker (direct)", (x) => toWorker.call("node/ping", x)],
      ["client → head → worker", (x) => viaHead.call("w/node/ping", x)],
    ];
    return await measure(paths, n);
  } finally {
    await viaHead.close();
    await toWorker.close();
    await member.close();
    await headServer.close();
    await direct.close();
  }
}

/** Warm-up, interleaved sequential rounds, then throughput per path. */
async function measure(paths: [string, Call][], n: number): Promise<Result[]> {
  for (const [, call] of paths) await latency(call, 3000, []); // warm up (JIT, windows)
  const lat = paths.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paths.length; i++) {
      await latency(paths[i][1], Math.ceil(n / ROUNDS), lat[i]);
    }
  }
  const total = Math.max(n * 4, 20_000);
  const results: Result[] = [];
  for (let i = 0; i < paths.length; i++) {
    const l = lat[i].sort((a, b) => a - b);
    results.push({
      path: paths[i][0],
      p50_us: Math.round(pct(l, 0.5)),
      p99_us: Math.round(pct(l, 0.99)),
      calls_per_s: await throughput(paths[i][1], total),
    });
  }
  return results;
}

function table(results: Result[]): void {
  console.log("path                          p50 µs   p99 µs   calls/s");
  for (const r of results) {
    console.log(
      `${r.path.padEnd(28)} ${String(r.p50_us).padStart(6)}   ${String(r.p99_us).padStart(6)}   ${
        String(r.calls_per_s).padStart(7)
      }`,
    );
  }
}

const ratio = (a: number, b: number) => (a / b).toFixed(2);

async function main(n: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-bench-mesh-" });
  const env = {
    NO_COLOR: "1",
    XDG_CONFIG_HOME: `${dir}/config`,
    XDG_DATA_HOME: `${dir}/data`,
    ALKNET_VALIDATE_OUTPUT: "off",
  };
  const hk = await makeKey(dir, "head_host");
  const wk = await makeKey(dir, "worker");
  const ck = await makeKey(dir, "client");
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    `alknet-scopes="mesh:worker" ${wk.publicLine}\n${ck.publicLine}\n`,
  );
  const procs: Proc[] = [];
  const conns: CallConnection[] = [];
  try {
    const head = Proc.alknet([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "ws://127.0.0.1:0",
      "--listen",
      "tls://127.0.0.1:0",
      "--tls-self-signed",
      "--host-key",
      hk.path,
      "--authorized-keys",
      `${dir}/authorized_keys`,
      "--data-dir",
      `${dir}/head`,
    ], env);
    procs.push(head);
    const listening = (transport: string) =>
      head.waitFor(
        new RegExp(`listening addr=(127\\.0\\.0\\.1:\\d+) transport=${transport}`),
        START_MS,
      );
    const ssh = (await listening("tcp"))[1];
    const ws = (await listening("ws"))[1];
    const tls = (await listening("tls"))[1];
    const tlsPin = (await head.waitFor(/tls self-signed fingerprint=(SHA256:\S+)/, START_MS))[1];
    const worker = (headUrl: string, name: string, pin = hk.fingerprint) => {
      const p = Proc.spawn(Deno.execPath(), [
        "run",
        "-A",
        "--quiet",
        `${ROOT}tests/mesh_worker.ts`,
        headUrl,
        wk.path,
        pin,
        name,
      ], env);
      procs.push(p);
      return p;
    };
    const wc = worker(`ws://${ws}`, "wc");
    const wssh = worker(ssh, "ws");
    const wtls = worker(`tls://${tls}`, "wt", tlsPin);
    const direct = (await wc.waitFor(/direct url=(\S+)/, START_MS))[1];
    await wc.waitFor(/worker registered name=wc/, START_MS);
    await wssh.waitFor(/worker registered name=ws/, START_MS);
    await wtls.waitFor(/worker registered name=wt/, START_MS);

    const viaHead = await connectCall(`ws://${ws}`, { identity: ck.path });
    const toWorker = await connectCall(direct);
    conns.push(viaHead, toWorker);
    const paths: [string, Call][] = [
      ["client → worker (direct)", (x) => toWorker.call("node/ping", x)],
      ["client → head → worker", (x) => viaHead.call("wc/node/ping", x)],
      ["client → head (its own op)", (x) => viaHead.call("node/ping", x)],
      ["client → head →tls→ worker", (x) => viaHead.call("wt/node/ping", x)],
      ["client → head →ssh→ worker", (x) => viaHead.call("ws/node/ping", x)],
    ];
    const results = await measure(paths, n);
    const total = Math.max(n * 4, 20_000);
    console.log(
      `\n${n} sequential node/ping calls per path (p50/p99), then ${total} with 64 in flight ` +
        `(client on WebSocket; the head reaches wc on the call protocol, ws on SSH):\n`,
    );
    table(results);
    const [d, m, , t, s] = results;
    console.log(
      `\nhop cost (call-protocol link): p50 ×${ratio(m.p50_us, d.p50_us)} (goal ≤ 2), ` +
        `calls/s ×${ratio(m.calls_per_s, d.calls_per_s)} (goal ≥ 0.5)`,
    );
    console.log(
      `hop cost (TLS link):           p50 ×${ratio(t.p50_us, d.p50_us)}, ` +
        `calls/s ×${ratio(t.calls_per_s, d.calls_per_s)}`,
    );
    console.log(
      `hop cost (SSH link):           p50 ×${ratio(s.p50_us, d.p50_us)}, ` +
        `calls/s ×${ratio(s.calls_per_s, d.calls_per_s)}`,
    );
    const local = await inProcess(n);
    console.log(`\nthe same in one process (WebSockets on loopback, one event loop):\n`);
    table(local);
    console.log(
      `\nhop cost in one process: p50 ×${ratio(local[1].p50_us, local[0].p50_us)}, ` +
        `calls/s ×${ratio(local[1].calls_per_s, local[0].calls_per_s)}`,
    );
    console.log(JSON.stringify({ processes: results, inProcess: local }));
  } finally {
    for (const c of conns) await c.close();
    for (const p of procs.reverse()) await p.stop("SIGTERM", 10_000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--calls");
  await main(i >= 0 ? Number(Deno.args[i + 1]) : 5000);
}
