import assert from "node:assert/strict";
import fc from "fast-check";
import { CoreError } from "../util/errors.ts";
import { TransportUrlError } from "./errors.ts";
import { hostPort } from "./hostport.ts";
import { parseProxyUrl, parseTransportUrl, WS_SSH_PATH } from "./url.ts";
import { parseIrohUrl } from "./iroh_url.ts";

Deno.test("url: every transport scheme, IPv4, IPv6 and names", () => {
  const cases: [string, object][] = [
    ["127.0.0.1:22", { scheme: "tcp", host: "127.0.0.1", port: 22 }],
    ["[::1]:2222", { scheme: "tcp", host: "::1", port: 2222 }],
    ["tcp://example.com:0", { scheme: "tcp", host: "example.com", port: 0 }],
    ["TCP://h:1", { scheme: "tcp", host: "h", port: 1 }],
    ["tls://[2001:db8::1]:443", { scheme: "tls", host: "2001:db8::1", port: 443 }],
    ["tls://h:443/", { scheme: "tls", host: "h", port: 443 }],
    ["quic://[::1]:4433", { scheme: "quic", host: "::1", port: 4433 }],
    ["ws://h:80", { scheme: "ws", host: "h", port: 80, path: WS_SSH_PATH }],
    ["ws://h:80/", { scheme: "ws", host: "h", port: 80, path: WS_SSH_PATH }],
    ["ws://h:80/x/y", { scheme: "ws", host: "h", port: 80, path: "/x/y" }],
    ["wss://[::1]:8443/alknet/call", {
      scheme: "wss",
      host: "::1",
      port: 8443,
      path: "/alknet/call",
    }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseTransportUrl(text), want, text);
});

Deno.test("url: malformed and unsupported transport URLs are TransportUrlError (a CoreError)", () => {
  const cases: [string, RegExp][] = [
    ["ftp://h:1", /unknown scheme 'ftp'/],
    ["iroh://abc", /unknown scheme 'iroh'/],
    ["tls://h", /must be HOST:PORT/],
    ["tls://h:1/path", /takes no path/],
    ["quic://::1:443", /must be HOST:PORT/],
    ["tcp://h:65536", /out of range/],
    ["tcp://:22", /host is empty/],
    ["://h:1", /malformed URL/],
    ["h", /must be HOST:PORT/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseTransportUrl(text),
      (e: unknown) =>
        e instanceof TransportUrlError && e instanceof CoreError && e.code === "transport-url" &&
        e.url === text && re.test(e.message),
      text,
    );
  }
});

Deno.test("url: proxy URLs, credentials hidden in errors", () => {
  assert.deepEqual(parseProxyUrl("socks5://127.0.0.1:1080"), {
    kind: "socks5",
    host: "127.0.0.1",
    port: 1080,
    credentials: undefined,
  });
  assert.equal(parseProxyUrl("socks5h://[::1]:9050").host, "::1");
  assert.deepEqual(parseProxyUrl("http://me:p%40ss@proxy:3128/").credentials, {
    username: "me",
    password: "p@ss",
  });
  assert.equal(parseProxyUrl("http://me@proxy:3128").credentials?.password, "");
  for (const bad of ["ftp://h:1", "socks5://h", "socks5://h:0", "http://h:1/path", "h:1"]) {
    assert.throws(() => parseProxyUrl(bad), TransportUrlError, bad);
  }
  assert.throws(
    () => parseProxyUrl("socks4://me:hunter2@h:1"),
    (e: unknown) => e instanceof TransportUrlError && !e.message.includes("hunter2"),
  );
});

Deno.test("url: iroh:// dial and listen forms", () => {
  const id = "ab".repeat(32);
  assert.deepEqual(parseIrohUrl("iroh://"), { relay: true });
  assert.deepEqual(parseIrohUrl(`iroh://${id}`), { relay: true, nodeId: id });
  assert.deepEqual(parseIrohUrl(`iroh://${id}@[::1]:4433?relay=off`), {
    relay: false,
    nodeId: id,
    host: "::1",
    port: 4433,
  });
  assert.deepEqual(parseIrohUrl("iroh://127.0.0.1:0?relay=on"), {
    relay: true,
    host: "127.0.0.1",
    port: 0,
  });
  const cases: [string, RegExp][] = [
    ["tcp://h:1", /not an iroh:\/\/ URL/],
    [`iroh://${id}?relay=maybe`, /unknown option/],
    [`iroh://${id}?x=1`, /unknown option/],
    ["iroh://short@h:1", /malformed node id/],
    [`iroh://${id}@`, /address missing/],
    ["iroh://h", /must be HOST:PORT/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseIrohUrl(text),
      (e: unknown) => e instanceof TransportUrlError && re.test(e.message),
      text,
    );
  }
});

const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
const port = fc.integer({ min: 0, max: 65535 });

Deno.test("url: scheme://HOST:PORT parses back to its parts (property)", () => {
  fc.assert(
    fc.property(fc.constantFrom("tcp", "tls", "quic"), host, port, (scheme, h, p) => {
      assert.deepEqual(parseTransportUrl(`${scheme}://${hostPort(h, p)}`), {
        scheme,
        host: h,
        port: p,
      });
    }),
  );
});

Deno.test("url: arbitrary text either parses or throws TransportUrlError (property)", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      for (const parse of [parseTransportUrl, parseProxyUrl, parseIrohUrl]) {
        try {
          parse(text);
        } catch (e) {
          assert.ok(e instanceof TransportUrlError, `${parse.name}(${JSON.stringify(text)})`);
        }
      }
    }),
  );
});
