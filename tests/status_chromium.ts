/**
 * Headless Debian Chromium driven over the DevTools protocol, for the status
 * page tests: start it on a fresh profile with `--remote-debugging-port=0`,
 * read the port from `DevToolsActivePort`, talk CDP over a WebSocket
 * (`npm:ws`), evaluate in the page, poll the DOM (bounded), take
 * screenshots; stop it by PID and remove its profile.
 *
 * Also a small tool:
 *
 * ```sh
 * deno run -A tests/status_chromium.ts 'http://127.0.0.1:8099/?token=...' --screenshot status.png [--full]
 * ```
 *
 * @module
 */

// @ts-types="@types/ws"
import WebSocket from "ws";

/** Where Debian installs Chromium (`.ci/run` installs the package). */
export const CHROMIUM = "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--no-default-browser-check",
  "--mute-audio",
  "--window-size=1200,900",
  "--remote-debugging-port=0",
];

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

/** One CDP connection (the browser endpoint) with flattened target sessions. */
class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<
    (method: string, params: Record<string, unknown>, session?: string) => void
  >();
  #closed = false;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`CDP: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method !== undefined) {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    });
    ws.on("close", () => {
      this.#closed = true;
      for (const p of this.#pending.values()) p.reject(new Error("CDP connection closed"));
      this.#pending.clear();
    });
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once("open", () => resolve(new Cdp(ws)));
      ws.once("error", reject);
    });
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new Error("CDP connection closed"));
    const id = this.#next++;
    const msg: Record<string, unknown> = { id, method, params };
    if (sessionId !== undefined) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#ws.send(JSON.stringify(msg));
    });
  }

  on(listener: (method: string, params: Record<string, unknown>, session?: string) => void) {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once("close", () => resolve());
      this.#ws.close();
    });
  }
}

/** A page (a CDP target session). */
export class Page {
  readonly #cdp: Cdp;
  readonly #session: string;

  /** @internal */
  constructor(cdp: Cdp, session: string) {
    this.#cdp = cdp;
    this.#session = session;
  }

  /** Sends a CDP command to this page. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.#cdp.send(method, params, this.#session);
  }

  /** Loads `url` and waits for its load event (bounded). */
  async navigate(url: string, timeoutMs = 30_000): Promise<void> {
    let stop = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loaded = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${url}: no load event`)), timeoutMs);
      stop = this.#cdp.on((method, _p, session) => {
        if (method === "Page.loadEventFired" && session === this.#session) resolve();
      });
    });
    loaded.catch(() => {}); // awaited below, or abandoned when navigating fails
    try {
      const r = await this.send("Page.navigate", { url });
      if (typeof r.errorText === "string") throw new Error(`${url}: ${r.errorText}`);
      await loaded;
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  /** Evaluates `expression` in the page and returns its value (JSON). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true });
    const ex = r.exceptionDetails as { text?: string } | undefined;
    if (ex !== undefined) throw new Error(`page: ${ex.text ?? "exception"} in ${expression}`);
    return (r.result as { value: T }).value;
  }

  /** Polls `expression` every 100 ms until it is truthy (bounded); returns the value. */
  async waitFor<T>(expression: string, what: string, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < end) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what} (last value ${JSON.stringify(last)})`);
  }

  /** A PNG of the page as shown now (`full`: the whole page, not only the window). */
  async screenshot(full = false): Promise<Uint8Array> {
    const params: Record<string, unknown> = { format: "png" };
    if (full) {
      const m = await this.send("Page.getLayoutMetrics");
      const size = m.cssContentSize as { width: number; height: number };
      params.captureBeyondViewport = true;
      params.clip = { x: 0, y: 0, width: size.width, height: size.height, scale: 1 };
    }
    const r = await this.send("Page.captureScreenshot", params);
    const bin = atob(r.data as string);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  /** Writes {@link screenshot} to `file` (what the tool's `--screenshot FILE` does). */
  async screenshotTo(file: string, full = false): Promise<Uint8Array> {
    const png = await this.screenshot(full);
    await Deno.writeFile(file, png);
    return png;
  }
}

/** A running headless Chromium with a throwaway profile. */
export class Chromium {
  readonly #child: Deno.ChildProcess;
  readonly #dir: string;
  readonly #cdp: Cdp;
  readonly #stderr: Promise<string>;

  private constructor(child: Deno.ChildProcess, dir: string, cdp: Cdp, stderr: Promise<string>) {
    this.#child = child;
    this.#dir = dir;
    this.#cdp = cdp;
    this.#stderr = stderr;
  }

  /** The browser's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Starts Chromium; fails loudly when it is not installed or does not come up. */
  static async launch(timeoutMs = 60_000): Promise<Chromium> {
    try {
      await Deno.stat(CHROMIUM);
    } catch {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    }
    const dir = await Deno.makeTempDir({ prefix: "alknet-chromium-" });
    const child = new Deno.Command(CHROMIUM, {
      args: [...FLAGS, `--user-data-dir=${dir}`, "about:blank"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = (async () => {
      let text = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        text = (text + chunk).slice(-8000);
      }
      return text;
    })();
    let exited = false;
    child.status.then(() => (exited = true));
    const end = Date.now() + timeoutMs;
    let endpoint: string | undefined;
    try {
      while (endpoint === undefined) {
        if (exited) throw new Error(`chromium exited early:\n${await stderr}`);
        if (Date.now() > end) throw new Error(`chromium did not start within ${timeoutMs} ms`);
        try {
          const [port, path] = (await Deno.readTextFile(`${dir}/DevToolsActivePort`)).split("\n");
          if (port && path) endpoint = `ws://127.0.0.1:${port.trim()}${path.trim()}`;
        } catch { /* not yet */ }
        if (endpoint === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      return new Chromium(child, dir, await Cdp.open(endpoint), stderr);
    } catch (e) {
      await stopProcess(child);
      await stderr.catch(() => "");
      await removeDir(dir);
      throw e;
    }
  }

  /** A new tab, attached. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.#cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.#cdp.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this.#cdp, sessionId as string);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    return page;
  }

  /** Closes the connection, stops the browser by PID, removes its profile. */
  async close(): Promise<void> {
    await this.#cdp.send("Browser.close", {}, undefined, 5000).catch(() => {});
    await this.#cdp.close();
    await stopProcess(this.#child);
    await this.#stderr.catch(() => "");
    await removeDir(this.#dir);
  }
}

async function stopProcess(child: Deno.ChildProcess): Promise<void> {
  const done = child.status.then(() => true);
  const within = (ms: number) =>
    Promise.race([done, new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  if (await within(3000)) return;
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  if (await within(10_000)) return;
  try {
    child.kill("SIGKILL");
  } catch { /* gone */ }
  await done;
}

async function removeDir(dir: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await Deno.remove(dir, { recursive: true });
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      await new Promise((r) => setTimeout(r, 100)); // a child may still be writing
    }
  }
}

/** True when `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length > sig.length && sig.every((b, i) => bytes[i] === b);
}

if (import.meta.main) {
  const [url, flag, file, full] = Deno.args;
  if (url === undefined || flag !== "--screenshot" || file === undefined) {
    console.error("usage: deno run -A tests/status_chromium.ts URL --screenshot FILE [--full]");
    Deno.exit(2);
  }
  const browser = await Chromium.launch();
  try {
    const page = await browser.newPage();
    await page.navigate(url);
    const png = await page.screenshotTo(file, full === "--full");
    console.log(`${file}: ${png.length} bytes`);
  } finally {
    await browser.close();
  }
}
