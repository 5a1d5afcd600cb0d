/**
 * Mesh benchmark (not a test): what the extra hop through a head costs.
 * Five processes on loopback: a head (`alknet serve`), three workers that
 * dial it (tests/mesh_worker.ts): `wc` over the call protocol on the head's
 * WebSocket and `wt` over it on TLS (`joinMesh`), `ws` over SSH
 * `alknet-control` (`connect(head, { worker })`); each also serves its
 * operations directly on a WebSocket and on TLS. This process is the
 * client, on a WebSocket or on TLS (`alknet/call`). The same ~100-byte
 * `node/ping` is called client → worker directly and client → head →
 * worker, in the same run: sequential latency p50/p99 (the paths
 * interleaved in rounds), then throughput with 64 calls in flight (the
 * paths interleaved in rounds again: median and min–max), after a warm-up
 * of every path; with the CPU time (user + system, /proc) the head, the
 * worker and the client spend per call during the throughput rounds. Each
 * path through the head is compared with the direct path on the client's
 * carrier. Goals for the hop: at most 2× the direct p50, at least 0.5× the
 * direct calls/s. A second part runs the WebSocket comparison in one
 * process (the routing without the scheduling of extra processes).
 *
 * ```sh
 * deno run -A bench/mesh.ts                     # 5000 sequential calls per path
 * deno run -A bench/mesh.ts --calls 2000 --no-in-process
 * deno run -A bench/mesh.ts --only "^tls"       # the direct paths and those matching
 * deno run -A bench/mesh.ts --no-record         # the head with --no-record-calls
 * deno run -A bench/mesh.ts --prof DIR          # the head under --cpu-prof (DIR/*.cpuprofile)
 * deno run -A bench/mesh.ts --in-process-only
 * deno run -A bench/mesh.ts --no-floor          # without the bare-TCP floor
 * ```
 *
 * The floor: the same sequential round trips over plain TCP between two
 * processes (client → echo) and three (client → relay → echo, the relay
 * passing one message at a time like a head), no TLS, no call protocol,
 * in the same run; then the same with Deno's TLS on every leg. On the shared 2-core VM it is ×2.2-2.7, not ×2: every
 * wake-up of a process costs kernel CPU time, and more of it when three
 * processes take turns (docs/decisions/mesh.md).
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
import { alknetEnv, makeKey, meshWorkerProgram, Proc, ROOT } from "../tests/helpers.ts";
import { floor, FLOOR_BYTES } from "./mesh_floor.ts";

const START_MS = 90_000;
const ROUNDS = 5;
const WARMUP = Number(Deno.env.get("MESH_WARMUP") ?? 100_000);

type Call = (input: unknown) => Promise<unknown>;

/** A path: its name, how to call it, and the processes whose CPU it costs (head, worker). */
interface Path {
  name: string;
  call: Call;
  head?: number;
  worker?: number;
}

interface Result {
  path: string;
  p50_us: number;
  p99_us: number;
  /** Median of the throughput rounds. */
  calls_per_s: number;
  calls_per_s_min: number;
  calls_per_s_max: number;
  /** CPU (user + system) per call during the throughput rounds, in µs; 0 when not measured. */
  head_cpu_us: number;
  worker_cpu_us: number;
  client_cpu_us: number;
  /**
   * On-CPU time (all threads, /proc schedstat) per call during the
   * sequential rounds, in µs, with the mean wall time per call: with one
   * call at a time, the wall time is these processes' CPU time in turn.
   */
  seq: { head_us: number; worker_us: number; client_us: number; wall_us: number };
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

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (0 without /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] and [12] are utime and stime (the 14th and 15th of the line), in ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Nanoseconds a process's threads have run (/proc/PID/task/N/schedstat; 0 without /proc). */
function runNs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let ns = 0;
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
      } catch {
        // the thread ended
      }
    }
  } catch {
    return 0;
  }
  return ns;
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
    return await measure([
      { name: "client → worker (direct)", call: (x) => toWorker.call("node/ping", x) },
      { name: "client → head → worker", call: (x) => viaHead.call("w/node/ping", x) },
    ], n);
  } finally {
    await viaHead.close();
    await toWorker.close();
    await member.close();
    await headServer.close();
    await direct.close();
  }
}

/**
 * Warm-up; sequential latency in rounds that alternate the paths; then
 * throughput (64 in flight) in rounds that alternate them too, with the
 * CPU each path costs the head, its worker and this client.
 */
