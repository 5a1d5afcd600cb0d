// Property-based fuzzing of transport and proxy URLs: hostile and mutated
// text, format -> parse round trips, and proxy credentials never echoed in
// error messages.
import assert from "node:assert/strict";
import {
  bracketed,
  fc,
  type FuzzCase,
  fuzzTests,
  hostName,
  mutatedText,
  outcome,
  rawText,
} from "../../tests/fuzz_util.ts";
import { TransportUrlError } from "./errors.ts";
import { parseProxyUrl, parseTransportUrl, type TransportUrl, WS_SSH_PATH } from "./url.ts";

const SCHEMES = ["tcp", "tls", "quic", "ws", "wss"] as const;

function format(u: TransportUrl): string {
  return `${u.scheme}://${bracketed(u.host)}:${u.port}${u.path ?? ""}`;
}

function checkTransport(text: string) {
  const r = outcome(() => parseTransportUrl(text), [TransportUrlError]);
  if (!r.ok) return r.error;
  const u = r.value;
  assert.ok((SCHEMES as readonly string[]).includes(u.scheme));
  assert.ok(u.host.length > 0);
  assert.ok(Number.isInteger(u.port) && u.port >= 0 && u.port <= 65535);
  if (u.scheme === "ws" || u.scheme === "wss") assert.ok(u.path?.startsWith("/"));
  else assert.equal(u.path, undefined);
  assert.deepEqual(parseTransportUrl(format(u)), u);
  return u;
}

const transportUrl: fc.Arbitrary<TransportUrl> = fc.tuple(
  fc.constantFrom(...SCHEMES),
  hostName,
  fc.integer({ min: 0, max: 65535 }),
  fc.stringMatching(/^(\/[a-zA-Z0-9._~%-]{0,12}){1,3}$/),
).map(([scheme, host, port, path]) => {
  const u: TransportUrl = { scheme, host, port };
  if (scheme === "ws" || scheme === "wss") u.path = path === "/" ? WS_SSH_PATH : path;
  return u;
});

interface ProxySpec {
  scheme: string;
  user?: string;
  pass: string;
  host: string;
  port: number;
  slash: boolean;
}

const secret = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/);
const proxy: fc.Arbitrary<ProxySpec> = fc.record({
  scheme: fc.constantFrom("socks5", "socks5h", "http", "SOCKS5"),
  user: fc.option(fc.string({ unit: "binary", maxLength: 20 }), { nil: undefined }),
  pass: fc.string({ unit: "binary", maxLength: 20 }),
  host: hostName,
  port: fc.integer({ min: 1, max: 65535 }),
  slash: fc.boolean(),
});

function formatProxy(
  p: ProxySpec,
): string {
  const creds = p.user === undefined
    ? ""
    : `${encodeURIComponent(p.user)}:${encodeURIComponent(p.pass)}@`;
  return `${p.scheme}://${creds}${bracketed(p.host)}:${p.port}${p.slash ? "/" : ""}`;
}

export const cases: FuzzCase[] = [
  {
    name:
      "transport URL: raw and mutated text give a URL (which formats and reparses equal) or TransportUrlError",
    runs: 3500,
    property: fc.property(
      fc.oneof(rawText, mutatedText(transportUrl.map(format))),
      (t) => void checkTransport(t),
    ),
  },
  {
    name: "transport URL: format -> parse round trip; bare HOST:PORT is tcp",
    runs: 2100,
    property: fc.property(transportUrl, (u) => {
      assert.deepEqual(checkTransport(format(u)), u);
      if (u.scheme === "tcp") assert.deepEqual(checkTransport(`${bracketed(u.host)}:${u.port}`), u);
    }),
  },
  {
    name:
      "proxy URL: raw and mutated text give a proxy or TransportUrlError; round trip with percent-encoded credentials",
    runs: 2800,
    property: fc.property(
      proxy,
      fc.oneof(rawText, mutatedText(proxy.map(formatProxy))),
      (p, junk) => {
        const j = outcome(() => parseProxyUrl(junk), [TransportUrlError]);
        if (j.ok) assert.ok(j.value.port >= 1 && j.value.host.length > 0);
        const r = outcome(() => parseProxyUrl(formatProxy(p)), [TransportUrlError]);
        const tooLong = p.user !== undefined && (p.user.length > 255 || p.pass.length > 255);
        assert.equal(r.ok, !tooLong);
        if (!r.ok) return;
        assert.equal(r.value.kind, p.scheme.toLowerCase() === "http" ? "http" : "socks5");
        assert.equal(r.value.host, p.host);
        assert.equal(r.value.port, p.port);
        assert.deepEqual(
          r.value.credentials,
          p.user === undefined ? undefined : { username: p.user, password: p.pass },
        );
      },
    ),
  },
  {
    name: "proxy URL: a password is never echoed in an error message",
    runs: 2100,
    property: fc.property(
      fc.constantFrom("socks5", "http", "ftp", "socks4"),
      fc.stringMatching(/^[a-z]{1,8}$/),
      secret,
      fc.oneof(hostName.map(bracketed), fc.constantFrom("", "[::1", "a b", "h/x")),
      fc.oneof(fc.integer({ min: 0, max: 70000 }).map(String), fc.constantFrom("", "x", "-1")),
      (scheme, user, pass, host, port) => {
        const r = outcome(() => parseProxyUrl(`${scheme}://${user}:${pass}@${host}:${port}`), [
          TransportUrlError,
        ]);
        if (!r.ok) assert.ok(!r.error.message.includes(pass), r.error.message);
      },
    ),
  },
];

fuzzTests(cases);
