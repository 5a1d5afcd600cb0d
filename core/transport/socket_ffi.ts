/**
 * What Deno's TLS listener (`Deno.listenTls`) does not let us do to its
 * sockets, done on Linux through `/proc/self` and `libc` (FFI):
 *
 * - TCP_NODELAY. Deno's TLS connections have no `setNoDelay`, and with
 *   Nagle on a reply written after unacknowledged data (TLS 1.3 session
 *   tickets, a status byte, a relay that writes twice) waits for the peer's
 *   delayed ACK, ≈ 40 ms. An accepted socket inherits TCP_NODELAY from its
 *   listening socket, so it is set once on the listener.
 * - Replacing the certificate without refusing or resetting a connection:
 *   a second listener joins the port (`SO_REUSEPORT`), new connections are
 *   steered to it, the first is drained and closed.
 * - Closing a connection whose handshake has not finished. Deno keeps such
 *   a socket open after `close()` until the client sends something (checked
 *   in Deno 2.9.6: a silent client would hold its file descriptor forever).
 *   `shutdown(2)` on the socket ends it.
 *
 * Where this is not possible (another OS, no `--allow-ffi`, no read access
 * to `/proc/self`) {@link socketFfiSupported} is false and the listener
 * uses a TLS stack whose sockets it controls. Internal to the endpoint (not
 * exported by `@alknet/core/transport`).
 *
 * @module
 */

import { parseIp } from "./addr.ts";

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SHUT_RDWR = 2;
const SOL_SOCKET = 1;
const SO_ATTACH_REUSEPORT_CBPF = 51;
/** `st` of a listening socket in `/proc/net/tcp`. */
const TCP_LISTEN = "0A";
/** Shutdown requests are gathered this long, then served by one scan of `/proc`. */
const BATCH_MS = 20;

type Libc = Deno.DynamicLibrary<{
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"]; result: "i32" };
  shutdown: { parameters: ["i32", "i32"]; result: "i32" };
  dup: { parameters: ["i32"]; result: "i32" };
  close: { parameters: ["i32"]; result: "i32" };
}>;

let libc: Libc | null | undefined;

function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return libc;
  if (!granted({ name: "ffi" }) || !granted({ name: "read", path: "/proc/self" })) return libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
      shutdown: { parameters: ["i32", "i32"], result: "i32" },
      dup: { parameters: ["i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
    });
  } catch {
    libc = null;
  }
  return libc;
}

/**
 * Whether this process can set socket options through FFI (Linux x86-64 or
 * arm64, `ffi` and `/proc/self` allowed) and bind TLS listeners with
 * `SO_REUSEPORT` (Deno's `--unstable-net`, which also brings QUIC).
 */
export function socketFfiSupported(): boolean {
  const unstableNet = typeof (Deno as { QuicEndpoint?: unknown }).QuicEndpoint === "function";
  return unstableNet && openLibc() !== null;
}

/** The bytes of a `/proc/net/tcp` address (`0100007F` or 32 hex digits), IPv4-mapped as 4 bytes. */
function procIp(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  // Each 32-bit word is in host (little-endian) order.
  for (let w = 0; w < hex.length / 8; w++) {
    for (let b = 0; b < 4; b++) {
      out[w * 4 + b] = parseInt(hex.slice(w * 8 + (3 - b) * 2, w * 8 + (3 - b) * 2 + 2), 16);
    }
  }
  if (
    out.length === 16 && out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff &&
    out[11] === 0xff
  ) return out.slice(12);
  return out;
}

function ipKey(bytes: Uint8Array | null): string {
  return bytes ? Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") : "";
}

interface ProcSocket {
  inode: string;
  state: string;
  localPort: number;
  /** Local IP bytes (hex; IPv4-mapped as IPv4). */
  localIp: string;
  /** Remote IP bytes (hex) and port. */
  remote: string;
}

/** The TCP socket table; `strict` rethrows a failed read (out of descriptors). */
function procSockets(strict = false): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const file of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      if (strict && !(e instanceof Deno.errors.NotFound)) throw e;
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [lip, lport] = f[1].split(":");
      const [rip, rport] = f[2].split(":");
      if (!lip || !rip) continue;
      out.push({
        inode: f[9],
        state: f[3],
        localPort: parseInt(lport, 16),
        localIp: ipKey(procIp(lip)),
        remote: `${ipKey(procIp(rip))}|${parseInt(rport, 16)}`,
      });
    }
  }
  return out;
}

/** This process's socket file descriptors among `inodes`, as inode → fd. */
function fdsOf(inodes: Set<string>): Map<string, number> {
  const found = new Map<string, number>();
  if (inodes.size === 0) return found;
  // Listing the directory throws when out of descriptors (see withSpares).
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    let link: string;
    try {
      link = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m && inodes.has(m[1])) found.set(m[1], Number(e.name));
  }
  return found;
}

/** This process's listening socket descriptors on `port`. */
function listenerFds(port: number): number[] {
  const inodes = new Set(
    procSockets().filter((s) => s.state === TCP_LISTEN && s.localPort === port).map((s) => s.inode),
  );
  return [...fdsOf(inodes).values()];
}

/**
 * Sets TCP_NODELAY on this process's listening sockets bound to `port`, so
 * the connections they accept start with it. True when at least one was
 * set; false when it is not supported here or nothing was found.
 */
