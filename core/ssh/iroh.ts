/**
 * The optional peer-to-peer transport: `iroh://NODEID` through iroh's
 * Node-API binding (`npm:@number0/iroh-<platform>`), loaded lazily on the
 * first `iroh://` listener or dial, so nobody else pays for it.
 *
 * URL forms:
 * - dial: `iroh://NODEID` (found through iroh's relays and discovery), or
 *   `iroh://NODEID@HOST:PORT` (a direct address; relays and discovery are
 *   still used unless `?relay=off`);
 * - listen: `iroh://` (every interface, ephemeral UDP port) or
 *   `iroh://HOST:PORT` (bind address);
 * - `?relay=off` on either: no relay servers and no discovery (iroh's
 *   minimal preset), so only direct addresses work: LANs, loopback, tests.
 *
 * NODEID is the endpoint's public key as iroh prints it (hex or base32).
 * On a listener, ALPN `alknet/ssh` runs one SSH session on the connection's
 * first bidirectional stream; `alknet/tcp` (native data path) and
 * `alknet/call` take one stream each. iroh authenticates the node id (the
 * QUIC handshake is bound to it); SSH still verifies the host key as on every
 * transport.
 *
 * The binding is a native module: Deno loads it only from a `node_modules`
 * directory (`"nodeModulesDir": "auto"` or `"manual"`), and only the
 * platform package is used (the `@number0/iroh` wrapper cannot be installed
 * by Deno, its optional dependencies name packages that were never
 * published). alknet pins `@number0/iroh-linux-x64-gnu`; on other platforms
 * add the matching package (see {@link IROH_PACKAGES}) to your imports.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { ByteConn } from "../transport/stream.ts";
import { ForwardSpecError, parseHostPort } from "../transport/hostport.ts";
import type { Logger } from "../util/log.ts";
import { hostPort } from "../transport/hostport.ts";
import type { ConnHandler, ConnInfo, EndpointHandlers } from "../transport/endpoint.ts";
import { TransportUrlError } from "../transport/errors.ts";
import { sharedSessionOpener } from "./native_path.ts";

/**
 * The npm package of iroh's native binding for each platform
 * (`${Deno.build.os}-${Deno.build.arch}`), version {@link IROH_VERSION}.
 *
 * @example
 * ```ts
 * import { IROH_PACKAGES } from "./iroh.ts";
 * console.log(IROH_PACKAGES["linux-x86_64"]); // "@number0/iroh-linux-x64-gnu"
 * ```
 */
export const IROH_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x86_64": "@number0/iroh-linux-x64-gnu",
  "linux-aarch64": "@number0/iroh-linux-arm64-gnu",
  "darwin-aarch64": "@number0/iroh-darwin-arm64",
  "windows-x86_64": "@number0/iroh-win32-x64-msvc",
  "windows-aarch64": "@number0/iroh-win32-arm64-msvc",
};

/**
 * The iroh binding version alknet is written against.
 *
 * @example
 * ```ts
 * import { IROH_VERSION } from "./iroh.ts";
 * console.log(IROH_VERSION); // "1.1.0"
 * ```
 */
export const IROH_VERSION = "1.1.0";

// The parts of the binding used here (its own .d.ts ships with the wrapper
// package, which Deno cannot install). Byte arrays cross as number arrays.
type Bytes = number[];
interface IrohEndpointId {
  toString(): string;
}
interface IrohSendStream {
  writeAll(buf: Bytes): Promise<void>;
  finish(): Promise<void>;
}
interface IrohRecvStream {
  read(sizeLimit: number): Promise<Bytes>;
  stop(code: bigint): Promise<void>;
}
interface IrohBiStream {
  readonly send: IrohSendStream;
  readonly recv: IrohRecvStream;
}
interface IrohConnection {
  alpn(): Bytes;
  remoteId(): IrohEndpointId;
  openBi(): Promise<IrohBiStream>;
  acceptBi(): Promise<IrohBiStream>;
  closed(): Promise<string>;
  close(code: bigint, reason: Bytes): void;
}
interface IrohIncoming {
  accept(): Promise<{ connect(): Promise<IrohConnection> }>;
  refuse(): Promise<void>;
  remoteAddr(): Promise<{ kind: string; addr?: string; endpointId?: string }>;
}
interface IrohEndpoint {
  id(): IrohEndpointId;
  boundSockets(): string[];
  connect(addr: unknown, alpn: Bytes): Promise<IrohConnection>;
  acceptNext(): Promise<IrohIncoming | null>;
  close(): Promise<void>;
}
interface IrohBuilder {
  applyN0(): void;
  applyMinimal(): void;
  secretKey(bytes: Bytes): void;
  alpns(alpns: Bytes[]): void;
  relayMode(mode: unknown): void;
  bindAddr(addr: string): void;
  bind(): Promise<IrohEndpoint>;
}
interface IrohModule {
  Endpoint: { builder(): IrohBuilder };
  EndpointAddr: new (id: unknown, relayUrl: string | null, addrs: string[]) => unknown;
  EndpointId: { fromString(s: string): unknown };
  RelayMode: { disabled(): unknown };
}

