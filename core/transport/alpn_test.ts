import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import {
  ALPN_CALL,
  ALPN_H2,
  ALPN_HTTP1,
  ALPN_SSH,
  ALPN_TCP,
  alpnRoute,
  ENDPOINT_ALPNS,
  HTTP_ALPNS,
  offeredAlpns,
} from "./alpn.ts";
import { EndpointConfigError } from "./errors.ts";
import { ListenContext } from "./listen_context.ts";
import { duplexToConn } from "./conn.ts";
import type { ConnInfo } from "./endpoint_types.ts";
import { Logger } from "../util/log.ts";

Deno.test("alpn: the names", () => {
  assert.deepEqual(
    [ALPN_SSH, ALPN_CALL, ALPN_TCP, ALPN_H2, ALPN_HTTP1],
    ["alknet/ssh", "alknet/call", "alknet/tcp", "h2", "http/1.1"],
  );
  assert.deepEqual([...ENDPOINT_ALPNS], [
    "alknet/ssh",
    "alknet/call",
    "alknet/tcp",
    "h2",
    "http/1.1",
  ]);
  assert.deepEqual([...HTTP_ALPNS], ["h2", "http/1.1"]);
});

Deno.test("alpn: dispatch table, ALPN to route", () => {
  const table: [string, string | undefined][] = [
    ["alknet/ssh", "ssh"],
    ["alknet/call", "call"],
    ["alknet/tcp", "tcp"],
    ["h2", "http"],
    ["http/1.1", "http"],
    ["h3", undefined],
    ["ALKNET/SSH", undefined],
    ["", undefined],
    ["alknet/", undefined],
  ];
  for (const [alpn, route] of table) assert.equal(alpnRoute(alpn), route, alpn);
});

Deno.test("alpn: offered by default, by handler and transport", () => {
  const table: [{ call?: boolean; tcp?: boolean }, boolean, string[]][] = [
    [{}, false, ["alknet/ssh", "h2", "http/1.1"]],
    [{ call: true }, false, ["alknet/ssh", "alknet/call", "h2", "http/1.1"]],
    [{ call: true, tcp: true }, false, [
      "alknet/ssh",
      "alknet/call",
      "alknet/tcp",
      "h2",
      "http/1.1",
    ]],
    [{}, true, ["alknet/ssh"]],
    [{ tcp: true }, true, ["alknet/ssh", "alknet/tcp"]],
    [{ call: true, tcp: true }, true, ["alknet/ssh", "alknet/call", "alknet/tcp"]],
  ];
  for (const [handlers, quic, want] of table) {
    assert.deepEqual(offeredAlpns(handlers, { quic }), want, JSON.stringify({ handlers, quic }));
  }
  assert.deepEqual(
    offeredAlpns({ tcp: true }, { quic: false, requested: ["alknet/tcp", "alknet/ssh"] }),
    ["alknet/tcp", "alknet/ssh"],
  );
});

Deno.test("alpn: requested lists are checked", () => {
  const bad: [{ call?: boolean; tcp?: boolean }, boolean, string[], RegExp][] = [
    [{}, false, ["alknet/ssh", "alknet/ssh"], /listed twice/],
    [{}, false, ["smtp"], /unknown ALPN 'smtp'/],
    [{}, false, ["alknet/tcp"], /handlers\.tcp is missing/],
    [{}, false, ["alknet/call"], /handlers\.call is missing/],
    [{}, true, ["h2"], /cannot be served over QUIC/],
    [{}, false, [], /no ALPN to offer/],
  ];
  for (const [handlers, quic, requested, re] of bad) {
    assert.throws(
      () => offeredAlpns(handlers, { quic, requested }),
      (e: unknown) =>
        e instanceof EndpointConfigError && e.code === "endpoint-config" && re.test(e.message),
      requested.join(","),
    );
  }
});

Deno.test("alpn: a listener hands each ALPN to its handler, unknown ones are rejected", async () => {
  const seen: string[] = [];
  const lines: string[] = [];
  const handler = (tag: string) => (c: { close(): void }) => {
    seen.push(tag);
    c.close();
  };
  const ctx = new ListenContext({
    handlers: { ssh: handler("ssh"), call: handler("call"), tcp: handler("tcp") },
    logger: new Logger("text", (l) => lines.push(l)),
  });
  const info: ConnInfo = { remoteAddress: "127.0.0.1", remotePort: 1, transport: "tls" };
  const conn = () => ctx.track(duplexToConn(new PassThrough()));
  for (const alpn of ["alknet/ssh", "alknet/call", "alknet/tcp", "smtp"]) {
    ctx.dispatch(alpn, conn(), { ...info, alpn });
  }
  assert.deepEqual(seen, ["ssh", "call", "tcp"]);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /conn rejected remote=127\.0\.0\.1:1 transport=tls reason=unknown-alpn/);

  const noOptional = new ListenContext({ handlers: { ssh: handler("ssh") } });
  noOptional.dispatch("alknet/tcp", conn(), info);
  assert.deepEqual(seen, ["ssh", "call", "tcp"], "alknet/tcp without a handler is closed");
  ctx.beginClose();
  ctx.closeOpen();
  await ctx.http.close();
});
