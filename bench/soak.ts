/**
 * Soak: `--connections` (default 1,000) concurrent SOCKS5 connections
 * through one `alknet connect` tunnel (one SSH session over tcp://) to an
 * echo server, for `--minutes` (default 10), every round trip's bytes
 * compared with what was sent and every connection's running checksums
 * compared when it closes; meanwhile a hostile mix from another address
 * (::1) keeps hitting the node: slowloris HTTP on its TLS port, silent
 * clients, garbage and stalled SSH banners on its SSH port, garbage on its
 * TLS port, each wave relaunched when the last one ends. Every
 * `--sample-s` seconds it prints the node's and the client's RSS and open
 * files (/proc), the traffic and the errors; at the end, a summary (both
 * must level off; errors must be 0).
 *
 * The echo server runs in a process of its own (`--echo`), so a busy
 * benchmark process cannot make the node's dials look slow.
 *
 * Usage: deno run -A bench/soak.ts [--minutes 10] [--connections 1000] [--sample-s 15]
 *        [--log-dir DIR]   (keep the node's and the client's log lines in DIR/node.log, DIR/client.log)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateEd25519Key } from "@alknet/core";
import { selfSignedCertificate, socks5ClientConnect } from "@alknet/core/transport";
import { Children } from "./procs.ts";
import { echoServer } from "../tests/helpers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    connections: { type: "string", default: "1000" },
    "sample-s": { type: "string", default: "15" },
    echo: { type: "boolean", default: false },
    "log-dir": { type: "string" },
  },
});
if (values.echo) {
  // Echo mode: serve until killed, print the port.
  const e = echoServer();
  console.log(e.port);
  await new Promise(() => {});
}
const MINUTES = Number(values.minutes);
const CONNECTIONS = Number(values.connections);
const SAMPLE_MS = Number(values["sample-s"]) * 1000;
const ROOT = new URL("..", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "alknet-soak-" });
const host = generateEd25519Key("host");
const id = generateEd25519Key("id");
await Deno.writeTextFile(`${dir}/host`, host.privateText, { mode: 0o600 });
await Deno.writeTextFile(`${dir}/id`, id.privateText, { mode: 0o600 });
await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");
const ck = await selfSignedCertificate(dir);
await Deno.writeTextFile(`${dir}/tls.crt`, ck.cert);
await Deno.writeTextFile(`${dir}/tls.key`, ck.key);

/** RSS (MiB), open files and CPU time (clock ticks) of a process, from /proc. */
async function usage(pid: number): Promise<{ rssMb: number; fds: number; ticks: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return { rssMb: kb / 1024, fds, ticks: Number(stat[11]) + Number(stat[12]) };
}

/** The 1-minute load average (how busy the machine is: the figures depend on it). */
async function load1(): Promise<number> {
  return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
}

/** FNV-1a over a stream of chunks. */
class Fnv {
  h = 0x811c9dc5;
  add(b: Uint8Array): void {
    let h = this.h;
    for (let i = 0; i < b.length; i++) {
      h ^= b[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    this.h = h;
  }
}

const stats = {
  rounds: 0,
  bytes: 0,
  served: 0,
  active: 0,
  errors: new Map<string, number>(),
};
const hostile = { waves: 0, opened: 0, failed: 0, closedByNode: 0, stillOpen: 0 };
const error = (kind: string) => stats.errors.set(kind, (stats.errors.get(kind) ?? 0) + 1);
const errorCount = () => [...stats.errors.values()].reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readFull(
  conn: Deno.Conn,
  out: Uint8Array,
  timeoutMs: number,
): Promise<"ok" | "eof" | "timeout"> {
  let have = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs));
  try {
    while (have < out.length) {
      const n = await Promise.race([conn.read(out.subarray(have)), late]);
      if (n === "late") return "timeout";
      if (n === null) return "eof";
      have += n;
    }
    return "ok";
  } finally {
    clearTimeout(timer);
  }
}

