/**
 * The active-probe list of the stealth comparison (`stealth_probe_test.ts`,
 * published in docs/decisions/stealth.md) and its runner: each probe is
 * sent the same way to a real nginx and to an alknet node in stealth mode,
 * and its answer is reduced to a comparable transcript (Date values, the
 * multipart boundary counter and port numbers normalised; everything else,
 * header case and order, ETag and Last-Modified included, kept).
 *
 * @module
 */

import { runCmd } from "./transport_util.ts";

/** One probe. */
export type Probe =
  /** HTTP over TLS: `send` is written at once; responses are read by their framing. */
  | { name: string; kind: "http"; send: string; alpn?: string[]; head?: boolean; count?: number }
  /** Bytes on plain TCP to the TLS port (plain HTTP, raw TLS records): read to the end. */
  | { name: string; kind: "tcp"; send: string | Uint8Array }
  /** A TLS handshake offering these ALPNs (Deno's client). */
  | { name: string; kind: "handshake"; alpn: string[] }
  /** `openssl s_client` with these extra arguments. */
  | { name: string; kind: "openssl"; args: string[] };

const hex = (h: string) => new Uint8Array(h.match(/../g)!.map((b) => parseInt(b, 16)));
const hello12 = (legacy: string, record = "0301") =>
  hex(`16${record}002d01000029${legacy}${"00".repeat(32)}000002c02b0100`);

/**
 * The probes. `ims` is the If-Modified-Since value that matches the page
 * exactly and `etag` its ETag (nginx answers 304 only to exact dates).
 */