let loaded: IrohModule | undefined;

/**
 * Loads iroh's native binding (once). Resolution starts next to this module
 * and then at the working directory's `node_modules`.
 *
 * @throws {TransportUrlError} when the platform package cannot be loaded (with what to install)
 * @example
 * ```ts
 * import { loadIroh } from "./iroh.ts";
 * const ok = await loadIroh().then(() => true, () => false);
 * console.log(typeof ok); // "boolean"
 * ```
 */
export function loadIroh(): Promise<unknown> {
  try {
    return Promise.resolve(irohModule());
  } catch (e) {
    return Promise.reject(e);
  }
}

function irohModule(): IrohModule {
  if (loaded) return loaded;
  const platform = `${Deno.build.os}-${Deno.build.arch}`;
  const pkg = IROH_PACKAGES[platform];
  if (!pkg) {
    throw new TransportUrlError("iroh://", `no iroh binding is known for ${platform}`);
  }
  const bases = [import.meta.url, `file://${Deno.cwd()}/`].filter((b) => b.startsWith("file:"));
  const errors: string[] = [];
  for (const base of bases) {
    try {
      loaded = createRequire(base)(pkg) as IrohModule;
      return loaded;
    } catch (e) {
      errors.push((e as Error).message.split("\n")[0]);
    }
  }
  throw new TransportUrlError(
    "iroh://",
    `cannot load ${pkg} (add "${pkg}": "npm:${pkg}@${IROH_VERSION}" to your imports and use ` +
      `a node_modules directory, "nodeModulesDir": "auto"): ${errors.join("; ")}`,
  );
}

/**
 * A parsed `iroh://` URL (see the module notes).
 *
 * @example
 * ```ts
 * import type { IrohUrl } from "./iroh.ts";
 * const u: IrohUrl = { nodeId: "ab".repeat(32), host: "127.0.0.1", port: 4433, relay: false };
 * console.log(u.relay); // false
 * ```
 */
export interface IrohUrl {
  /** The peer's node id (dial); absent on a listen URL. */
  nodeId?: string;
  /** Direct address (dial) or bind address (listen). */
  host?: string;
  /** Port of `host`. */
  port?: number;
  /** Use iroh's relays and discovery (default true; `?relay=off` clears it). */
  relay: boolean;
}

const NODE_ID_RE = /^[0-9a-zA-Z]{52,64}$/;

/**
 * Parses `iroh://[NODEID][@][HOST:PORT][?relay=off]`.
 *
 * @throws {TransportUrlError} for a malformed URL
 * @example
 * ```ts
 * import { parseIrohUrl } from "./iroh.ts";
 * const id = "ab".repeat(32);
 * console.log(parseIrohUrl(`iroh://${id}@127.0.0.1:4433?relay=off`).port); // 4433
 * console.log(parseIrohUrl("iroh://").relay); // true
 * ```
 */
