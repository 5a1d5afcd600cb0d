/**
 * Test helpers for end-to-end tests: run the `alknet` CLI as a real process
 * and wait for its log lines, throwaway keys, loopback echo and HTTP
 * servers, and a raw SOCKS5 client that reports reply codes.
 *
 * @module
 */

import { generateEd25519Key } from "@alknet/core";

/** The repository root (where `cli.ts` lives). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/**
 * Options for the real OpenSSH client in tests: no user config, no known
 * hosts, no prompts, only the key given with `-i`.
 */
export const OPENSSH_CLIENT_OPTIONS: readonly string[] = [
  "-F",
  "/dev/null",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "BatchMode=yes",
  "-o",
  "IdentitiesOnly=yes",
];

/** A running child process whose output lines are collected. */
export class Proc {
  /** Every line printed so far on stdout and stderr. */
  readonly lines: string[] = [];
  #child: Deno.ChildProcess;
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  #done: Promise<Deno.CommandStatus>;
  #pumps: Promise<void>[];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#pumps = [this.#pump(child.stdout), this.#pump(child.stderr)];
    this.#done = child.status;
  }

  /** Starts `cmd args` with piped output. */
  static spawn(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
    const child = new Deno.Command(cmd, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
    }).spawn();
    return new Proc(child);
  }

  /** Starts `deno run -A cli.ts ...args`. */
  static alknet(args: string[], env: Record<string, string> = {}): Proc {
    return Proc.spawn(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}cli.ts`, ...args], env);
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      rest += dec.decode(chunk, { stream: true });
      let i;
      while ((i = rest.indexOf("\n")) >= 0) {
        this.#line(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    }
    if (rest) this.#line(rest);
  }

  #line(line: string): void {
    this.lines.push(line);
    if (Deno.env.get("ALKNET_TEST_VERBOSE")) console.error(`[${this.pid}] ${line}`);
    this.#waiters = this.#waiters.filter((w) => {
      const m = line.match(w.re);
      if (m) w.resolve(m);
      return !m;
    });
  }

  /** Resolves with the first line (already seen or future) matching `re`; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out waiting for ${re} from pid ${this.pid}; output:\n${this.lines.join("\n")}`,
          ),
        );
      }, timeoutMs);
      const done = (m: RegExpMatchArray) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push({ re, resolve: done });
      this.#done.then(() => {
        // Let the output pumps finish before judging.
        Promise.all(this.#pumps).then(() => {
          if (this.#waiters.some((w) => w.resolve === done)) {
            clearTimeout(timer);
            this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
            reject(
              new Error(
                `pid ${this.pid} exited before printing ${re}; output:\n${this.lines.join("\n")}`,
              ),
            );
          }
        });
      });
    });
  }

  /** Waits for the process to exit on its own (bounded) and returns its status. */
  async wait(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* gone */ }
        reject(
          new Error(
            `pid ${this.pid} did not exit within ${timeoutMs} ms; last output:\n${
              this.lines.slice(-20).join("\n")
            }`,
          ),
        );
      }, timeoutMs);
    });
    try {
      const status = await Promise.race([this.#done, timeout]);
      await Promise.all(this.#pumps);
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` (default SIGTERM) and waits for exit; SIGKILL after `timeoutMs`. */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
    return await this.wait(timeoutMs);
  }
}

/** Files of a throwaway key pair. */
export interface KeyFiles {
  /** Private key path. */
  path: string;
  /** Public key path. */
  pub: string;
  /** `SHA256:` fingerprint. */
  fingerprint: string;
  /** The `.pub` line. */
  publicLine: string;
}

/** Writes a fresh Ed25519 key pair into `dir`. */
export async function makeKey(dir: string, name: string): Promise<KeyFiles> {
  const k = generateEd25519Key(`${name}@test`);
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, k.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${path}.pub`, k.publicLine + "\n");
  return { path, pub: `${path}.pub`, fingerprint: k.fingerprint, publicLine: k.publicLine };
}

/** A port that was free a moment ago on `host`. */
export function freePort(host = "127.0.0.1"): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A port free for both TCP and UDP a moment ago on 127.0.0.1 (a node's
 * tls:// and quic:// listeners share it, so a pinned QUIC dial can read the
 * certificate over TLS on the same port).
 */
export function freeTcpUdpPort(): number {
  for (let i = 0; i < 20; i++) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
      return port;
    } catch {
      // taken for UDP: try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no port free for both TCP and UDP after 20 tries");
}

/** A loopback TCP echo server. */
export function echoServer(host = "127.0.0.1"): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: host, port: 0 });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        conns.add(conn);
        (async () => {
          const buf = new Uint8Array(64 * 1024);
          try {
            while (true) {
              const n = await conn.read(buf);
              if (n === null) break;
              let off = 0;
              while (off < n) off += await conn.write(buf.subarray(off, n));
            }
            await conn.closeWrite().catch(() => {});
          } catch {
            /* reset */
          } finally {
            conns.delete(conn);
            try {
              conn.close();
            } catch { /* closed */ }
          }
        })();
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