export function probeList(ims: string, etag: string): Probe[] {
  const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  return [
    { name: "GET /", kind: "http", send: get("/") },
    { name: "HEAD /", kind: "http", send: "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", head: true },
    { name: "GET /robots.txt", kind: "http", send: get("/robots.txt") },
    { name: "GET /missing", kind: "http", send: get("/missing") },
    {
      name: "POST / with a body",
      kind: "http",
      send: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    },
    { name: "PUT /", kind: "http", send: "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" },
    { name: "TRACE /", kind: "http", send: "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n" },
    { name: "unknown method FOO", kind: "http", send: "FOO / HTTP/1.1\r\nHost: x\r\n\r\n" },
    { name: "lower-case method", kind: "http", send: "get / HTTP/1.1\r\nHost: x\r\n\r\n" },
    { name: "GARBAGE", kind: "http", send: "GARBAGE\r\n\r\n" },
    { name: "bad request line, no CRLF yet", kind: "http", send: "GET /a b" },
    { name: "HTTP/1.1 without Host", kind: "http", send: "GET / HTTP/1.1\r\n\r\n" },
    { name: "HTTP/1.0", kind: "http", send: "GET / HTTP/1.0\r\n\r\n" },
    {
      name: "HTTP/1.0 keep-alive",
      kind: "http",
      send: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    },
    { name: "HTTP/0.9", kind: "http", send: "GET /\r\n" },
    { name: "HTTP/0.9 HEAD", kind: "http", send: "HEAD /\r\n" },
    { name: "HTTP/2.0 as text", kind: "http", send: "GET / HTTP/2.0\r\nHost: x\r\n\r\n" },
    { name: "PRI * HTTP/2.0 preface", kind: "http", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" },
    { name: "20 KB header", kind: "http", send: get("/", `X-Big: ${"a".repeat(20_000)}\r\n`) },
    { name: "/../..", kind: "http", send: get("/../..") },
    { name: "/%2e%2e/x", kind: "http", send: get("/%2e%2e/x") },
    { name: "bad %-escape", kind: "http", send: get("/%zz") },
    { name: "/a/../index.html", kind: "http", send: get("/a/../index.html") },
    { name: "9 KB URI", kind: "http", send: get(`/${"a".repeat(9000)}`) },
    { name: "absolute URI", kind: "http", send: get("http://example.com/") },
    { name: "two Host headers", kind: "http", send: get("/", "Host: y\r\n") },
    { name: "Host x/y", kind: "http", send: "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n" },
    { name: "header name with a space", kind: "http", send: get("/", "X-a : b\r\n") },
    { name: "folded header line", kind: "http", send: get("/", " folded\r\n") },
    { name: "bad Content-Length", kind: "http", send: get("/", "Content-Length: x\r\n") },
    {
      name: "Transfer-Encoding: gzip",
      kind: "http",
      send: get("/", "Transfer-Encoding: gzip\r\n"),
    },
    { name: "Range: bytes=0-9", kind: "http", send: get("/", "Range: bytes=0-9\r\n") },
    { name: "Range: two parts", kind: "http", send: get("/", "Range: bytes=0-1,4-5\r\n") },
    { name: "Range: unsatisfiable", kind: "http", send: get("/", "Range: bytes=99999-\r\n") },
    {
      name: "If-Modified-Since (exact)",
      kind: "http",
      send: get("/", `If-Modified-Since: ${ims}\r\n`),
    },
    { name: "If-None-Match", kind: "http", send: get("/", `If-None-Match: ${etag}\r\n`) },
    { name: "If-Match (other)", kind: "http", send: get("/", 'If-Match: "x"\r\n') },
    {
      name: "MSIE error page",
      kind: "http",
      send: get("/missing", "User-Agent: Mozilla/4.0 (compatible; MSIE 8.0)\r\n"),
    },
    { name: "two pipelined requests", kind: "http", send: get("/missing") + get("/"), count: 2 },
    { name: "Connection: close", kind: "http", send: get("/", "Connection: close\r\n") },
    {
      name: "WebSocket upgrade /alknet/ssh",
      kind: "http",
      send: get(
        "/alknet/ssh",
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
      ),
    },
    { name: "GET /alknet/call", kind: "http", send: get("/alknet/call") },
    { name: "SSH banner over TLS", kind: "http", send: "SSH-2.0-OpenSSH_9.6\r\n" },
    {
      name: "native header with a bad token",
      kind: "http",
      send: "\x01\x00\x05tokenA\x0alknet-ssh\x00\x16",
    },
    {
      name: "slow header (closed at client_header_timeout)",
      kind: "http",
      send: "GET / HTTP/1.1\r\nHost: x\r\nX-a: b",
    },
    { name: "silent after the handshake", kind: "http", send: "" },
    { name: "ALPN http/1.0", kind: "http", send: get("/"), alpn: ["http/1.0"] },
    { name: "no ALPN", kind: "http", send: get("/"), alpn: [] },
    { name: "ALPN h2, http/1.1", kind: "handshake", alpn: ["h2", "http/1.1"] },
    { name: "ALPN http/0.9", kind: "handshake", alpn: ["http/0.9"] },
    { name: "ALPN alknet/ssh", kind: "handshake", alpn: ["alknet/ssh"] },
    { name: "ALPN alknet/call", kind: "handshake", alpn: ["alknet/call"] },
    { name: "ALPN alknet/tcp", kind: "handshake", alpn: ["alknet/tcp"] },
    { name: "ALPN h2 only", kind: "handshake", alpn: ["h2"] },
    { name: "ALPN unknown", kind: "handshake", alpn: ["foo/1"] },
    { name: "openssl -alpn alknet/ssh", kind: "openssl", args: ["-alpn", "alknet/ssh"] },
    { name: "openssl -tls1_1", kind: "openssl", args: ["-tls1_1"] },
    { name: "openssl -tls1", kind: "openssl", args: ["-tls1"] },
    { name: "openssl TLS 1.2", kind: "openssl", args: ["-tls1_2"] },
    { name: "openssl TLS 1.3", kind: "openssl", args: ["-tls1_3"] },
    {
      name: "openssl TLS 1.2 CBC only",
      kind: "openssl",
      args: ["-tls1_2", "-cipher", "AES128-SHA"],
    },
    {
      name: "openssl TLS 1.3 CCM only",
      kind: "openssl",
      args: ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"],
    },
    { name: "openssl TLS 1.2 x448 only", kind: "openssl", args: ["-tls1_2", "-groups", "x448"] },
    {
      name: "openssl TLS 1.3 RSA-PSS only",
      kind: "openssl",
      args: ["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"],
    },
    { name: "plain HTTP on the TLS port", kind: "tcp", send: get("/") },
    { name: "plain HTTP/1.0 on the TLS port", kind: "tcp", send: "GET / HTTP/1.0\r\n\r\n" },
    { name: "plain HTTP/0.9 on the TLS port", kind: "tcp", send: "GET /\r\n" },
    { name: "plain GARBAGE on the TLS port", kind: "tcp", send: "GARBAGE\r\n\r\n" },
    { name: "plain SSH banner on the TLS port", kind: "tcp", send: "SSH-2.0-OpenSSH_9.6\r\n" },
    {
      name: "plain HTTP/2.0 on the TLS port",
      kind: "tcp",
      send: "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    },
    {
      name: "plain slow header on the TLS port",
      kind: "tcp",
      send: "GET / HTTP/1.1\r\nHost: x\r\n",
    },
    { name: "TLS record, not a ClientHello", kind: "tcp", send: hex("160301000568656c6c6f") },
    {
      name: "ClientHello, undecodable",
      kind: "tcp",
      send: hex("160301000a01000006030300000000000000"),
    },
    { name: "TLS record over 18 KB", kind: "tcp", send: hex("16030148ff01") },
    { name: "TLS record, version 9.9", kind: "tcp", send: hex("16090900050100000103") },
    { name: "ClientHello TLS 1.0, no extensions", kind: "tcp", send: hello12("0301") },
    { name: "ClientHello SSL 3.0", kind: "tcp", send: hello12("0300", "0300") },
    { name: "ClientHello version 2.0", kind: "tcp", send: hello12("0200") },
    { name: "ClientHello TLS 1.2, no extensions", kind: "tcp", send: hello12("0303") },
    { name: "one byte 0x16, then silence", kind: "tcp", send: hex("16") },
  ];
}

/** Where the probes go. */
export interface ProbeTarget {
  /** The TLS port. */
  port: number;
  /** The CA certificate (PEM). */
  ca: string;
}

const dec = new TextDecoder("latin1");
const enc = new TextEncoder();

/** Replaces what legitimately differs between two servers. */
export function normalise(text: string, port: number): string {
  return text
    .replace(/Date: [^\r\n]+/g, "Date: <date>")
    .replace(/\b0{10,}\d+\b/g, "<boundary>")
    .replaceAll(`:${port}`, ":<port>");
}

/** How a connection ended, as the client saw it. */
type Ending = "clean" | "no close_notify" | "reset" | "still open";

async function readUntil(
  conn: Deno.Conn | Deno.TlsConn,
  buf: { bytes: number[] },
  done: () => boolean,
  deadline: number,
): Promise<Ending | null> {
  const chunk = new Uint8Array(64 * 1024);
  while (!done()) {
    const left = deadline - Date.now();
    if (left <= 0) return "still open";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), left));
    try {
      const n = await Promise.race([conn.read(chunk), late]);
      if (n === "late") return "still open";
      if (n === null) return "clean";
      for (let i = 0; i < n; i++) buf.bytes.push(chunk[i]);
    } catch (e) {
      const name = (e as Error).name;
      return name === "UnexpectedEof"
        ? "no close_notify"
        : name === "ConnectionReset"
        ? "reset"
        : `error ${name}` as Ending;
    } finally {
      clearTimeout(timer);
    }
  }
  return null;
}