export function parseIrohUrl(text: string): IrohUrl {
  const m = /^iroh:\/\/([^/?]*)\/?(?:\?(.*))?$/i.exec(text);
  if (!m) throw new TransportUrlError(text, "not an iroh:// URL");
  const out: IrohUrl = { relay: true };
  for (const part of (m[2] ?? "").split("&").filter((p) => p !== "")) {
    const [k, v = ""] = part.split("=", 2);
    if (k !== "relay" || !["off", "on", "false", "true", "0", "1"].includes(v)) {
      throw new TransportUrlError(text, `unknown option '${part}' (only relay=off or relay=on)`);
    }
    out.relay = v === "on" || v === "true" || v === "1";
  }
  let authority = m[1];
  const at = authority.indexOf("@");
  if (at >= 0) {
    out.nodeId = authority.slice(0, at);
    authority = authority.slice(at + 1);
    if (!NODE_ID_RE.test(out.nodeId)) throw new TransportUrlError(text, "malformed node id");
    if (authority === "") throw new TransportUrlError(text, "address missing after '@'");
  } else if (NODE_ID_RE.test(authority)) {
    out.nodeId = authority;
    authority = "";
  }
  if (authority !== "") {
    try {
      const hp = parseHostPort(authority);
      out.host = hp.host;
      out.port = hp.port;
    } catch (e) {
      if (e instanceof ForwardSpecError) throw new TransportUrlError(text, e.message);
      throw e;
    }
  }
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytesOf = (s: string): Bytes => Array.from(enc.encode(s));
const READ_CHUNK = 64 * 1024;

function closeQuietly(c: { close(code: bigint, reason: Bytes): void }): void {
  try {
    c.close(0n, []);
  } catch { /* closed */ }
}

/** A {@link ByteConn} over one iroh bidirectional stream; `close` runs `onClose` last. */
function irohStreamConn(
  stream: { send: IrohSendStream; recv: IrohRecvStream },
  onClose?: () => void,
): ByteConn {
  let leftover: Uint8Array | undefined;
  let eof = false;
  let writeClosed = false;
  let closed = false;
  return {
    async read(p) {
      if (!leftover || leftover.length === 0) {
        if (eof || closed) return null;
        let chunk: Bytes;
        try {
          chunk = await stream.recv.read(Math.max(1, Math.min(p.length, READ_CHUNK)));
        } catch (e) {
          if (closed) return null;
          throw e;
        }
        if (chunk.length === 0) {
          eof = true;
          return null;
        }
        leftover = Uint8Array.from(chunk);
      }
      const n = Math.min(p.length, leftover.length);
      p.set(leftover.subarray(0, n));
      leftover = leftover.subarray(n);
      return n;
    },
    async write(p) {
      if (writeClosed || closed) throw new Deno.errors.BrokenPipe("stream is closed for writing");
      for (let off = 0; off < p.length; off += READ_CHUNK) {
        await stream.send.writeAll(Array.from(p.subarray(off, off + READ_CHUNK)));
      }
      return p.length;
    },
    async closeWrite() {
      if (writeClosed || closed) return;
      writeClosed = true;
      await stream.send.finish().catch(() => {});
    },
    close() {
      if (closed) return;
      closed = true;
      if (!writeClosed) stream.send.finish().catch(() => {});
      writeClosed = true;
      stream.recv.stop(0n).catch(() => {});
      try {
        onClose?.();
      } catch { /* already closed */ }
    },
  };
}

function bindAddrs(host: string | undefined, port: number | undefined): string[] {
  if (host === undefined) return [];
  if (host === "localhost") host = "127.0.0.1";
  const first = hostPort(host, port ?? 0);
  // Binding one family leaves iroh's wildcard socket for the other; keep
  // a loopback endpoint on loopback only.
  if (host === "127.0.0.1" || host === "localhost") return [first, "[::1]:0"];
  if (host === "::1") return [first, "127.0.0.1:0"];
  return [first];
}

async function bindEndpoint(
  options: { relay: boolean; bind: string[]; secretKey?: Uint8Array; alpns?: string[] },
): Promise<IrohEndpoint> {
  const iroh = irohModule();
  const b = iroh.Endpoint.builder();
  if (options.relay) b.applyN0();
  else {
    b.applyMinimal();
    b.relayMode(iroh.RelayMode.disabled());
  }
  if (options.secretKey) b.secretKey(Array.from(options.secretKey));
  if (options.alpns) b.alpns(options.alpns.map(bytesOf));
  for (const a of options.bind) b.bindAddr(a);
  return await b.bind();
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms)),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Options of {@link listenIroh}.
 *
 * @example
 * ```ts
 * import type { IrohListenOptions } from "./iroh.ts";
 * const o: IrohListenOptions = { url: "iroh://127.0.0.1:0?relay=off", handlers: { ssh: (c) => c.close() } };
 * console.log(o.url);
 * ```
 */