/** One legitimate client: connections of 20–90 s, checksummed echo round trips. */
async function worker(socksPort: number, echoPort: number, until: number): Promise<void> {
  const buf = new Uint8Array(8192);
  while (Date.now() < until) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port: socksPort });
      conn.setNoDelay(true);
      await socks5ClientConnect(conn, "127.0.0.1", echoPort);
    } catch (e) {
      error(`socks: ${(e as Error).message}`);
      await sleep(1000);
      continue;
    }
    stats.active++;
    const sent = new Fnv();
    const got = new Fnv();
    const end = Math.min(until, Date.now() + 20_000 + Math.random() * 70_000);
    let ok = true;
    try {
      while (Date.now() < end) {
        const size = 256 + Math.floor(Math.random() * 7936);
        const data = crypto.getRandomValues(new Uint8Array(size));
        sent.add(data);
        await conn.write(data);
        const back = buf.subarray(0, size);
        const r = await readFull(conn, back, 30_000);
        if (r !== "ok") {
          error(`echo: ${r === "eof" ? "closed early" : "no answer within 30 s"}`);
          ok = false;
          break;
        }
        got.add(back);
        for (let i = 0; i < size; i++) {
          if (back[i] !== data[i]) {
            error("echo: bytes differ");
            ok = false;
            break;
          }
        }
        if (!ok) break;
        stats.rounds++;
        stats.bytes += size;
        await sleep(100 + Math.random() * 400);
      }
      if (ok && sent.h !== got.h) error("echo: checksum differs");
    } catch (e) {
      error(`echo: ${(e as Error).name}`);
    } finally {
      stats.active--;
      try {
        conn.close();
      } catch { /* closed */ }
    }
    if (ok) stats.served++;
  }
}

/** Runs waves of one hostile kind until `until` (5 s between waves). */
async function hostileWaves(args: string[], until: number): Promise<void> {
  while (Date.now() < until) {
    const holdMs = Math.max(1000, until - Date.now());
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        `${ROOT}tests/hostile.ts`,
        ...args,
        "--hold-ms",
        String(holdMs),
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    hostile.waves++;
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      if (!line.trim()) continue;
      const e = JSON.parse(line);
      if (e.event === "opened") {
        hostile.opened += e.ok;
        hostile.failed += e.failed;
      } else if (e.event === "done") {
        hostile.closedByNode += e.closedByPeer;
        hostile.stillOpen += e.open;
      }
    }
    await sleep(5000);
  }
}

/**
 * Reads a child's stderr until `re` matches (bounded), then keeps reading
 * it (so the child never blocks on a full pipe), appending every line to
 * `file` when given.
 */
async function watchLog(
  child: Deno.ChildProcess,
  re: RegExp,
  file?: string,
): Promise<RegExpMatchArray> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const out = file ? await Deno.open(file, { write: true, create: true, truncate: true }) : null;
  const enc = new TextEncoder();
  let text = "";
  let found: RegExpMatchArray | null = null;
  const deadline = Date.now() + 30_000;
  const pump = (async () => {
    while (true) {
      const r = await reader.read();
      if (r.done) break;
      if (out) await out.write(enc.encode(r.value));
      if (!found) {
        text += r.value;
        found = text.match(re);
      }
    }
    out?.close();
  })();
  while (!found && Date.now() < deadline) await sleep(50);
  if (!found) {
    void pump;
    throw new Error(`timed out waiting for ${re}; got:\n${text}`);
  }
  return found;
}

