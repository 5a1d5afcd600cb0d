/**
 * Where a new SOCKS connection's time goes (not a test): for OpenSSH `ssh -D`,
 * alknet's native path over TLS and alknet's SSH over TCP, the medians of
 * each phase of many sequential connections to a loopback echo server: the
 * TCP connect to the SOCKS port, the greeting, the request until its reply
 * (the tunnel opens the stream and the node dials), and two 1 kB round
 * trips. The paths run one after another in the same run.
 *
 * ```sh
 * deno run -A bench/conn_phases.ts                      # 2000 connections per path
 * deno run -A bench/conn_phases.ts --connections 500 --only tls
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { echoServer, freePort, writeSshdConfig } from "../tests/helpers.ts";
import { Children, waitLine, waitPort } from "./procs.ts";
import { generateEd25519Key } from "@alknet/core";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "2000" },
    only: { type: "string", default: "openssh,tls,ssh" },
  },
});
const N = Number(values.connections);
const WARM = Math.min(50, Math.floor(N / 10));
const PHASES = ["tcp", "greeting", "request", "first 1 kB", "second 1 kB", "total"] as const;

const echo = echoServer();
const dir = await Deno.makeTempDir({ prefix: "alknet-phases-" });
const children = new Children();

async function readFull(c: Deno.Conn, n: number, buf: Uint8Array): Promise<void> {
  for (let have = 0; have < n;) {
    const got = await c.read(buf.subarray(have, n));
    if (got === null) throw new Error("the proxy closed the connection");
    have += got;
  }
}

/** Medians (ms) of each phase over `N` connections through the SOCKS proxy on `proxy`. */
async function phases(proxy: number): Promise<number[]> {
  const buf = new Uint8Array(4096);
  const req = new Uint8Array(1024).fill(120);
  const connect = new Uint8Array([5, 1, 0, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 255]);
  const samples: number[][] = PHASES.map(() => []);
  for (let i = 0; i < N + WARM; i++) {
    const t = [performance.now()];
    const c = await Deno.connect({ hostname: "127.0.0.1", port: proxy });
    c.setNoDelay(true);
    t.push(performance.now());
    await c.write(new Uint8Array([5, 1, 0]));
    await readFull(c, 2, buf);
    t.push(performance.now());
    await c.write(connect);
    await readFull(c, 10, buf);
    t.push(performance.now());
    for (let k = 0; k < 2; k++) {
      await c.write(req);
      await readFull(c, req.length, buf);
      t.push(performance.now());
    }
    c.close();
    if (i < WARM) continue;
    for (let p = 0; p < 5; p++) samples[p].push(t[p + 1] - t[p]);
    samples[5].push(t[5] - t[0]);
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[xs.length >> 1]);
}

try {
  const host = generateEd25519Key("phases-host");
  const id = generateEd25519Key("phases-id");
  await Deno.writeTextFile(`${dir}/host`, host.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/id`, id.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");
  const paths: { name: string; proxy: () => Promise<number> }[] = [];
  const only = new Set(values.only.split(","));
  if (only.has("openssh")) {
    paths.push({
      name: "OpenSSH ssh -D -> sshd",
      proxy: async () => {
        const port = freePort();
        const proxy = freePort();
        const config = await writeSshdConfig(dir, {
          port,
          hostKey: `${dir}/host`,
          authorizedKeys: `${dir}/authorized_keys`,
        });
        children.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config]);
        await waitPort(port);
        await waitLine(
          children.spawn("ssh", [
            ...["-F", "/dev/null", "-N", "-v", "-D", `127.0.0.1:${proxy}`, "-i", `${dir}/id`],
            ...["-p", String(port), "-o", "StrictHostKeyChecking=no"],
            ...[
              "-o",
              "UserKnownHostsFile=/dev/null",
              "-o",
              "BatchMode=yes",
              `${Deno.env.get("USER") ?? "root"}@127.0.0.1`,
            ],
          ]),
          /Entering interactive session|pledge: network/,
        );
        return proxy;
      },
    });
  }
  const alknet =
    (listen: string, pattern: RegExp, extra: (m: string[]) => string[]) => async () => {
      const serve = children.alknet([
        ...["serve", "--listen", listen, "--tls-self-signed", "--data-dir", `${dir}/data`],
        ...["--host-key", `${dir}/host`, "--authorized-keys", `${dir}/authorized_keys`],
      ]);
      const m = await waitLine(serve, pattern);
      const c = children.alknet([
        ...["connect", ...extra(m), "--identity", `${dir}/id`],
        ...["--host-key-fingerprint", host.fingerprint, "--socks5", "127.0.0.1:0"],
      ]);
      return Number((await waitLine(c, /socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    };
  if (only.has("tls")) {
    paths.push({
      name: "alknet, native over TLS",
      proxy: alknet(
        "tls://127.0.0.1:0",
        /fingerprint=(SHA256:[0-9a-f]+)[\s\S]*addr=127\.0\.0\.1:(\d+) transport=tls/,
        (m) => [`tls://127.0.0.1:${m[2]}`, "--tls-fingerprint", m[1], "--data-path", "direct"],
      ),
    });
  }
  if (only.has("ssh")) {
    paths.push({
      name: "alknet, SSH over TCP",
      proxy: alknet("127.0.0.1:0", /addr=127\.0\.0\.1:(\d+) transport=tcp/, (m) => [
        `127.0.0.1:${m[1]}`,
      ]),
    });
  }
  console.log(`${N} sequential new connections per path, median ms per phase`);
  console.log(["path".padEnd(26), ...PHASES.map((p) => p.padStart(12))].join(""));
  for (const path of paths) {
    const medians = await phases(await path.proxy());
    console.log([path.name.padEnd(26), ...medians.map((m) => m.toFixed(3).padStart(12))].join(""));
  }
} finally {
  await children.stopAll();
  await echo.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
