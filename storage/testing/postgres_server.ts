/**
 * A throwaway PostgreSQL server for tests: `initdb` in a temporary
 * directory, `pg_ctl start` on a free 127.0.0.1 port (no TCP elsewhere,
 * its socket in the same directory), stopped by the postmaster's PID.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user (through `runuser`). It fails loudly when PostgreSQL is missing:
 * tests must never skip silently.
 *
 * @module
 */

/**
 * Options of {@link PostgresServer.start}.
 *
 * @example
 * ```ts
 * import type { PostgresServerOptions } from "@alknet/storage/testing";
 * const options: PostgresServerOptions = { binDir: "/usr/lib/postgresql/15/bin", timeoutMs: 60_000 };
 * console.log(options.timeoutMs); // 60000
 * ```
 */
export interface PostgresServerOptions {
  /** Directory holding `initdb`, `pg_ctl`, `postgres` (default: `$ALKNET_PG_BIN`, else the newest `/usr/lib/postgresql/N/bin`). */
  binDir?: string;
  /** How long to wait for start and stop (default 30 s each). */
  timeoutMs?: number;
}

function findBinDir(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  const env = Deno.env.get("ALKNET_PG_BIN");
  if (env) candidates.push(env);
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name)
      .filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // No Debian layout.
  }
  for (const dir of candidates) {
    try {
      if (Deno.statSync(`${dir}/initdb`).isFile && Deno.statSync(`${dir}/pg_ctl`).isFile) {
        return dir;
      }
    } catch {
      // Try the next one.
    }
  }
  throw new Error(
    "PostgreSQL server binaries not found (looked in " +
      (candidates.join(", ") || "/usr/lib/postgresql/*/bin") +
      "): install Debian's postgresql package or set ALKNET_PG_BIN",
  );
}

