import assert from "node:assert/strict";
import { normalizeDecoyPath, parseDecoyHead } from "./decoy_http.ts";
import { decoyError, decoyStaticResponse, serializeDecoyHead } from "./decoy_response.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const parse = (s: string) => parseDecoyHead(bytes(s));

Deno.test("decoy request head: nginx answers a bad request line at the offending byte, not at the end", () => {
  // No CRLF yet, but nginx already knows.
  assert.deepEqual(parse("GET /a b"), { kind: "error", status: 400, http09: false });
  assert.deepEqual(parse("get"), { kind: "error", status: 400, http09: false });
  assert.deepEqual(parse("GET / HTTP/2"), { kind: "error", status: 505, http09: false });
  assert.deepEqual(parse("GET / HTTP/0"), { kind: "error", status: 400, http09: false });
  assert.equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX-a: b").kind, "more");
  assert.equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").kind, "request");
  // Limits: an 8 KiB request line is 414, an 8 KiB header line 400 (494's page).
  assert.equal((parse(`GET /${"a".repeat(8200)}`) as { status: number }).status, 414);
  assert.equal(
    (parse(`GET / HTTP/1.1\r\nX: ${"a".repeat(8200)}`) as { status: number }).status,
    494,
  );
});

Deno.test("decoy request head: header rules (Host, lengths, Transfer-Encoding, TRACE, HTTP/0.9)", () => {
  const status = (s: string) => {
    const r = parse(s);
    return r.kind === "error" ? r.status : r.kind;
  };
  assert.equal(status("GET / HTTP/1.1\r\n\r\n"), 400); // no Host on 1.1
  assert.equal(status("GET / HTTP/1.0\r\n\r\n"), "request");
  assert.equal(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: a..b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  assert.equal(
    status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
    400,
  );
  assert.equal(status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  assert.equal(status("TRACE / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
  assert.equal(
    status("GET / HTTP/1.1\r\nHost: x\r\nX_y: ignored\r\nBad(name): too\r\n\r\n"),
    "request",
  );
  assert.deepEqual(parse("HEAD /\r\n"), { kind: "error", status: 400, http09: true });
  const r = parse("GET /x?y#z\r\n");
  assert.ok(r.kind === "request" && r.request.version === 9 && r.request.args === "y");
});

Deno.test("decoy paths and responses: nginx's normalisation, header order, ranges", () => {
  assert.equal(normalizeDecoyPath("/a/%2e%2e/b/./c//"), "/b/c/");
  assert.equal(normalizeDecoyPath("/%2F"), "/");
  assert.equal(normalizeDecoyPath("/a%00"), null);
  assert.equal(normalizeDecoyPath("/.."), null);
  const file = { body: bytes("0123456789"), type: "text/plain", mtime: new Date(86_400_000) };
  const ctx = { scheme: "https" as const, port: 443, localAddress: "192.0.2.1" };
  const req = (extra: string) => {
    const r = parse(`GET /f HTTP/1.1\r\nHost: h\r\n${extra}\r\n`);
    if (r.kind !== "request") throw new Error(r.kind);
    return r.request;
  };
  const head = serializeDecoyHead(
    decoyStaticResponse(req(""), { kind: "file", file }, ctx),
    true,
    new Date(0),
  );
  assert.equal(
    head,
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n" +
      "Content-Type: text/plain\r\nContent-Length: 10\r\nLast-Modified: Fri, 02 Jan 1970 00:00:00 GMT\r\n" +
      'Connection: keep-alive\r\nETag: "15180-a"\r\nAccept-Ranges: bytes\r\n\r\n',
  );
  const part = decoyStaticResponse(req("Range: bytes=-3\r\n"), { kind: "file", file }, ctx);
  assert.equal(part.status, 206);
  assert.deepEqual(part.extra.at(-1), ["Content-Range", "bytes 7-9/10"]);
  assert.equal(
    decoyStaticResponse(req("Range: bytes=0-5,3-9\r\n"), { kind: "file", file }, ctx).status,
    200,
  );
  assert.equal(
    decoyStaticResponse(req("Range: bytes=20-\r\n"), { kind: "file", file }, ctx).status,
    416,
  );
  const dir = decoyStaticResponse(req(""), { kind: "dir" }, ctx);
  assert.equal(dir.location, "https://h/f/");
  assert.equal(decoyError(404).body.length, 146);
  assert.equal(decoyError(404, true).body.length, 146 + 6 * 67);
});