export function setListenerNoDelay(port: number): boolean {
  const lib = openLibc();
  if (!lib) return false;
  reserveSpares(lib);
  try {
    const one = new Int32Array([1]);
    let set = false;
    for (const fd of listenerFds(port)) {
      if (lib.symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) === 0) set = true;
    }
    return set;
  } catch {
    return false;
  }
}

/**
 * Sends every new connection to `port` to the second socket of its
 * `SO_REUSEPORT` group (the one that joined last), so the first can be
 * drained and closed without a connection landing in its queue: a classic
 * BPF program (`return 1`) attached to the group. Once the first socket is
 * gone the index is out of range and the kernel picks as usual. True when
 * the program was attached.
 */
export function steerToNewestListener(port: number): boolean {
  const lib = openLibc();
  if (!lib) return false;
  try {
    const fd = listenerFds(port)[0];
    if (fd === undefined) return false;
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }: BPF_RET | BPF_K, k = 1.
    const filter = new Uint8Array(8);
    const f = new DataView(filter.buffer);
    f.setUint16(0, 0x06, true);
    f.setUint32(4, 1, true);
    // struct sock_fprog { u16 len; struct sock_filter *filter; } (64-bit layout).
    const prog = new Uint8Array(16);
    const p = new DataView(prog.buffer);
    p.setUint16(0, 1, true);
    p.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
    return lib.symbols.setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog, 16) === 0;
  } catch {
    return false;
  }
}

/**
 * How many TCP sockets, in any process, listen on `hostname:port` or on an
 * address that overlaps it (the same address, a wildcard of the same family
 * on either side, or `::`, which takes IPv4 too): more than one after a
 * bind with `SO_REUSEPORT` means the port is shared. `hostname` must be an
 * IP literal (else 0).
 */
export function listenersOn(hostname: string, port: number): number {
  const ip = parseIp(hostname);
  if (!ip) return 0;
  const want = ipKey(ip);
  const V4_ANY = "00000000";
  const V6_ANY = "0".repeat(32);
  let n = 0;
  for (const s of procSockets()) {
    if (s.state !== TCP_LISTEN || s.localPort !== port) continue;
    // Deno's "::" sockets are not V6ONLY: "::" overlaps every address.
    if (s.localIp === V6_ANY || want === V6_ANY || s.localIp === want) n++;
    else if (s.localIp.length === want.length && (s.localIp === V4_ANY || want === V4_ANY)) n++;
  }
  return n;
}

const pending = new Set<string>();
/** Flushes in a row that could not read `/proc`; requests are dropped after this many. */
const MAX_FAILED_FLUSHES = 50;
let failedFlushes = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Descriptors held in reserve (duplicates of stderr, outside Deno's
 * resource table): the scan of `/proc` needs two (the fd directory, the
 * socket table), and the connections it must end are often the ones that
 * used up every descriptor (a flood of silent clients).
 */
let spares: number[] = [];

function reserveSpares(lib: Libc): void {
  while (spares.length < 2) {
    const fd = lib.symbols.dup(2);
    if (fd < 0) return; // out of descriptors now: retried at the next flush
    spares.push(fd);
  }
}

/**
 * Runs `scan`; when it fails (out of descriptors), once more with the
 * reserve released. False when both failed.
 */
function withSpares(lib: Libc, scan: () => void): boolean {
  try {
    scan();
    return true;
  } catch { /* retried below */ }
  for (const fd of spares) lib.symbols.close(fd);
  spares = [];
  let ok = true;
  try {
    scan();
  } catch {
    ok = false;
  }
  reserveSpares(lib);
  return ok;
}

/** Serves the gathered {@link shutdownSocket} requests now. */
export function flushShutdowns(): void {
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = undefined;
  const lib = openLibc();
  const wanted = new Set(pending);
  pending.clear();
  if (!lib || wanted.size === 0) return;
  const done = withSpares(lib, () => {
    const inodes = new Set<string>();
    for (const s of procSockets(true)) {
      if (s.state !== TCP_LISTEN && wanted.has(`${s.localPort}|${s.remote}`)) inodes.add(s.inode);
    }
    for (const [inode, fd] of fdsOf(inodes)) {
      // Still the same socket (the descriptor may have been reused since the scan)?
      let link = "";
      try {
        link = Deno.readLinkSync(`/proc/self/fd/${fd}`);
      } catch { /* closed */ }
      if (link === `socket:[${inode}]`) lib.symbols.shutdown(fd, SHUT_RDWR);
    }
  });
  if (done) {
    failedFlushes = 0;
  } else if (++failedFlushes < MAX_FAILED_FLUSHES) {
    // Out of descriptors even with the reserve (another thread took them): again soon.
    for (const w of wanted) pending.add(w);
    flushTimer ??= setTimeout(flushShutdowns, BATCH_MS * 10);
  } else failedFlushes = 0;
}

/**
 * Shuts down (both directions) this process's TCP connection between
 * `local` and `remote`, soon: requests are gathered for a few milliseconds
 * and served by one scan of `/proc/self`. Does nothing where
 * {@link socketFfiSupported} is false.
 */
export function shutdownSocket(local: Deno.NetAddr, remote: Deno.NetAddr): void {
  if (!openLibc()) return;
  pending.add(`${local.port}|${ipKey(parseIp(remote.hostname))}|${remote.port}`);
  flushTimer ??= setTimeout(flushShutdowns, BATCH_MS);
}