export interface IrohListenOptions {
  /** `iroh://[HOST:PORT][?relay=off]` (default `iroh://`: every interface, relays on). */
  url?: string | IrohUrl;
  /** The endpoint's 32-byte secret key (its node id is the public key); random when absent. */
  secretKey?: Uint8Array;
  /** The protocol handlers (`ssh`, and `tcp`/`call` when given). */
  handlers: EndpointHandlers;
  /** `conn rejected` events. */
  logger?: Logger;
  /** How long to wait for an SSH connection's first stream (default 5000 ms). */
  peekTimeoutMs?: number;
  /** Handshake deadline (default 10 000 ms). */
  handshakeTimeoutMs?: number;
}

/**
 * A running iroh listener.
 *
 * @example
 * ```ts
 * import type { IrohListener } from "./iroh.ts";
 * const show = (l: IrohListener) => `${l.nodeId} on ${l.addrs.join(",")}`;
 * console.log(typeof show); // "function"
 * ```
 */
export interface IrohListener {
  /** This node's id (dial it as `iroh://NODEID`). */
  nodeId: string;
  /** The bound UDP sockets, `HOST:PORT`. */
  addrs: string[];
  /** The first bound socket as an address. */
  addr: Deno.NetAddr;
  /** ALPNs offered. */
  alpn: string[];
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** How long a server waits for the client to close a finished SSH connection. */
const LINGER_MS = 2000;

function netAddr(text: string | undefined): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text ?? "");
  return m ? { hostname: m[1], port: Number(m[2]) } : { hostname: "0.0.0.0", port: 0 };
}

/**
 * Starts an iroh endpoint that accepts `alknet/ssh` (one SSH session on the
 * first bidirectional stream), and `alknet/tcp` / `alknet/call` (one
 * stream each) when those handlers are given. The binding is loaded here,
 * on first use.
 *
 * @throws {TransportUrlError} for a malformed URL or when the binding cannot be loaded
 * @example
 * ```ts
 * import { listenIroh } from "./iroh.ts";
 * const l = await listenIroh({
 *   url: "iroh://127.0.0.1:0?relay=off",
 *   handlers: { ssh: (conn) => conn.close() },
 * }).catch(() => null);
 * console.log(l?.nodeId);
 * await l?.close();
 * ```
 */
export async function listenIroh(options: IrohListenOptions): Promise<IrohListener> {
  const u = typeof options.url === "string"
    ? parseIrohUrl(options.url)
    : options.url ?? { relay: true };
  if (u.nodeId) {
    throw new TransportUrlError(`iroh://${u.nodeId}`, "a listen URL takes no node id");
  }
  const h = options.handlers;
  if (typeof h?.ssh !== "function") {
    throw new TransportUrlError("iroh://", "handlers.ssh is required");
  }
  const alpn = ["alknet/ssh"];
  if (h.call) alpn.push("alknet/call");
  if (h.tcp) alpn.push("alknet/tcp");
  const ep = await bindEndpoint({
    relay: u.relay,
    bind: bindAddrs(u.host, u.port),
    secretKey: options.secretKey,
    alpns: alpn,
  });
  const peekMs = options.peekTimeoutMs ?? 5000;
  const handshakeMs = options.handshakeTimeoutMs ?? 10_000;
  const conns = new Set<IrohConnection>();
  const streams = new Set<ByteConn>();
  let closing = false;
  const track = (c: ByteConn): ByteConn => {
    streams.add(c);
    const close = c.close.bind(c);
    c.close = () => {
      streams.delete(c);
      close();
    };
    return c;
  };
  const reject = (info: ConnInfo, reason: string) =>
    options.logger?.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: "iroh",
      peer: info.peerId,
      reason,
    });

  const handle = async (incoming: IrohIncoming) => {
    const from = await incoming.remoteAddr().catch(() => ({ kind: "unknown" } as const));
    const accepted = await withTimeout(
      incoming.accept().then((a) => a.connect()),
      handshakeMs,
    ).catch(() => null);
    if (!accepted || accepted === "timeout") return;
    const qc = accepted;
    if (closing) return closeQuietly(qc);
    conns.add(qc);
    qc.closed().finally(() => conns.delete(qc)).catch(() => {});
    const negotiated = dec.decode(Uint8Array.from(qc.alpn()));
    const peerId = qc.remoteId().toString();
    const a = from.kind === "ip"
      ? netAddr((from as { addr?: string }).addr)
      : { hostname: peerId, port: 0 };
    const info: ConnInfo = {
      remoteAddress: a.hostname,
      remotePort: a.port,
      transport: "iroh",
      alpn: negotiated,
      peerId,
    };
    if (negotiated === "alknet/ssh") {
      const first = await withTimeout(qc.acceptBi(), peekMs).catch(() => null);
      if (!first || first === "timeout") {
        reject(info, "no-data");
        closeQuietly(qc);
        return;
      }
      // Closing a QUIC connection discards unacknowledged data, so when the
      // SSH stream closes the server waits (bounded) for the client to close.
      const linger = () => {
        const t = setTimeout(() => closeQuietly(qc), LINGER_MS);
        qc.closed().finally(() => clearTimeout(t)).catch(() => {});
      };
      h.ssh(track(irohStreamConn(first, linger)), info);
      return;
    }
    const handler: ConnHandler | undefined = negotiated === "alknet/tcp"
      ? h.tcp
      : negotiated === "alknet/call"
      ? h.call
      : undefined;
    if (!handler) {
      reject(info, "unknown-alpn");
      closeQuietly(qc);
      return;
    }
    try {
      while (!closing) {
        const bi = await qc.acceptBi();
        handler(track(irohStreamConn(bi)), info);
      }
    } catch { /* connection closed */ }
  };

  const loop = (async () => {
    try {
      while (!closing) {
        const incoming = await ep.acceptNext();
        if (!incoming) break;
        if (closing) {
          incoming.refuse().catch(() => {});
          break;
        }
        handle(incoming).catch(() => {});
      }
    } catch { /* endpoint closed */ }
  })();

  const addrs = ep.boundSockets();
  const nodeId = ep.id().toString();
  return {
    nodeId,
    addrs,
    addr: { transport: "udp", ...netAddr(addrs[0]) },
    alpn,
    async close() {
      closing = true;
      for (const s of [...streams]) {
        try {
          s.close();
        } catch { /* closed */ }
      }
      for (const c of [...conns]) closeQuietly(c);
      await withTimeout(ep.close(), 2000).catch(() => {});
      await withTimeout(loop, 2000);
    },
  };
}

