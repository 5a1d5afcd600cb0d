/**
 * The stealth-mode web site: a small static site (built in, or the files of
 * a directory) served the way nginx serves one, with `Server: nginx`, Date,
 * Content-Length, Content-Type, Last-Modified, ETag, Accept-Ranges,
 * conditional GETs (304), ranges, HEAD, nginx's error pages and nothing
 * that mentions alknet. {@link decoyFiles} is the site as the decoy's
 * HTTP/1.x server reads it (`serveDecoyConn`); {@link decoySite} answers
 * `Request`s with the same statuses, for the HTTP server of authenticated
 * connections.
 *
 * @module
 */

import { normalizeDecoyPath } from "./decoy_http.ts";
import {
  type DecoyEntry,
  decoyError,
  type DecoyFile,
  decoyStaticResponse,
  serializeDecoyHead,
} from "./decoy_response.ts";
import type { DecoySite } from "./decoy_server.ts";

/**
 * Options of {@link decoySite} and {@link decoyFiles}.
 *
 * @example
 * ```ts
 * import { type DecoyOptions, decoySite } from "@alknet/core/transport";
 * const o: DecoyOptions = { title: "Home" };
 * const site = decoySite(o);
 * console.log((await site(new Request("http://x/"))).status); // 200
 * ```
 */
export interface DecoyOptions {
  /** Serve files from this directory instead of the built-in site. */
  dir?: string;
  /** Title of the built-in index page (default "Welcome"). */
  title?: string;
}

/**
 * Answers one HTTP request like a static web server.
 *
 * @example
 * ```ts
 * import { type DecoyHandler, decoySite } from "@alknet/core/transport";
 * const h: DecoyHandler = decoySite();
 * console.log((await h(new Request("http://x/missing"))).status); // 404
 * ```
 */
export type DecoyHandler = (req: Request) => Promise<Response>;

const enc = new TextEncoder();

/**
 * File extensions and their `Content-Type`, as the decoy (and an nginx
 * configured to look the same) sends them; anything else is
 * `application/octet-stream`.
 *
 * @example
 * ```ts
 * import { DECOY_MIME_TYPES } from "@alknet/core/transport";
 * console.log(DECOY_MIME_TYPES.html); // "text/html"
 * ```
 */
export const DECOY_MIME_TYPES: Readonly<Record<string, string>> = {
  html: "text/html",
  htm: "text/html",
  txt: "text/plain",
  css: "text/css",
  js: "application/javascript",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  webp: "image/webp",
  woff2: "font/woff2",
  xml: "text/xml",
  pdf: "application/pdf",
};

function contentType(path: string): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot <= slash) return "application/octet-stream";
  return DECOY_MIME_TYPES[path.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/** A 16×16 32-bit ICO: a plain dark square with a lighter border. */
function favicon(): Uint8Array {
  const size = 16;
  const pixels = size * size * 4;
  const mask = size * 4; // 1 bit per pixel, rows padded to 4 bytes
  const bmpLen = 40 + pixels + mask;
  const out = new Uint8Array(6 + 16 + bmpLen);
  const dv = new DataView(out.buffer);
  dv.setUint16(2, 1, true); // type: icon
  dv.setUint16(4, 1, true); // count
  out[6] = size;
  out[7] = size;
  dv.setUint16(10, 1, true); // planes
  dv.setUint16(12, 32, true); // bpp
  dv.setUint32(14, bmpLen, true);
  dv.setUint32(18, 22, true); // offset
  const b = 22;
  dv.setUint32(b, 40, true);
  dv.setInt32(b + 4, size, true);
  dv.setInt32(b + 8, size * 2, true);
  dv.setUint16(b + 12, 1, true);
  dv.setUint16(b + 14, 32, true);
  dv.setUint32(b + 20, pixels + mask, true);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const edge = x === 0 || y === 0 || x === size - 1 || y === size - 1;
      const o = b + 40 + (y * size + x) * 4;
      out[o] = edge ? 0x99 : 0x4a; // B
      out[o + 1] = edge ? 0x88 : 0x3b; // G
      out[o + 2] = edge ? 0x77 : 0x2c; // R
      out[o + 3] = 0xff;
    }
  }
  return out;
}

/**
 * The files of the built-in site (`/index.html`, `/robots.txt`,
 * `/favicon.ico`), with a modification time a few weeks back (midnight UTC,
 * stable for the process): what to put in a real web server's root to
 * compare it with the decoy.
 *
 * @example
 * ```ts
 * import { builtinDecoyFiles } from "@alknet/core/transport";
 * const files = builtinDecoyFiles();
 * console.log([...files.keys()]); // [ "/index.html", "/robots.txt", "/favicon.ico" ]
 * ```
 */
