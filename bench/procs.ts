/**
 * Process plumbing shared by the benchmark scripts: start children (the
 * `alknet` CLI or any command), wait for a stderr line, stop them all.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** The children a benchmark started; `stopAll` ends them (SIGTERM) and waits. */
export class Children {
  #all: Deno.ChildProcess[] = [];

  /** Starts `cmd args` with stderr piped (read it with {@link waitLine}). */
  spawn(cmd: string, args: string[]): Deno.ChildProcess {
    const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .spawn();
    this.#all.push(child);
    return child;
  }

  /** Starts `deno run -A cli.ts ...args`. */
  alknet(args: string[]): Deno.ChildProcess {
    return this.spawn(Deno.execPath(), ["run", "-A", `${ROOT}cli.ts`, ...args]);
  }

  /** Sends SIGTERM to every child and waits for all of them. */
  async stopAll(): Promise<void> {
    for (const c of this.#all) {
      try {
        c.kill("SIGTERM");
      } catch { /* gone */ }
    }
    await Promise.all(this.#all.map((c) => c.status));
  }
}

/**
 * Reads the child's stderr until `re` matches (bounded by `ms`), then keeps
 * draining it so the child never blocks on a full pipe. Call once per child.
 */
export async function waitLine(
  child: Deno.ChildProcess,
  re: RegExp,
  ms = 20_000,
): Promise<RegExpMatchArray> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((res) => setTimeout(() => res(null), deadline - Date.now())),
    ]);
    if (r === null || r.done) break;
    text += r.value;
    const m = text.match(re);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return m;
    }
  }
  throw new Error(`timed out waiting for ${re}; got:\n${text}`);
}

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

/** `[ppid, utime + stime in ticks]` of one process, or null when it is gone. */
function statOf(pid: number): [number, number] | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // Fields after "(comm)": state ppid ... utime(14) stime(15) counted from 1.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return [Number(f[1]), Number(f[11]) + Number(f[12])];
}

/**
 * CPU seconds (user + system) used so far by `pid` and every live
 * descendant (sshd forks a process per session; count them all).
 */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    const p = Number(e.name);
    if (!Number.isInteger(p) || p <= 0) continue;
    const s = statOf(p);
    if (!s) continue;
    ticks.set(p, s[1]);
    const list = children.get(s[0]) ?? [];
    list.push(p);
    children.set(s[0], list);
  }
  let total = 0;
  const todo = [pid];
  for (let i = 0; i < todo.length && i < 10_000; i++) {
    total += ticks.get(todo[i]) ?? 0;
    todo.push(...(children.get(todo[i]) ?? []));
  }
  return total / CLK_TCK;
}

/** Waits (bounded: 10 s) until something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`port ${port} never opened`);
}
