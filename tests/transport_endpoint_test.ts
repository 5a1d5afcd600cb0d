import assert from "node:assert/strict";
import {
  EndpointConfigError,
  listenEndpoint,
  parseTransportUrl,
  TransportUrlError,
} from "../core/transport/mod.ts";
import { readAll, sleep, tagHandler, testCert } from "./transport_util.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

Deno.test("transport URLs parse and reject what they should", () => {
  assert.deepEqual(parseTransportUrl("127.0.0.1:22"), {
    scheme: "tcp",
    host: "127.0.0.1",
    port: 22,
  });
  assert.deepEqual(parseTransportUrl("quic://[::1]:443"), {
    scheme: "quic",
    host: "::1",
    port: 443,
  });
  assert.equal(parseTransportUrl("wss://example.com:443").path, "/alknet/ssh");
  assert.equal(parseTransportUrl("ws://h:80/x/y").path, "/x/y");
  assert.throws(() => parseTransportUrl("ftp://h:1"), TransportUrlError);
  assert.throws(() => parseTransportUrl("tls://h"), TransportUrlError);
  assert.throws(() => parseTransportUrl("tls://h:1/path"), TransportUrlError);
});

Deno.test("endpoint configuration errors are raised at start", async () => {
  const { ck } = await testCert();
  const ssh = () => {};
  await assert.rejects(
    listenEndpoint("tls://127.0.0.1:0", { handlers: { ssh } }),
    EndpointConfigError,
  );
  await assert.rejects(
    listenEndpoint("tls://127.0.0.1:0", {
      ...ck,
      handlers: { ssh },
      alpn: ["alknet/ssh", "alknet/ssh"],
    }),
    /listed twice/,
  );
  await assert.rejects(
    listenEndpoint("tls://127.0.0.1:0", { ...ck, handlers: { ssh }, alpn: ["alknet/tcp"] }),
    /handlers\.tcp is missing/,
  );
  await assert.rejects(
    listenEndpoint("quic://127.0.0.1:0", { ...ck, handlers: { ssh }, alpn: ["h2"] }),
    /cannot be served over QUIC/,
  );
  await assert.rejects(
    listenEndpoint("tls://127.0.0.1:0", { ...ck, handlers: { ssh }, alpn: ["spdy/3"] }),
    /unknown ALPN/,
  );
});