/** Splits complete HTTP/1.x responses off the front of `text` (HEAD: no bodies). */
function responses(text: string, head: boolean): { complete: string[]; keepAlive: boolean } {
  const complete: string[] = [];
  let rest = text;
  let keepAlive = false;
  while (rest.startsWith("HTTP/")) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const headText = rest.slice(0, end);
    const status = Number(headText.slice(9, 12));
    const length = /\r\nContent-Length: (\d+)/.exec(headText);
    const bodyLen = head || status === 304 ? 0 : Number(length?.[1] ?? 0);
    if (rest.length < end + 4 + bodyLen) break;
    complete.push(rest.slice(0, end + 4 + bodyLen));
    keepAlive = /\r\nConnection: keep-alive\r\n/.test(headText + "\r\n");
    rest = rest.slice(end + 4 + bodyLen);
  }
  return { complete, keepAlive };
}

/**
 * Sends one probe and returns its normalised transcript. HTTP probes whose
 * last answer keeps the connection alive send one more request
 * (`GET /robots.txt`) to show it, then end their side (close_notify) and
 * record how the server closes.
 */
export async function runProbe(p: Probe, t: ProbeTarget): Promise<string> {
  const deadline = Date.now() + 10_000;
  if (p.kind === "openssl") return await opensslProbe(p.args, t.port);
  if (p.kind === "handshake") {
    try {
      const c = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: t.port,
        caCerts: [t.ca],
        alpnProtocols: p.alpn,
      });
      try {
        const info = await c.handshake();
        return `handshake ok, ALPN ${info.alpnProtocol ?? "none"}`;
      } finally {
        c.close();
      }
    } catch (e) {
      return `handshake refused: ${(e as Error).message}`;
    }
  }
  const conn = p.kind === "tcp"
    ? await Deno.connect({ hostname: "127.0.0.1", port: t.port })
    : await Deno.connectTls({
      hostname: "127.0.0.1",
      port: t.port,
      caCerts: [t.ca],
      alpnProtocols: p.alpn ?? ["http/1.1"],
    });
  const buf = { bytes: [] as number[] };
  try {
    const bytes = typeof p.send === "string"
      ? Uint8Array.from(p.send, (c) => c.charCodeAt(0))
      : p.send;
    if ("handshake" in conn) await conn.handshake();
    if (bytes.length > 0) await conn.write(bytes);
    const text = () => dec.decode(new Uint8Array(buf.bytes));
    if (p.kind === "tcp") {
      const ending = await readUntil(conn, buf, () => false, deadline);
      const raw = /^[\x20-\x7e\r\n]*$/.test(text())
        ? text()
        : `bytes ${Array.from(buf.bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")}`;
      return `${normalise(raw, t.port)}\n[${ending}]`;
    }
    const head = p.head ?? false;
    const count = p.count ?? 1;
    let ending = await readUntil(conn, buf, () => {
      const r = responses(text(), head);
      return r.complete.length >= count && (r.keepAlive || r.complete.length > count);
    }, deadline);
    let out = text();
    if (ending === null) {
      // Kept alive: one more request on the same connection, then end our side.
      buf.bytes = [];
      await conn.write(enc.encode("GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
      await readUntil(conn, buf, () => responses(text(), false).complete.length >= 1, deadline);
      out += `\n--- then GET /robots.txt on the same connection ---\n${text()}`;
      buf.bytes = [];
      await (conn as Deno.TlsConn).closeWrite();
      ending = await readUntil(conn, buf, () => false, deadline);
      out += text();
    }
    return `${normalise(out, t.port)}\n[${ending}]`;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function opensslProbe(args: string[], port: number): Promise<string> {
  const r = await runCmd(
    "openssl",
    ["s_client", "-connect", `127.0.0.1:${port}`, ...args],
    15_000,
    "",
  );
  const all = r.stdout + r.stderr;
  const facts: string[] = [];
  const alert = /alert number (\d+)/.exec(all);
  if (alert) facts.push(`alert ${alert[1]}`);
  const alpn = /ALPN protocol: (\S+)/.exec(all);
  facts.push(alpn ? `ALPN ${alpn[1]}` : /No ALPN negotiated/.test(all) ? "no ALPN" : "");
  const proto = /New, (\S+), Cipher is (\S+)/.exec(all);
  if (proto && proto[1] !== "(NONE)") facts.push(`${proto[1]} ${proto[2]}`);
  const key = /Server Temp Key: ([^\n]+)/.exec(all);
  if (key) facts.push(`key share ${key[1].trim()}`);
  if (!alert && !(proto && proto[1] !== "(NONE)")) facts.push("no handshake");
  return facts.filter(Boolean).join(", ");
}

/**
 * The session ticket lifetime hint a TLS 1.3 client is given (seconds), or
 * null when there was no ticket.
 */
export async function ticketLifetime(port: number): Promise<number | null> {
  const r = await runCmd(
    "openssl",
    [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-tls1_3",
      "-ign_eof",
    ],
    15_000,
    "GET / HTTP/1.0\r\n\r\n",
  );
  const m = /lifetime hint: (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}
