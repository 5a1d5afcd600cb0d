/**
 * The floor of a hop for bench/mesh.ts: sequential round trips over plain
 * TCP (TCP_NODELAY, no TLS, no call protocol) between two processes
 * (client → echo) against three (client → relay → echo), and with the relay
 * as a thread of the echo process (three tasks, two address spaces); then
 * the same two and three processes with Deno's TLS on every leg, as a head
 * and its TLS workers have. Run on its own:
 *
 * ```sh
 * deno run -A bench/mesh_floor.ts [--calls 5000]
 * ```
 *
 * @module
 */

import { SELF_SIGNED_FILES, selfSignedCertificate } from "@alknet/core/transport";
import { Proc } from "../tests/helpers.ts";

const START_MS = 30_000;
/** The name of the Worker that runs the relay inside the echo process (then its port). */
const THREAD_RELAY = "floor-relay:";

function median(sorted: number[]): number {
  return sorted[Math.floor(sorted.length / 2)];
}

/** Bytes per message of the floor measurement (about a call frame through TLS). */
export const FLOOR_BYTES = 256;

/**
 * A process of the floor measurement (`--role echo` or `--role relay
 * UPPORT`): plain TCP with TCP_NODELAY, no TLS, no call protocol. The echo
 * writes back what it reads; the relay passes each message to the echo at
 * UPPORT and the answer back, one message at a time, like a head.
 */
async function floorRole(
  role: string,
  upPort: number,
  label = "port",
  tls?: Tls,
): Promise<void> {
  const listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: tls.cert, key: tls.key })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const up = role === "relay" ? await dial(upPort, tls) : undefined;
  const port = (listener.addr as Deno.NetAddr).port;
  console.log(`${label}=${port}`);
  if (role === "echo" && !tls) {
    // The same relay as a thread of this process: three tasks in turn, two address spaces.
    new Worker(import.meta.url, { type: "module", name: `${THREAD_RELAY}${port}` });
  }
  const upBuf = new Uint8Array(64 * 1024);
  for await (const conn of listener) {
    if (!tls) (conn as Deno.TcpConn).setNoDelay(true); // (a TLS conn has no setNoDelay)
    (async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        if (up) {
          await writeAll(up, buf.subarray(0, n));
          await readFull(up, upBuf, n);
          await writeAll(conn, upBuf.subarray(0, n));
        } else await writeAll(conn, buf.subarray(0, n));
      }
      conn.close();
    })();
  }
}

/** A certificate and key (PEM) for the TLS floor. */
interface Tls {
  cert: string;
  key: string;
}

/** TCP with TCP_NODELAY to `port`, then TLS over it when `tls` is given (as a worker dials). */
async function dial(port: number, tls?: Tls): Promise<Deno.Conn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  return tls ? await Deno.startTls(tcp, { hostname: "localhost", caCerts: [tls.cert] }) : tcp;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

async function readFull(conn: Deno.Conn, buf: Uint8Array, n: number): Promise<void> {
  for (let got = 0; got < n;) {
    const r = await conn.read(buf.subarray(got, n));
    if (r === null) throw new Error("closed");
    got += r;
  }
}

/**
 * The floor of a hop on this machine: sequential round trips of
 * {@link FLOOR_BYTES} over plain TCP between two processes (client → echo)
 * against three (client → relay → echo), in alternating rounds. Whatever a
 * head does, its path cannot beat this ratio. `threaded_us`: the same relay
 * as a thread of the echo process (three tasks in turn but two address
 * spaces), which tells the cost of a third process from the cost of a
 * third task.
 */
export async function floor(
  n: number,
  rounds: number,
): Promise<
  {
    direct_us: number;
    relayed_us: number;
    threaded_us: number;
    tls_direct_us: number;
    tls_relayed_us: number;
  }
