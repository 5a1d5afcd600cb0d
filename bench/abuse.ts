/**
 * Abuse benchmark: a legitimate client's 1 kB SOCKS5 round-trip latency
 * through `alknet connect` → `alknet serve`, idle and while another address
 * (::1) hammers the server with bad logins. Real processes on loopback.
 *
 * The attacker runs in a process of its own, so it competes with the
 * server for the CPU the way a remote attacker's traffic would.
 *
 * Usage: deno run -A bench/abuse.ts [--attempts 200] [--parallel 8]
 *
 * @module
 */

import { echoServer } from "../tests/helpers.ts";
import { Children, waitLine } from "./procs.ts";
import { parseArgs } from "node:util";
import { connectSsh } from "@alknet/core/ssh";
import { generateEd25519Key, parsePrivateKey } from "@alknet/core";
import { socks5ClientConnect } from "@alknet/core/transport";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    attempts: { type: "string", default: "200" },
    parallel: { type: "string", default: "8" },
    "attack-port": { type: "string" },
    "attack-fp": { type: "string" },
  },
});
const ATTEMPTS = Number(values.attempts);
const PARALLEL = Number(values.parallel);

if (values["attack-port"]) {
  // Attacker mode: bad logins from ::1, then print how many were refused.
  const stranger = parsePrivateKey(generateEd25519Key("attacker").privateText, "attacker");
  let next = 0;
  let refused = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < ATTEMPTS) {
      next++;
      try {
        (await connectSsh({
          host: "::1",
          port: Number(values["attack-port"]),
          identity: stranger,
          hostKey: { pinnedFingerprint: values["attack-fp"]! },
          readyTimeoutMs: 5000,
        })).close();
      } catch {
        refused++;
      }
    }
  }));
  console.log(refused);
  Deno.exit(0);
}

const dir = await Deno.makeTempDir({ prefix: "alknet-abuse-" });
const host = generateEd25519Key("host");
const id = generateEd25519Key("id");
await Deno.writeTextFile(`${dir}/host`, host.privateText, { mode: 0o600 });
await Deno.writeTextFile(`${dir}/id`, id.privateText, { mode: 0o600 });
await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");

const echo = echoServer();

/** `n` sequential 1 kB round trips on `conn`, in milliseconds each. */
async function roundTrips(conn: Deno.Conn, n: number): Promise<number[]> {
  const req = new Uint8Array(1024).fill(1);
  const buf = new Uint8Array(65536);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await conn.write(req);
    for (let have = 0; have < req.length;) have += (await conn.read(buf)) ?? 0;
    out.push(performance.now() - t);
  }
  return out;
}

const children = new Children();
const start = (args: string[], re: RegExp) => waitLine(children.alknet(args), re);

try {
  const s = await start(
    [
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "[::1]:0",
      "--host-key",
      `${dir}/host`,
      "--authorized-keys",
      `${dir}/authorized_keys`,
    ],
    /addr=127\.0\.0\.1:(\d+)[\s\S]*addr=\[::1\]:(\d+)/,
  );
  const c = await start(
    [
      "connect",
      `127.0.0.1:${s[1]}`,
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      host.fingerprint,
      "--socks5",
      "127.0.0.1:0",
    ],
    /socks5 listening addr=127\.0\.0\.1:(\d+)/,
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(c[1]) });
  conn.setNoDelay(true);
  await socks5ClientConnect(conn, "127.0.0.1", echo.port);
  const rtts = (n: number) => roundTrips(conn, n);
  const p = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)];
  await rtts(200);
  const idle = await rtts(2000);

  let attacking = true;
  const attacker = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--attack-port",
      s[2],
      "--attack-fp",
      host.fingerprint,
      "--attempts",
      String(ATTEMPTS),
      "--parallel",
      String(PARALLEL),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output().finally(() => attacking = false);
  const during: number[] = [];
  while (attacking) during.push(...await rtts(20));
  const refused = Number(new TextDecoder().decode((await attacker).stdout).trim());
  conn.close();
  console.log(
    `bad logins: ${ATTEMPTS} attempts from ::1 (${PARALLEL} at a time), ${refused} refused`,
  );
  console.log(
    `legitimate 1 kB round trip, idle:   p50 ${p(idle, 0.5).toFixed(3)} ms  p99 ${
      p(idle, 0.99).toFixed(3)
    } ms`,
  );
  console.log(
    `legitimate 1 kB round trip, attack: p50 ${p(during, 0.5).toFixed(3)} ms  p99 ${
      p(during, 0.99).toFixed(3)
    } ms  (${during.length} samples)`,
  );
  console.log(`ratio p50 attack/idle: ${(p(during, 0.5) / p(idle, 0.5)).toFixed(2)}x`);
} finally {
  await children.stopAll();
  await echo.close();
  await Deno.remove(dir, { recursive: true });
}