/** A loopback HTTP server answering every request with `body`. */
export function httpServer(
  body: string,
  hostname = "127.0.0.1",
): { port: number; close(): Promise<void> } {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname, port: 0, signal: ac.signal, onListen: () => {} },
    () => new Response(body, { headers: { "content-type": "text/plain" } }),
  );
  return {
    port: server.addr.port,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

/** Reads exactly `n` bytes (or fewer at end of stream). */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    while (have < n) {
      const r = await Promise.race([conn.read(out.subarray(have)), timeout]);
      if (r === null) break;
      have += r;
    }
  } finally {
    clearTimeout(timer);
  }
  return out.subarray(0, have);
}

/** Opens a raw SOCKS5 CONNECT; returns the reply code and the connection. */
export async function socks5Connect(
  proxyPort: number,
  target: { host: string; port: number; atyp?: 1 | 3 | 4 },
): Promise<{ reply: number; conn: Deno.TcpConn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxyPort });
  conn.setNoDelay(true);
  await conn.write(new Uint8Array([5, 1, 0]));
  const m = await readExactly(conn, 2);
  if (m[0] !== 5 || m[1] !== 0) throw new Error(`method reply ${m}`);
  const atyp = target.atyp ??
    (/^\d+\.\d+\.\d+\.\d+$/.test(target.host) ? 1 : target.host.includes(":") ? 4 : 3);
  let addr: Uint8Array;
  if (atyp === 1) addr = new Uint8Array(target.host.split(".").map(Number));
  else if (atyp === 4) addr = ipv6Bytes(target.host);
  else {
    const d = new TextEncoder().encode(target.host);
    addr = new Uint8Array([d.length, ...d]);
  }
  await conn.write(new Uint8Array([5, 1, 0, atyp, ...addr, target.port >> 8, target.port & 255]));
  const head = await readExactly(conn, 10);
  return { reply: head.length >= 2 ? head[1] : -1, conn };
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, ""];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) =>
    parseInt(g, 16)
  );
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}