Deno.test("TLS: each ALPN reaches its handler, HTTP ALPNs reach Deno.serve, unknown ALPN is closed", async () => {
  const { ck } = await testCert();
  const calls: string[] = [];
  const ep = await listenEndpoint("tls://127.0.0.1:0", {
    ...ck,
    handlers: {
      ssh: tagHandler("ssh", calls),
      call: tagHandler("call", calls),
      tcp: tagHandler("tcp", calls),
      http: (req, info) =>
        new Response(`http ${new URL(req.url).pathname} from ${info.remoteAddress} ${info.alpn}`),
    },
  });
  try {
    assert.deepEqual(ep.alpn, ["alknet/ssh", "alknet/call", "alknet/tcp", "h2", "http/1.1"]);
    for (const alpn of ["alknet/ssh", "alknet/call", "alknet/tcp"]) {
      const c = await Deno.connectTls({
        hostname: "localhost",
        port: ep.addr.port,
        caCerts: [ck.cert],
        alpnProtocols: [alpn],
      });
      assert.equal((await c.handshake()).alpnProtocol, alpn);
      assert.equal(dec.decode(await readAll(c)), alpn.slice(7));
      c.close();
    }
    assert.deepEqual(calls, ["ssh:tls:alknet/ssh", "call:tls:alknet/call", "tcp:tls:alknet/tcp"]);

    const h1 = await Deno.connectTls({
      hostname: "localhost",
      port: ep.addr.port,
      caCerts: [ck.cert],
      alpnProtocols: ["http/1.1"],
    });
    await h1.write(enc.encode("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    const resp = dec.decode(await readAll(h1));
    h1.close();
    assert.match(resp, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(resp, /http \/x from 127\.0\.0\.1 http\/1\.1$/);

    const client = Deno.createHttpClient({ caCerts: [ck.cert], http2: true, http1: false });
    try {
      const r = await fetch(`https://localhost:${ep.addr.port}/h2`, { client });
      assert.equal(await r.text(), "http /h2 from 127.0.0.1 h2");
    } finally {
      client.close();
    }

    await assert.rejects(async () => {
      const c = await Deno.connectTls({
        hostname: "localhost",
        port: ep.addr.port,
        caCerts: [ck.cert],
        alpnProtocols: ["nope/1"],
      });
      try {
        await c.handshake();
      } finally {
        c.close();
      }
    });
  } finally {
    await ep.close();
  }
});

Deno.test("QUIC: alknet/ssh uses the first stream, alknet/tcp and alknet/call one handler per stream", async () => {
  const { ck } = await testCert();
  const calls: string[] = [];
  const ep = await listenEndpoint("quic://127.0.0.1:0", {
    ...ck,
    handlers: {
      ssh: tagHandler("ssh", calls),
      call: tagHandler("call", calls),
      tcp: tagHandler("tcp", calls),
    },
  });
  try {
    assert.deepEqual(ep.alpn, ["alknet/ssh", "alknet/call", "alknet/tcp"]);
    for (const alpn of ["alknet/ssh", "alknet/tcp", "alknet/call"]) {
      const qc = await Deno.connectQuic({
        hostname: "127.0.0.1",
        serverName: "localhost",
        port: ep.addr.port,
        caCerts: [ck.cert],
        alpnProtocols: [alpn],
      });
      assert.equal(qc.protocol, alpn);
      const streams = alpn === "alknet/ssh" ? 1 : 3;
      for (let i = 0; i < streams; i++) {
        const s = await qc.createBidirectionalStream();
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([1]));
        await w.close();
        let text = "";
        try {
          for await (const chunk of s.readable) text += dec.decode(chunk);
        } catch (e) {
          throw new Error(
            `${alpn} stream ${i}: ${(e as Error).message} after ${JSON.stringify(text)}`,
          );
        }
        assert.equal(text, alpn.slice(7));
      }
      qc.close();
    }
    assert.equal(calls.filter((c) => c.startsWith("ssh:quic")).length, 1);
    assert.equal(calls.filter((c) => c.startsWith("tcp:quic:alknet/tcp")).length, 3);
    assert.equal(calls.filter((c) => c.startsWith("call:quic")).length, 3);
  } finally {
    await ep.close();
  }
});

Deno.test("peek: split SSH banner, short EOF, garbage, HTTP, and a silent client dropped at the timeout", async () => {
  const { ck } = await testCert();
  const got: string[] = [];
  const sshHandler = (conn: Deno.Conn | import("../core/transport/stream.ts").ByteConn) => {
    (async () => {
      const bytes = await readAll(conn, 3000);
      got.push(dec.decode(bytes));
      conn.close();
    })();
  };
  for (const scheme of ["tcp", "tls"] as const) {
    got.length = 0;
    const ep = await listenEndpoint(`${scheme}://127.0.0.1:0`, {
      ...ck,
      peekTimeoutMs: 400,
      handlers: { ssh: sshHandler, http: () => new Response("web\n") },
    });
    const open = async (): Promise<Deno.Conn> => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: ep.addr.port });
      tcp.setNoDelay(true);
      if (scheme === "tcp") return tcp;
      return await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ck.cert] });
    };
    try {
      // SSH banner split across packets.
      let c = await open();
      await c.write(enc.encode("SS"));
      await sleep(50);
      await c.write(enc.encode("H-2"));
      await sleep(50);
      await c.write(enc.encode(".0-split\r\n"));
      await c.closeWrite();
      await readAll(c, 3000);
      c.close();
      // EOF before 8 bytes, still SSH-looking.
      c = await open();
      await c.write(enc.encode("SSH-2"));
      await c.closeWrite();
      await readAll(c, 3000);
      c.close();
      for (let i = 0; i < 50 && got.length < 2; i++) await sleep(20);
      assert.deepEqual(got.sort(), ["SSH-2", "SSH-2.0-split\r\n"]);
      // Garbage: not SSH, goes to HTTP (which rejects it), never to the SSH handler.
      c = await open();
      await c.write(enc.encode("\x00\x01garbage-bytes\r\n\r\n"));
      const g = dec.decode(await readAll(c, 3000));
      c.close();
      assert.ok(g === "" || g.startsWith("HTTP/1.1 400"), `garbage answered ${JSON.stringify(g)}`);
      // A real HTTP request on the same port.
      c = await open();
      await c.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      const h = dec.decode(await readAll(c, 3000));
      c.close();
      assert.match(h, /^HTTP\/1\.1 200 OK/);
      assert.match(h, /web\n$/);
      // A client that sends nothing is dropped at the peek timeout.
      // (The bound below only keeps the test from hanging: the assertion is that the
      // server closed the connection, not how long it took.)
      c = await open();
      const dropped = await Promise.race([
        c.read(new Uint8Array(1)).catch(() => null),
        new Promise<"still open">((r) => setTimeout(() => r("still open"), 20_000)),
      ]);
      c.close();
      assert.equal(dropped, null, "a silent client is dropped at the peek timeout");
      assert.equal(got.length, 2, "the SSH handler saw only the two SSH clients");
    } finally {
      await ep.close();
    }
  }
});