/**
 * Options of {@link dialIroh} and {@link dialIrohSession}.
 *
 * @example
 * ```ts
 * import type { IrohDialOptions } from "./iroh.ts";
 * const o: IrohDialOptions = { alpn: "alknet/tcp", timeoutMs: 5000 };
 * console.log(o.alpn);
 * ```
 */
export interface IrohDialOptions {
  /** The ALPN (default `alknet/ssh`). */
  alpn?: string;
  /** Connect deadline (default 10 000 ms). */
  timeoutMs?: number;
  /** The client endpoint's secret key (random when absent). */
  secretKey?: Uint8Array;
}

/**
 * An iroh connection to a node, from which streams are opened.
 *
 * @example
 * ```ts
 * import type { IrohSession } from "./iroh.ts";
 * const use = async (s: IrohSession) => (await s.openStream()).close();
 * console.log(typeof use); // "function"
 * ```
 */
export interface IrohSession {
  /** The peer's node id. */
  readonly nodeId: string;
  /** The negotiated ALPN. */
  readonly alpn: string;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  /** Opens a bidirectional stream. */
  openStream(): Promise<ByteConn>;
  /** Closes the connection and the client endpoint. */
  close(): void;
}

/**
 * Connects to `url` (`iroh://NODEID[@HOST:PORT][?relay=off]`) from a fresh
 * client endpoint (closed with the session).
 *
 * @throws {TransportUrlError} for a malformed URL or when the binding cannot be loaded
 * @example
 * ```ts
 * import { dialIrohSession } from "./iroh.ts";
 * const s = await dialIrohSession(`iroh://${"ab".repeat(32)}@127.0.0.1:1?relay=off`, {
 *   alpn: "alknet/tcp",
 *   timeoutMs: 500,
 * }).catch(() => null);
 * s?.close();
 * ```
 */