/** Runs a command to completion (bounded) and returns its output. */
export async function run(
  cmd: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    env: options.env,
    cwd: ROOT,
    stdin: options.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, options.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the alknet CLI to completion. */
export function runAlknet(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}cli.ts`, ...args], options);
}

/** The environment of an alknet process in a test: no colours, config and data under `dir`. */
export function alknetEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NO_COLOR: "1",
    XDG_CONFIG_HOME: `${dir}/config`,
    XDG_DATA_HOME: `${dir}/data`,
    ...extra,
  };
}

/** The library worker tests/mesh_worker.ts joining the head at `url` as `name` (key file, host pin). */
export function meshWorkerProgram(
  url: string,
  keyPath: string,
  pin: string,
  name: string,
  env: Record<string, string>,
): Proc {
  return Proc.spawn(
    Deno.execPath(),
    ["run", "-A", "--quiet", `${ROOT}tests/mesh_worker.ts`, url, keyPath, pin, name],
    env,
  );
}

/** Fails loudly when a required external tool is missing (tests never skip silently). */
export async function requireTool(name: string): Promise<string> {
  const r = await run("sh", ["-c", `command -v ${name}`]).catch(() => ({ code: 1, stdout: "" }));
  const path = r.stdout.trim();
  if (r.code !== 0 || !path) {
    throw new Error(
      `required tool '${name}' is not installed; run .ci/run (it installs openssh-client, openssh-server and curl)`,
    );
  }
  return path;
}

/** Starts `alknet serve` on a free loopback port and waits until it listens. */
export async function startServe(
  dir: string,
  extra: string[] = [],
  opts: { hostKey?: string; authorizedKeys?: string; listen?: string[] } = {},
): Promise<{ proc: Proc; port: number }> {
  const listen = opts.listen ?? ["127.0.0.1:0"];
  const proc = Proc.alknet([
    "serve",
    ...listen.flatMap((l) => ["--listen", l]),
    "--host-key",
    opts.hostKey ?? `${dir}/host`,
    ...(opts.authorizedKeys === ""
      ? []
      : ["--authorized-keys", opts.authorizedKeys ?? `${dir}/authorized_keys`]),
    ...extra,
  ]);
  const m = await proc.waitFor(/listening addr=\S+:(\d+)/);
  return { proc, port: Number(m[1]) };
}

/** Starts `alknet connect` with a SOCKS5 listener on a free port and waits until it is up. */
export async function startConnect(
  dir: string,
  serverPort: number,
  extra: string[] = [],
  opts: { identity?: string; server?: string } = {},
): Promise<{ proc: Proc; socksPort: number }> {
  const proc = Proc.alknet([
    "connect",
    opts.server ?? `127.0.0.1:${serverPort}`,
    "--identity",
    opts.identity ?? `${dir}/id`,
    "--known-hosts",
    `${dir}/known_hosts`,
    "--socks5",
    "127.0.0.1:0",
    ...extra,
  ]);
  const m = await proc.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/);
  return { proc, socksPort: Number(m[1]) };
}

/** A temp dir with a host key, a client key `id` and an authorized_keys file for it. */
export async function keyDir(): Promise<{ dir: string; host: KeyFiles; id: KeyFiles }> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-test-" });
  const host = await makeKey(dir, "host");
  const id = await makeKey(dir, "id");
  await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");
  return { dir, host, id };
}

/** SHA-256 hex of bytes. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Sends `size` bytes through a SOCKS5 CONNECT to an echo server and checks
 * they come back unchanged; returns the SOCKS reply code (0 when it worked).
 */
export async function socksEcho(
  socksPort: number,
  echoPort: number,
  size = 1024 * 1024,
): Promise<number> {
  const { reply, conn } = await socks5Connect(socksPort, { host: "127.0.0.1", port: echoPort });
  if (reply !== 0) {
    conn.close();
    return reply;
  }
  const data = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 255);
  const writer = (async () => {
    for (let off = 0; off < size;) off += await conn.write(data.subarray(off, off + 65536));
  })();
  const back = await readExactly(conn, size, 30_000);
  await writer;
  conn.close();
  if (await sha256Hex(back) !== await sha256Hex(data)) {
    throw new Error("SOCKS echo: checksum mismatch");
  }
  return 0;
}

/**
 * Writes an OpenSSH `sshd_config` for a test daemon on 127.0.0.1:`port`
 * (public keys only, forwarding allowed, no PAM, no strict modes) and makes
 * sure `/run/sshd` exists; returns the config path for `sshd -D -e -f`.
 */
export async function writeSshdConfig(
  dir: string,
  options: { port: number; hostKey: string; authorizedKeys: string; extra?: string[] },
): Promise<string> {
  await Deno.mkdir("/run/sshd", { recursive: true }).catch(() => {});
  const path = `${dir}/sshd_config`;
  await Deno.writeTextFile(
    path,
    [
      `Port ${options.port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${options.hostKey}`,
      `AuthorizedKeysFile ${options.authorizedKeys}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      "StrictModes no",
      "UsePAM no",
      `PidFile ${dir}/sshd.pid`,
      ...(options.extra ?? []),
    ].join("\n") + "\n",
  );
  return path;
}
