/**
 * iroh's Node-API binding (`npm:@number0/iroh-<platform>`), loaded lazily
 * on the first `iroh://` listener or dial so nobody else pays for it, and the
 * pieces the iroh listener and dialer share: binding endpoints and byte
 * streams over iroh bidirectional streams.
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
import type { ByteConn } from "./stream.ts";
import { TransportUrlError } from "./errors.ts";
import { hostPort } from "./hostport.ts";

/**
 * The npm package of iroh's native binding for each platform
 * (`${Deno.build.os}-${Deno.build.arch}`), version {@link IROH_VERSION}.
 *
 * @example
 * ```ts
 * import { IROH_PACKAGES } from "@alknet/core/transport";
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
 * import { IROH_VERSION } from "@alknet/core/transport";
 * console.log(IROH_VERSION); // "1.1.0"
 * ```
 */
export const IROH_VERSION = "1.1.0";

// The parts of the binding used here (its own .d.ts ships with the wrapper
// package, which Deno cannot install). Byte arrays cross as number arrays.
export type Bytes = number[];
export interface IrohEndpointId {
  toString(): string;
}
export interface IrohSendStream {
  writeAll(buf: Bytes): Promise<void>;
  finish(): Promise<void>;
}
export interface IrohRecvStream {
  read(sizeLimit: number): Promise<Bytes>;
  stop(code: bigint): Promise<void>;
}
export interface IrohBiStream {
  readonly send: IrohSendStream;
  readonly recv: IrohRecvStream;
}
export interface IrohConnection {
  alpn(): Bytes;
  remoteId(): IrohEndpointId;
  openBi(): Promise<IrohBiStream>;
  acceptBi(): Promise<IrohBiStream>;
  closed(): Promise<string>;
  close(code: bigint, reason: Bytes): void;
}
export interface IrohIncoming {
  accept(): Promise<{ connect(): Promise<IrohConnection> }>;
  refuse(): Promise<void>;
  remoteAddr(): Promise<{ kind: string; addr?: string; endpointId?: string }>;
}
export interface IrohEndpoint {
  id(): IrohEndpointId;
  boundSockets(): string[];
  connect(addr: unknown, alpn: Bytes): Promise<IrohConnection>;
  acceptNext(): Promise<IrohIncoming | null>;
  close(): Promise<void>;
}
export interface IrohBuilder {
  applyN0(): void;
  applyMinimal(): void;
  secretKey(bytes: Bytes): void;
  alpns(alpns: Bytes[]): void;
  relayMode(mode: unknown): void;
  bindAddr(addr: string): void;
  bind(): Promise<IrohEndpoint>;
}
export interface IrohModule {
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
 * import { loadIroh } from "@alknet/core/transport";
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

/** The loaded binding (internal; throws like {@link loadIroh}). */
export function irohModule(): IrohModule {
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

const enc = new TextEncoder();
const dec = new TextDecoder();
/** A string as the binding's byte array (internal). */
export const bytesOf = (s: string): Bytes => Array.from(enc.encode(s));
/** The binding's byte array as a string (internal). */
export const textOf = (b: Bytes): string => dec.decode(Uint8Array.from(b));
const READ_CHUNK = 64 * 1024;

/** Closes an iroh connection, ignoring errors (internal). */
export function closeIroh(c: { close(code: bigint, reason: Bytes): void }): void {
  try {
    c.close(0n, []);
  } catch { /* closed */ }
}

/** A {@link ByteConn} over one iroh bidirectional stream; `close` runs `onClose` last (internal). */
export function irohStreamConn(
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

/** The bind addresses for a listen host (internal). */
export function bindAddrs(host: string | undefined, port: number | undefined): string[] {
  if (host === undefined) return [];
  if (host === "localhost") host = "127.0.0.1";
  const first = hostPort(host, port ?? 0);
  // Binding one family leaves iroh's wildcard socket for the other; keep
  // a loopback endpoint on loopback only.
  if (host === "127.0.0.1" || host === "localhost") return [first, "[::1]:0"];
  if (host === "::1") return [first, "127.0.0.1:0"];
  return [first];
}

/** Builds and binds an iroh endpoint (internal). */
export async function bindEndpoint(
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