export function builtinDecoyFiles(title = "Welcome"): Map<string, DecoyFile> {
  const mtime = BUILTIN_MTIME;
  const index = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.ico">
<style>
body { max-width: 40em; margin: 4em auto; padding: 0 1em; font-family: sans-serif; color: #333; }
h1 { font-weight: normal; }
footer { margin-top: 3em; font-size: 0.85em; color: #888; }
</style>
</head>
<body>
<h1>${title}</h1>
<p>This site is under construction. Please check back later.</p>
<footer>&copy; ${mtime.getUTCFullYear()}</footer>
</body>
</html>
`;
  return new Map<string, DecoyFile>([
    ["/index.html", { body: enc.encode(index), type: "text/html", mtime }],
    ["/robots.txt", { body: enc.encode("User-agent: *\nDisallow:\n"), type: "text/plain", mtime }],
    ["/favicon.ico", { body: favicon(), type: "image/x-icon", mtime }],
  ]);
}

// A fixed modification time a few weeks back, stable for the process.
const BUILTIN_MTIME = new Date(
  Math.floor((Date.now() - 23 * 86400_000) / 86400_000) * 86400_000,
);

/**
 * The decoy site as its HTTP server reads it: the built-in files, or those
 * of `options.dir` (symbolic links that lead out of the directory are not
 * followed; nginx would follow them).
 *
 * @example
 * ```ts
 * import { decoyFiles } from "@alknet/core/transport";
 * const site = decoyFiles();
 * console.log((await site.lookup("/"))?.kind, await site.lookup("/nope")); // file null
 * ```
 */
export function decoyFiles(options: DecoyOptions = {}): DecoySite {
  const root = options.dir;
  if (!root) {
    const files = builtinDecoyFiles(options.title);
    return {
      lookup(path) {
        const file = files.get(path === "/" ? "/index.html" : path);
        return Promise.resolve(
          file ? { kind: "file", file } : path === "/" ? { kind: "dir" } : null,
        );
      },
    };
  }
  let rootReal: string | undefined;
  const stat = async (rel: string): Promise<{ real: string; info: Deno.FileInfo } | null> => {
    rootReal ??= await Deno.realPath(root);
    try {
      const real = await Deno.realPath(`${rootReal}${rel}`);
      if (real !== rootReal && !real.startsWith(rootReal + "/")) return null;
      return { real, info: await Deno.stat(real) };
    } catch {
      return null;
    }
  };
  const fileOf = async (real: string, info: Deno.FileInfo): Promise<DecoyEntry> => ({
    kind: "file",
    file: {
      body: await Deno.readFile(real),
      type: contentType(real),
      mtime: info.mtime ?? new Date(0),
    },
  });
  return {
    async lookup(path) {
      if (path.endsWith("/")) {
        const dir = await stat(path.slice(0, -1) || "/");
        if (!dir?.info.isDirectory) return null;
        const index = await stat(`${path}index.html`);
        if (index?.info.isFile) return await fileOf(index.real, index.info);
        return { kind: "dir" };
      }
      const s = await stat(path);
      if (!s) return null;
      if (s.info.isDirectory) return { kind: "dir" };
      return s.info.isFile ? await fileOf(s.real, s.info) : null;
    },
  };
}

async function drainBody(req: Request, max: number): Promise<void> {
  if (!req.body) return;
  const reader = req.body.getReader();
  try {
    for (let seen = 0; seen <= max;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch { /* the client went away */ }
}

/**
 * Builds the decoy site's request handler: the statuses and headers of the
 * decoy's HTTP server (through `Response`, so header case and order are
 * the HTTP server's).
 *
 * @example
 * ```ts
 * import { decoySite } from "@alknet/core/transport";
 * const site = decoySite();
 * const res = await site(new Request("http://example.com/robots.txt"));
 * console.log(res.status, res.headers.get("server")); // 200 nginx
 * ```
 */
export function decoySite(options: DecoyOptions = {}): DecoyHandler {
  const site = decoyFiles(options);
  return async (req) => {
    const url = new URL(req.url);
    // Read and discard the request body first (up to 1 MiB), as nginx does:
    // answering while the client is still sending resets its HTTP/2 stream.
    await drainBody(req, 1 << 20);
    const path = normalizeDecoyPath(url.pathname);
    const headers = new Map<string, string[]>();
    req.headers.forEach((v, k) => headers.set(k, [v]));
    const request = {
      method: req.method,
      version: 1001,
      path: path ?? "/",
      args: url.search.slice(1),
      headers,
      contentLength: -1,
      chunked: false,
    };
    const r = path === null
      ? decoyError(400)
      : decoyStaticResponse(request, await site.lookup(path), {
        scheme: url.protocol === "https:" ? "https" : "http",
        port: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
        localAddress: url.hostname,
      });
    const status = r.status === 494 || r.status === 497 ? 400 : r.status;
    const h = new Headers();
    for (const line of serializeDecoyHead(r, true, new Date()).split("\r\n").slice(1)) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const name = line.slice(0, i);
      if (name === "Connection" || (name === "Content-Length" && r.noLength)) continue;
      h.set(name, line.slice(i + 2));
    }
    const body = req.method === "HEAD" || status === 304 ? null : r.body;
    return new Response(body as Uint8Array<ArrayBuffer> | null, { status, headers: h });
  };
}