async function measure(paths: Path[], n: number): Promise<Result[]> {
  // Warm-up: the call layer reaches its steady state only after about
  // 100 000 calls in each process (bench/call_rpc.ts --warmup).
  for (const p of paths) {
    await throughput(p.call, WARMUP);
    await latency(p.call, 2000, []);
  }
  const lat = paths.map(() => [] as number[]);
  const seq = paths.map(() => ({ head: 0, worker: 0, client: 0, wall: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      const before = [runNs(p.head), runNs(p.worker), runNs(Deno.pid), performance.now()];
      await latency(p.call, Math.ceil(n / ROUNDS), lat[i]);
      seq[i].head += runNs(p.head) - before[0];
      seq[i].worker += runNs(p.worker) - before[1];
      seq[i].client += runNs(Deno.pid) - before[2];
      seq[i].wall += (performance.now() - before[3]) * 1e6;
    }
  }
  const seqUs = (ns: number) => Math.round(ns / 1000 / (Math.ceil(n / ROUNDS) * ROUNDS));
  const perRound = Math.ceil(Math.max(n * 4, 20_000) / ROUNDS);
  const rates = paths.map(() => [] as number[]);
  const cpu = paths.map(() => ({ head: 0, worker: 0, client: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      const before = [cpuSeconds(p.head), cpuSeconds(p.worker), cpuSeconds(Deno.pid)];
      rates[i].push(await throughput(p.call, perRound));
      cpu[i].head += cpuSeconds(p.head) - before[0];
      cpu[i].worker += cpuSeconds(p.worker) - before[1];
      cpu[i].client += cpuSeconds(Deno.pid) - before[2];
    }
  }
  const us = (s: number) => Math.round(s * 1e6 / (perRound * ROUNDS));
  return paths.map((p, i) => {
    const l = lat[i].sort((a, b) => a - b);
    const r = rates[i].sort((a, b) => a - b);
    return {
      path: p.name,
      p50_us: Math.round(pct(l, 0.5)),
      p99_us: Math.round(pct(l, 0.99)),
      calls_per_s: r[Math.floor(r.length / 2)],
      calls_per_s_min: r[0],
      calls_per_s_max: r[r.length - 1],
      head_cpu_us: us(cpu[i].head),
      worker_cpu_us: us(cpu[i].worker),
      client_cpu_us: us(cpu[i].client),
      seq: {
        head_us: seqUs(seq[i].head),
        worker_us: seqUs(seq[i].worker),
        client_us: seqUs(seq[i].client),
        wall_us: seqUs(seq[i].wall),
      },
    };
  });
}

function table(results: Result[]): void {
  console.log(
    "path                          p50 µs   p99 µs   calls/s (min–max)      CPU µs/call: head worker client",
  );
  for (const r of results) {
    const rate = `${r.calls_per_s} (${r.calls_per_s_min}–${r.calls_per_s_max})`;
    console.log(
      `${r.path.padEnd(28)} ${String(r.p50_us).padStart(6)}   ${String(r.p99_us).padStart(6)}   ${
        rate.padEnd(22)
      } ${String(r.head_cpu_us || "-").padStart(17)} ${
        String(r.worker_cpu_us || "-").padStart(6)
      } ${String(r.client_cpu_us).padStart(6)}`,
    );
  }
}

const ratio = (a: number, b: number) => (a / b).toFixed(2);

function loadAvg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

interface Opts {
  calls: number;
  prof?: string;
  record: boolean;
  inProcess: boolean;
  /** Only the paths whose name matches (and the direct one). */
  only?: RegExp;
  /** Measure the floor of a hop (bare TCP, 2 processes against 3) in the same run. */
  floor: boolean;
}

async function main(opts: Opts): Promise<void> {
  const n = opts.calls;
  const loadBefore = loadAvg();
  const dir = await Deno.makeTempDir({ prefix: "alknet-bench-mesh-" });
  const env = alknetEnv(dir, { ALKNET_VALIDATE_OUTPUT: "off" });
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
    const deno = [
      "run",
      "-A",
      "--quiet",
      ...(opts.prof ? [`--cpu-prof`, `--cpu-prof-dir=${opts.prof}`] : []),
    ];
    const head = Proc.spawn(Deno.execPath(), [
      ...deno,
      `${ROOT}cli.ts`,
      "serve",
      ...(opts.record ? [] : ["--no-record-calls"]),
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
      const p = meshWorkerProgram(headUrl, wk.path, pin, name, env);
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
    const [, directTls, directTlsPin] = await wtls.waitFor(
      /direct-tls url=(\S+) fingerprint=(\S+)/,
      START_MS,
    );

    const viaHead = await connectCall(`ws://${ws}`, { identity: ck.path });
    const viaHeadTls = await connectCall(`tls://${tls}`, {
      identity: ck.path,
      tlsFingerprint: tlsPin,
    });
    const toWorker = await connectCall(direct);
    const toWorkerTls = await connectCall(directTls, { tlsFingerprint: directTlsPin });
    conns.push(viaHead, viaHeadTls, toWorker, toWorkerTls);
    const h = head.pid;
    const paths: Path[] = [
      {
        name: "ws → worker (direct)",
        call: (x) => toWorker.call("node/ping", x),
        worker: wc.pid,
      },
      {
        name: "ws → head →ws→ worker",
        call: (x) => viaHead.call("wc/node/ping", x),
        head: h,
        worker: wc.pid,
      },
      { name: "ws → head (its own op)", call: (x) => viaHead.call("node/ping", x), head: h },
      {
        name: "ws → head →tls→ worker",
        call: (x) => viaHead.call("wt/node/ping", x),
        head: h,
        worker: wtls.pid,
      },
      {
        name: "ws → head →ssh→ worker",
        call: (x) => viaHead.call("ws/node/ping", x),
        head: h,
        worker: wssh.pid,
      },
      {
        name: "tls → worker (direct)",
        call: (x) => toWorkerTls.call("node/ping", x),
        worker: wtls.pid,
      },
      { name: "tls → head (its own op)", call: (x) => viaHeadTls.call("node/ping", x), head: h },
      {
        name: "tls → head →tls→ worker",
        call: (x) => viaHeadTls.call("wt/node/ping", x),
        head: h,
        worker: wtls.pid,
      },
    ];
    const chosen = opts.only
      ? paths.filter((p) => p.name.endsWith("(direct)") || opts.only!.test(p.name))
      : paths;
    const results = await measure(chosen, n);
    const bare = opts.floor ? await floor(n, ROUNDS) : undefined;
    const total = Math.ceil(Math.max(n * 4, 20_000) / ROUNDS) * ROUNDS;
    console.log(
      `\n${n} sequential node/ping calls per path (p50/p99), then ${total} with 64 in flight in ` +
        `${ROUNDS} rounds (the paths alternate); head ${
          opts.record ? "recording" : "not recording"
        } ` +
        `its calls; load before: ${loadBefore}:\n`,
    );
    table(results);
    console.log(
      "\nsequential rounds, on-CPU µs per call (all threads, schedstat): head worker client = sum; " +
        "mean wall µs per call",
    );
    for (const r of results) {
      const q = r.seq;
      console.log(
        `  ${r.path.padEnd(26)} ${q.head_us} ${q.worker_us} ${q.client_us} = ${
          q.head_us + q.worker_us + q.client_us
        }; ${q.wall_us}`,
      );
    }
    console.log(
      "\nhop cost against the direct path on the client's carrier (goal: p50 ≤ ×2, " +
        "calls/s ≥ ×0.5; head CPU per forwarded call against the worker's per direct call):",
    );
    for (const m of results.filter((r) => /→ worker$/.test(r.path))) {
      const carrier = m.path.split(" ")[0];
      const d = results.find((r) => r.path === `${carrier} → worker (direct)`)!;
      console.log(
        `  ${m.path.padEnd(26)} p50 ×${ratio(m.p50_us, d.p50_us)}, calls/s ×${
          ratio(m.calls_per_s, d.calls_per_s)
        }, CPU ×${ratio(m.head_cpu_us, d.worker_cpu_us)}`,
      );
    }
    if (bare) {
      console.log(
        `  floor (plain TCP, ${FLOOR_BYTES} B, no TLS, no call protocol): client → echo p50 ` +
          `${bare.direct_us} µs, client → relay → echo ${bare.relayed_us} µs: ×${
            ratio(bare.relayed_us, bare.direct_us)
          } (the relay as a thread of the echo process: ×${
            ratio(bare.threaded_us, bare.direct_us)
          })`,
      );
      console.log(
        `  floor with Deno's TLS on every leg: client → echo p50 ${bare.tls_direct_us} µs, ` +
          `client → relay → echo ${bare.tls_relayed_us} µs: ×${
            ratio(bare.tls_relayed_us, bare.tls_direct_us)
          }`,
      );
    }
    console.log(`load after: ${loadAvg()}`);
    console.log(JSON.stringify({ processes: results, floor: bare }));
    if (!opts.inProcess) return;
    const local = await inProcess(n);
    console.log(`\nthe same in one process (WebSockets on loopback, one event loop):\n`);
    table(local);
    console.log(
      `\nhop cost in one process: p50 ×${ratio(local[1].p50_us, local[0].p50_us)}, ` +
        `calls/s ×${ratio(local[1].calls_per_s, local[0].calls_per_s)}`,
    );
    console.log(JSON.stringify({ inProcess: local }));
  } finally {
    for (const c of conns) await c.close();
    for (const p of procs.reverse()) await p.stop("SIGTERM", 10_000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const arg = (flag: string) => {
    const i = Deno.args.indexOf(flag);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  if (Deno.args.includes("--in-process-only")) {
    const local = await inProcess(Number(arg("--calls") ?? 5000));
    console.log(`load: ${loadAvg()}`);
    table(local);
    console.log(
      `\nhop cost in one process: p50 ×${ratio(local[1].p50_us, local[0].p50_us)}, ` +
        `calls/s ×${ratio(local[1].calls_per_s, local[0].calls_per_s)}`,
    );
    Deno.exit(0);
  }
  await main({
    calls: Number(arg("--calls") ?? 5000),
    prof: arg("--prof"),
    record: !Deno.args.includes("--no-record"),
    inProcess: !Deno.args.includes("--no-in-process"),
    only: arg("--only") === undefined ? undefined : new RegExp(arg("--only")!),
    floor: !Deno.args.includes("--no-floor"),
  });
}