export async function dialIrohSession(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): Promise<IrohSession> {
  const u = typeof url === "string" ? parseIrohUrl(url) : url;
  const shown = typeof url === "string" ? url : `iroh://${u.nodeId ?? ""}`;
  if (!u.nodeId) throw new TransportUrlError(shown, "the node id is missing (iroh://NODEID)");
  if (!u.relay && u.host === undefined) {
    throw new TransportUrlError(
      shown,
      "relay=off needs a direct address (iroh://NODEID@HOST:PORT)",
    );
  }
  const iroh = irohModule();
  let id: unknown;
  try {
    id = iroh.EndpointId.fromString(u.nodeId);
  } catch (e) {
    throw new TransportUrlError(shown, `malformed node id: ${(e as Error).message}`);
  }
  const loopback = u.host === "127.0.0.1" || u.host === "::1" || u.host === "localhost";
  const ep = await bindEndpoint({
    relay: u.relay,
    bind: loopback ? ["127.0.0.1:0", "[::1]:0"] : [],
    secretKey: options.secretKey,
  });
  const direct = u.host !== undefined
    ? [hostPort(u.host === "localhost" ? "127.0.0.1" : u.host, u.port ?? 0)]
    : [];
  const alpn = options.alpn ?? "alknet/ssh";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = ep.connect(new iroh.EndpointAddr(id, null, direct), bytesOf(alpn));
  let conn: IrohConnection | "timeout";
  try {
    conn = await withTimeout(pending, timeoutMs);
  } catch (e) {
    await withTimeout(ep.close(), 1000).catch(() => {});
    throw new TransportUrlError(shown, `cannot connect: ${(e as Error).message.split("\n")[0]}`);
  }
  if (conn === "timeout") {
    pending.then((c) => closeQuietly(c), () => {});
    await withTimeout(ep.close(), 1000).catch(() => {});
    throw new TransportUrlError(shown, `connect timed out after ${timeoutMs} ms`);
  }
  const qc = conn;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeQuietly(qc);
    withTimeout(ep.close(), 2000).catch(() => {});
  };
  const done = qc.closed().then(() => {}, () => {});
  done.then(close);
  return {
    nodeId: qc.remoteId().toString(),
    alpn: dec.decode(Uint8Array.from(qc.alpn())),
    closed: done,
    async openStream() {
      return irohStreamConn(await qc.openBi());
    },
    close,
  };
}

/**
 * Connects to `url` and returns the connection's first bidirectional
 * stream (ALPN `alknet/ssh` by default); closing the stream closes the
 * connection. This is what `alknet connect iroh://...` runs SSH on.
 *
 * @throws {TransportUrlError} for a malformed URL, an unreachable node or a missing binding
 * @example
 * ```ts
 * import { dialIroh } from "./iroh.ts";
 * const conn = await dialIroh(`iroh://${"ab".repeat(32)}@127.0.0.1:1?relay=off`, { timeoutMs: 500 })
 *   .catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialIroh(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): Promise<ByteConn> {
  const session = await dialIrohSession(url, options);
  try {
    const conn = await session.openStream();
    const close = conn.close.bind(conn);
    conn.close = () => {
      close();
      session.close();
    };
    return conn;
  } catch (e) {
    session.close();
    throw e;
  }
}

/**
 * A native data path opener (`alknet/tcp`, one stream per forward) over one
 * iroh connection, (re)connected lazily.
 *
 * @example
 * ```ts
 * import { nativeTcpOverIroh } from "./iroh.ts";
 * const q = nativeTcpOverIroh(`iroh://${"ab".repeat(32)}@127.0.0.1:4433?relay=off`);
 * // const conn = await openNativeTcp(q.open, token, "db", 5432);
 * q.close();
 * ```
 */
export function nativeTcpOverIroh(
  url: string | IrohUrl,
  options: IrohDialOptions = {},
): { open: () => Promise<ByteConn>; close(): void } {
  return sharedSessionOpener(() => dialIrohSession(url, { ...options, alpn: "alknet/tcp" }));
}

/**
 * Reads the node's iroh secret key from `path` (64 hex digits), creating it
 * (mode 0600, parent directories too) on first use, so the node id stays
 * the same across restarts.
 *
 * @example
 * ```ts
 * import { irohSecretKeyFile } from "./iroh.ts";
 * const dir = await Deno.makeTempDir();
 * const key = await irohSecretKeyFile(`${dir}/iroh.key`);
 * console.log(key.length); // 32
 * ```
 */
export async function irohSecretKeyFile(path: string): Promise<Uint8Array> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    if (!/^[0-9a-f]{64}$/i.test(text)) {
      throw new TransportUrlError("iroh://", `${path} is not a 64-hex-digit iroh secret key`);
    }
    return Uint8Array.from(text.match(/../g)!.map((b) => parseInt(b, 16)));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  const dir = path.replace(/[/\\][^/\\]*$/, "");
  if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const hex = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(path, hex + "\n", { mode: 0o600, createNew: true });
  return key;
}