> {
  const self = new URL(import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "alknet-floor-" });
  const ck = await selfSignedCertificate(dir, { names: ["localhost"] });
  const tls: Tls = { cert: ck.cert, key: ck.key };
  const tlsArgs = ["--tls", dir];
  const spawn = (...args: string[]) =>
    Proc.spawn(Deno.execPath(), ["run", "-A", "--quiet", self, "--role", ...args]);
  const echo = spawn("echo", "0");
  const tlsEcho = spawn("echo", "0", ...tlsArgs);
  const procs = [echo, tlsEcho];
  const conns: Deno.Conn[] = [];
  try {
    const echoPort = (await echo.waitFor(/^port=(\d+)/, START_MS))[1];
    const threadPort = (await echo.waitFor(/^thread-port=(\d+)/, START_MS))[1];
    const tlsEchoPort = (await tlsEcho.waitFor(/^port=(\d+)/, START_MS))[1];
    const relay = spawn("relay", echoPort);
    const tlsRelay = spawn("relay", tlsEchoPort, ...tlsArgs);
    procs.push(relay, tlsRelay);
    const relayPort = (await relay.waitFor(/^port=(\d+)/, START_MS))[1];
    const tlsRelayPort = (await tlsRelay.waitFor(/^port=(\d+)/, START_MS))[1];
    for (const port of [echoPort, relayPort, threadPort]) conns.push(await dial(Number(port)));
    for (const port of [tlsEchoPort, tlsRelayPort]) conns.push(await dial(Number(port), tls));
    const msg = new Uint8Array(FLOOR_BYTES).fill(120);
    const buf = new Uint8Array(FLOOR_BYTES);
    const rtt = async (c: Deno.Conn, count: number, into: number[]) => {
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await writeAll(c, msg);
        await readFull(c, buf, FLOOR_BYTES);
        into.push((performance.now() - t) * 1000);
      }
    };
    for (const c of conns) await rtt(c, 2000, []);
    const lat = conns.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < conns.length; i++) await rtt(conns[i], Math.ceil(n / rounds), lat[i]);
    }
    const [direct, relayed, threaded, tlsDirect, tlsRelayed] = lat.map((l) =>
      Math.round(median(l.sort((a, b) => a - b)))
    );
    return {
      direct_us: direct,
      relayed_us: relayed,
      threaded_us: threaded,
      tls_direct_us: tlsDirect,
      tls_relayed_us: tlsRelayed,
    };
  } finally {
    for (const c of conns) c.close();
    for (const p of procs) await p.stop("SIGTERM", 10_000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const workerName = (globalThis as { name?: string }).name;
if (typeof workerName === "string" && workerName.startsWith(THREAD_RELAY)) {
  await floorRole("relay", Number(workerName.slice(THREAD_RELAY.length)), "thread-port");
} else if (import.meta.main) {
  const arg = (flag: string) => {
    const i = Deno.args.indexOf(flag);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const role = arg("--role");
  if (role !== undefined) {
    const tlsDir = arg("--tls");
    const tls = tlsDir === undefined ? undefined : {
      cert: await Deno.readTextFile(`${tlsDir}/${SELF_SIGNED_FILES.cert}`),
      key: await Deno.readTextFile(`${tlsDir}/${SELF_SIGNED_FILES.key}`),
    };
    await floorRole(role, Number(Deno.args[Deno.args.indexOf("--role") + 2]), "port", tls);
  } else {
    const r = await floor(Number(arg("--calls") ?? 5000), 5);
    console.log(
      `plain TCP, ${FLOOR_BYTES} B: client → echo p50 ${r.direct_us} µs, ` +
        `client → relay → echo ${r.relayed_us} µs: ×${(r.relayed_us / r.direct_us).toFixed(2)}; ` +
        `relay as a thread of the echo process ${r.threaded_us} µs: ×${
          (r.threaded_us / r.direct_us).toFixed(2)
        }\nTLS on every leg: client → echo p50 ${r.tls_direct_us} µs, client → relay → echo ${r.tls_relayed_us} µs: ×${
          (r.tls_relayed_us / r.tls_direct_us).toFixed(2)
        }`,
    );
  }
}