function postgresUser(): { uid: number; gid: number } {
  const passwd = Deno.readTextFileSync("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[0] === "postgres") return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error("running as root, but there is no 'postgres' user to run PostgreSQL as");
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A running PostgreSQL server owned by the test process.
 *
 * @example
 * ```ts
 * import { PostgresServer } from "@alknet/storage/testing";
 * import { openStore } from "@alknet/storage";
 * const pg = await PostgresServer.start();
 * try {
 *   const store = await openStore(pg.location("test_one"));
 *   console.log(store.backend); // "postgres"
 *   await store.close();
 * } finally {
 *   await pg.stop();
 * }
 * ```
 */
export class PostgresServer {
  /** The port on 127.0.0.1. */
  readonly port: number;
  /** The postmaster's PID. */
  readonly pid: number;
  /** The temporary directory (data, socket, log). */
  readonly dir: string;
  readonly #timeoutMs: number;
  #stopped = false;

  private constructor(port: number, pid: number, dir: string, timeoutMs: number) {
    this.port = port;
    this.pid = pid;
    this.dir = dir;
    this.#timeoutMs = timeoutMs;
  }

  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** A store location in its own schema of the server's database. */
  location(schema: string): string {
    return `${this.url}?schema=${encodeURIComponent(schema)}`;
  }

  /** Runs `initdb` and starts the server; throws (never skips) when it cannot. */
  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const bin = findBinDir(options.binDir);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const root = Deno.uid() === 0;
    const dir = await Deno.makeTempDir({ prefix: "alknet-pg-" });
    if (root) {
      const { uid, gid } = postgresUser();
      await Deno.chown(dir, uid, gid);
    }
    await Deno.chmod(dir, 0o700);
    const run = async (args: string[]) => {
      const [cmd, rest] = root
        ? ["runuser", ["-u", "postgres", "--", ...args]]
        : [args[0], args.slice(1)];
      const out = await new Deno.Command(cmd, {
        args: rest as string[],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        cwd: dir,
        env: { LC_ALL: "C", TZ: "UTC" },
      }).output();
      if (!out.success) {
        const dec = new TextDecoder();
        let log = "";
        try {
          log = Deno.readTextFileSync(`${dir}/log`);
        } catch {
          // No log yet.
        }
        throw new Error(
          `${args[0]} failed (exit ${out.code}): ${dec.decode(out.stderr)}${
            dec.decode(out.stdout)
          }${log}`,
        );
      }
    };
    try {
      await copyTemplate(bin, dir, run);
      let lastError: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = freePort();
        const settings = [
          "-c listen_addresses=127.0.0.1",
          `-p ${port}`,
          `-k ${dir}`,
          "-c fsync=off",
          "-c synchronous_commit=off",
          "-c full_page_writes=off",
          "-c max_connections=300",
        ].join(" ");
        try {
          await run([
            `${bin}/pg_ctl`,
            "-D",
            `${dir}/data`,
            "-o",
            settings,
            "-l",
            `${dir}/log`,
            "-w",
            "-t",
            String(Math.ceil(timeoutMs / 1000)),
            "start",
          ]);
        } catch (e) {
          lastError = e;
          continue;
        }
        const pid = Number(Deno.readTextFileSync(`${dir}/data/postmaster.pid`).split("\n")[0]);
        if (!Number.isInteger(pid) || pid <= 0) throw new Error("postmaster.pid holds no PID");
        await startWatchdog(pid, dir);
        return new PostgresServer(port, pid, dir, timeoutMs);
      }
      throw lastError;
    } catch (e) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** Stops the server by PID (fast shutdown), waits for it to go, removes its directory. */
  stop(): Promise<void> {
    this.stopSync();
    return Promise.resolve();
  }

  /**
   * The same as {@link stop}, synchronously (usable from an `unload`
   * handler): SIGINT to the postmaster, wait (bounded) until its PID file
   * is gone, SIGKILL if it is not.
   */
  stopSync(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const pidFile = `${this.dir}/data/postmaster.pid`;
    try {
      Deno.kill(this.pid, "SIGINT");
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + this.#timeoutMs;
    while (exists(pidFile) && Date.now() < deadline) sleepSync(20);
    if (exists(pidFile)) {
      try {
        Deno.kill(this.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // Best effort.
    }
  }
}

type Runner = (args: string[]) => Promise<void>;

/**
 * If this process dies without stopping the server (killed, crashed), a
 * detached shell loop stops it: once our PID is gone, it sends SIGINT to
 * the postmaster, but only while the server's directory still holds a PID
 * file naming that PID (so a reused PID is never signalled), then removes
 * the directory. A normal stop removes the directory, which ends the loop.
 */
async function startWatchdog(pgPid: number, dir: string): Promise<void> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pidFile = `${dir}/data/postmaster.pid`;
  const loop = `while kill -0 ${Deno.pid} 2>/dev/null && [ -d ${q(dir)} ]; do sleep 1; done; ` +
    `if [ -f ${q(pidFile)} ] && [ "$(head -n 1 ${q(pidFile)})" = "${pgPid}" ]; then ` +
    `kill -INT ${pgPid}; i=0; while [ -f ${
      q(pidFile)
    } ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; ` +
    `rm -rf ${q(dir)}; fi`;
  const status = await new Deno.Command("sh", {
    args: ["-c", `(${loop}) </dev/null >/dev/null 2>&1 &`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (!status.success) throw new Error("could not start the PostgreSQL watchdog");
}

/**
 * An `initdb`'d data directory, made once per PostgreSQL version and user
 * in the temp dir and copied for each server (copying is ~5x faster than
 * `initdb`). It is made under a private name and renamed into place, so a
 * half-made template is never used.
 */
async function copyTemplate(bin: string, dir: string, run: Runner): Promise<void> {
  // The binaries' path and build time name the template: an upgrade makes a new one.
  const built = Deno.statSync(`${bin}/postgres`).mtime?.getTime() ?? 0;
  const version = `${bin.replace(/[^A-Za-z0-9]+/g, "_")}-${built}`;
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const template = `${tmp}/alknet-pg-template-${version}-${Deno.uid()}`;
  if (!exists(`${template}/ready`)) {
    const building = await Deno.makeTempDir({ prefix: "alknet-pg-template-build-" });
    try {
      if (Deno.uid() === 0) {
        const { uid, gid } = postgresUser();
        await Deno.chown(building, uid, gid);
      }
      await run([
        `${bin}/initdb`,
        "-D",
        `${building}/data`,
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
      ]);
      await Deno.writeTextFile(`${building}/ready`, "");
      await Deno.chmod(building, 0o755);
      try {
        await Deno.rename(building, template);
      } catch {
        // Another test process made it first.
      }
    } finally {
      await Deno.remove(building, { recursive: true }).catch(() => {});
    }
  }
  const out = await new Deno.Command("cp", {
    args: ["-a", `${template}/data`, `${dir}/data`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `copying the PostgreSQL template failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

let shared: Promise<PostgresServer> | null = null;

/**
 * One server per test process, started on first use and stopped when the
 * process unloads. A failure to start rejects (the test fails).
 *
 * @example
 * ```ts
 * import { sharedPostgres } from "@alknet/storage/testing";
 * const pg = await sharedPostgres();
 * console.log(pg.url.startsWith("postgres://postgres@127.0.0.1:")); // true
 * ```
 */
export function sharedPostgres(): Promise<PostgresServer> {
  if (!shared) {
    shared = PostgresServer.start();
    shared.then((server) => {
      globalThis.addEventListener("unload", () => server.stopSync());
    }, () => {});
  }
  return shared;
}