const logDir = values["log-dir"];
const children = new Children();
const echoProc = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "--quiet", new URL(import.meta.url).pathname, "--echo"],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const echoReader = echoProc.stdout.pipeThrough(new TextDecoderStream()).getReader();
const echo = { port: Number((await echoReader.read()).value?.trim()) };
try {
  const serve = children.alknet([
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--listen",
    "[::1]:0",
    "--listen",
    "tls://[::1]:0",
    "--tls-cert",
    `${dir}/tls.crt`,
    "--tls-key",
    `${dir}/tls.key`,
    "--host-key",
    `${dir}/host`,
    "--authorized-keys",
    `${dir}/authorized_keys`,
  ]);
  const s = await watchLog(
    serve,
    /addr=127\.0\.0\.1:(\d+)[\s\S]*addr=\[::1\]:(\d+) transport=tcp[\s\S]*addr=\[::1\]:(\d+) transport=tls/,
    logDir && `${logDir}/node.log`,
  );
  const [sshPort, sshPort6, tlsPort6] = [s[1], s[2], s[3]].map(Number);
  const connect = children.alknet([
    "connect",
    `127.0.0.1:${sshPort}`,
    "--identity",
    `${dir}/id`,
    "--host-key-fingerprint",
    host.fingerprint,
    "--socks5",
    "127.0.0.1:0",
  ]);
  const socksPort = Number(
    (await watchLog(
      connect,
      /socks5 listening addr=127\.0\.0\.1:(\d+)/,
      logDir && `${logDir}/client.log`,
    ))[1],
  );

  const started = Date.now();
  const until = started + MINUTES * 60_000;
  console.log(
    `soak: ${CONNECTIONS} SOCKS5 connections through one SSH tunnel for ${MINUTES} min; ` +
      `hostile mix from ::1 (slowloris on TLS, silent/garbage/banner-stall on SSH, garbage on TLS)`,
  );
  console.log(
    [
      ["t_s", 5],
      ["node_rss_MiB", 12],
      ["node_fds", 8],
      ["node_cpu%", 9],
      ["client_rss_MiB", 15],
      ["client_fds", 10],
      ["active", 7],
      ["rounds", 7],
      ["MiB", 6],
      ["served", 7],
      ["errors", 7],
      ["hostile_opened/closed", 22],
      ["load1", 6],
    ].map(([h, w]) => String(h).padStart(Number(w))).join(" "),
  );
  type Usage = { rssMb: number; fds: number; ticks: number };
  const samples: { t: number; node: Usage; client: Usage }[] = [];
  const sample = async () => {
    const t = (Date.now() - started) / 1000;
    if (samples.length > 0 && t - samples[samples.length - 1].t < 1) return;
    const node = await usage(serve.pid);
    const client = await usage(connect.pid);
    const prev = samples.at(-1);
    const cpu = prev ? (node.ticks - prev.node.ticks) / (t - prev.t) : 0; // ticks are 1/100 s
    samples.push({ t, node, client });
    console.log(
      [
        t.toFixed(0).padStart(5),
        node.rssMb.toFixed(1).padStart(12),
        String(node.fds).padStart(8),
        cpu.toFixed(0).padStart(9),
        client.rssMb.toFixed(1).padStart(15),
        String(client.fds).padStart(10),
        String(stats.active).padStart(7),
        String(stats.rounds).padStart(7),
        (stats.bytes / 1048576).toFixed(1).padStart(6),
        String(stats.served).padStart(7),
        String(errorCount()).padStart(7),
        `${hostile.opened}/${hostile.closedByNode}`.padStart(22),
        (await load1()).toFixed(1).padStart(6),
      ].join(" "),
    );
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  const workers = Array.from({ length: CONNECTIONS }, async (_, i) => {
    await sleep((i / CONNECTIONS) * 10_000); // ramp up over 10 s
    await worker(socksPort, echo.port, until);
  });
  const attacks = [
    [
      "--kind",
      "slowloris",
      "--host",
      "::1",
      "--port",
      String(tlsPort6),
      "--ca",
      `${dir}/tls.crt`,
      "--count",
      "100",
      "--interval-ms",
      "10000",
    ],
    ["--kind", "silent", "--host", "::1", "--port", String(sshPort6), "--count", "100"],
    ["--kind", "garbage", "--host", "::1", "--port", String(sshPort6), "--count", "100"],
    ["--kind", "banner-stall", "--host", "::1", "--port", String(sshPort6), "--count", "100"],
    ["--kind", "garbage", "--host", "::1", "--port", String(tlsPort6), "--count", "100"],
  ].map((args) => hostileWaves(args, until));
  await Promise.all(workers);
  await Promise.all(attacks);
  clearInterval(sampler);
  await sample();

  const first = samples[0];
  const third = samples[Math.floor(samples.length / 3)];
  const last = samples[samples.length - 1];
  const max = (f: (x: typeof first) => number) => Math.max(...samples.map(f));
  console.log("\nsummary");
  console.log(
    `  node:   RSS ${first.node.rssMb.toFixed(1)} -> ${third.node.rssMb.toFixed(1)} (t=${
      third.t.toFixed(0)
    } s) -> ${last.node.rssMb.toFixed(1)} MiB (max ${max((x) => x.node.rssMb).toFixed(1)}); ` +
      `open files ${first.node.fds} -> ${third.node.fds} -> ${last.node.fds} (max ${
        max((x) => x.node.fds)
      })`,
  );
  console.log(
    `  client: RSS ${first.client.rssMb.toFixed(1)} -> ${third.client.rssMb.toFixed(1)} -> ${
      last.client.rssMb.toFixed(1)
    } MiB (max ${max((x) => x.client.rssMb).toFixed(1)}); ` +
      `open files ${first.client.fds} -> ${third.client.fds} -> ${last.client.fds} (max ${
        max((x) => x.client.fds)
      })`,
  );
  console.log(
    `  legit:  ${stats.served} connections served, ${stats.rounds} round trips, ${
      (stats.bytes / 1048576).toFixed(1)
    } MiB each way, errors ${errorCount()}${
      stats.errors.size ? " " + JSON.stringify(Object.fromEntries(stats.errors)) : ""
    }`,
  );
  console.log(
    `  hostile: ${hostile.waves} waves, ${hostile.opened} connections opened (${hostile.failed} refused at connect), ` +
      `${hostile.closedByNode} closed by the node, ${hostile.stillOpen} still open when a wave ended`,
  );
  const grew = last.node.rssMb / third.node.rssMb;
  console.log(
    `  level:  node RSS last/one-third ${grew.toFixed(2)}, open files ${
      last.node.fds - third.node.fds >= 0 ? "+" : ""
    }${last.node.fds - third.node.fds}`,
  );
} finally {
  await children.stopAll();
  echoProc.kill("SIGTERM");
  await echoReader.cancel().catch(() => {});
  await echoProc.status;
  await Deno.remove(dir, { recursive: true });
}
