/**
 * The stealth-mode web site: answers like an ordinary nginx serving a small
 * static site (built in, or the files of a directory), with `Server: nginx`,
 * Date, Content-Length, Content-Type, Last-Modified, ETag, Accept-Ranges,
 * conditional GETs (304), HEAD, nginx-style 404/405 pages and nothing that
 * mentions alknet.
 *
 * @module
 */

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
 * Options of {@link decoySite}.
 *
 * @example
 * ```ts
 * import { type DecoyOptions, decoySite } from "./decoy.ts";
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
 * import { type DecoyHandler, decoySite } from "./decoy.ts";
 * const h: DecoyHandler = decoySite();
 * console.log((await h(new Request("http://x/missing"))).status); // 404
 * ```
 */
export type DecoyHandler = (req: Request) => Promise<Response>;

interface StaticFile {
  body: Uint8Array;
  type: string;
  mtime: Date;
}

const enc = new TextEncoder();

const TYPES: Record<string, string> = {
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
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
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

function builtinSite(title: string, mtime: Date): Map<string, StaticFile> {
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
  return new Map<string, StaticFile>([
    ["/index.html", { body: enc.encode(index), type: "text/html", mtime }],
    ["/robots.txt", {
      body: enc.encode("User-agent: *\nDisallow:\n"),
      type: "text/plain",
      mtime,
    }],
    ["/favicon.ico", { body: favicon(), type: "image/x-icon", mtime }],
  ]);
}

function errorPage(status: number, reason: string): Uint8Array {
  return enc.encode(
    `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n` +
      `<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n` +
      `</body>\r\n</html>\r\n`,
  );
}

function etagOf(f: StaticFile): string {
  return `"${Math.floor(f.mtime.getTime() / 1000).toString(16)}-${f.body.length.toString(16)}"`;
}

function respond(
  req: Request,
  status: number,
  body: Uint8Array,
  headers: Record<string, string>,
): Response {
  const h = new Headers({
    server: "nginx",
    "content-length": String(body.length),
    ...headers,
  });
  if (!h.has("date")) h.set("date", new Date().toUTCString());
  const withBody = req.method !== "HEAD" && status !== 304;
  return new Response(withBody ? body as Uint8Array<ArrayBuffer> : null, { status, headers: h });
}

/**
 * Builds the decoy site's request handler.
 *
 * @example
 * ```ts
 * import { decoySite } from "./decoy.ts";
 * const site = decoySite();
 * const res = await site(new Request("http://example.com/robots.txt"));
 * console.log(res.status, res.headers.get("server")); // 200 nginx
 * ```
 */
export function decoySite(options: DecoyOptions = {}): DecoyHandler {
  // A fixed modification time a few weeks back, stable for the process.
  const mtime = new Date(Math.floor((Date.now() - 23 * 86400_000) / 86400_000) * 86400_000);
  const builtin = builtinSite(options.title ?? "Welcome", mtime);
  const root = options.dir;
  let rootReal: string | undefined;

  const lookup = async (path: string): Promise<StaticFile | null> => {
    if (!root) return builtin.get(path === "/" ? "/index.html" : path) ?? null;
    rootReal ??= await Deno.realPath(root);
    let rel = path;
    if (rel.endsWith("/")) rel += "index.html";
    const full = `${rootReal}${rel}`;
    try {
      let real = await Deno.realPath(full);
      if (real !== rootReal && !real.startsWith(rootReal + "/")) return null;
      let st = await Deno.stat(real);
      if (st.isDirectory) {
        real = `${real}/index.html`;
        st = await Deno.stat(real);
      }
      if (!st.isFile) return null;
      return {
        body: await Deno.readFile(real),
        type: contentType(real),
        mtime: st.mtime ?? mtime,
      };
    } catch {
      return null;
    }
  };

  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      // Read and discard the request body first (up to 1 MiB), as nginx does:
      // answering while the client is still sending resets its HTTP/2 stream.
      await drainBody(req, 1 << 20);
      return respond(req, 405, errorPage(405, "Not Allowed"), { "content-type": "text/html" });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return respond(req, 400, errorPage(400, "Bad Request"), { "content-type": "text/html" });
    }
    if (path.includes("\0") || path.split("/").some((seg) => seg === "..")) {
      return respond(req, 400, errorPage(400, "Bad Request"), { "content-type": "text/html" });
    }
    const file = await lookup(path);
    if (!file) {
      return respond(req, 404, errorPage(404, "Not Found"), { "content-type": "text/html" });
    }
    const etag = etagOf(file);
    const lastModified = file.mtime.toUTCString();
    const headers: Record<string, string> = {
      "content-type": file.type,
      "last-modified": lastModified,
      etag,
      "accept-ranges": "bytes",
    };
    const inm = req.headers.get("if-none-match");
    const ims = req.headers.get("if-modified-since");
    const notModified = inm !== null
      ? inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")
      : ims !== null && !Number.isNaN(Date.parse(ims)) &&
        Math.floor(file.mtime.getTime() / 1000) <= Math.floor(Date.parse(ims) / 1000);
    if (notModified) {
      const h = new Headers({
        server: "nginx",
        date: new Date().toUTCString(),
        "last-modified": lastModified,
        etag,
      });
      return new Response(null, { status: 304, headers: h });
    }
    return respond(req, 200, file.body, headers);
  };
}
