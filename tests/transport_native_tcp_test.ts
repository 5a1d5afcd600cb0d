import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  mintToken,
  parsePrivateKey,
  RulePolicy,
} from "@alknet/core/auth";
import { Logger } from "@alknet/core";
import {
  type ConnInfo,
  decodeNativeTcpHeader,
  encodeNativeTcpHeader,
  listenEndpoint,
  NativeTcpError,
} from "@alknet/core/transport";
import {
  nativeTcpHandler,
  nativeTcpOverQuic,
  nativeTcpOverTls,
  openNativeTcp,
} from "@alknet/core/ssh";
import { writeAll } from "../core/transport/stream.ts";
import { randomBytes, readN, testCert } from "./transport_util.ts";

/** A loopback server that answers each connection with SHA-256 of what it received. */
function hashServer(): { port: number; close(): Promise<void> } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    try {
      for await (const c of l) {
        conns.add(c);
        c.setNoDelay(true);
        (async () => {
          try {
            const chunks: Uint8Array[] = [];
            const buf = new Uint8Array(64 * 1024);
            while (true) {
              const n = await c.read(buf);
              if (n === null) break;
              chunks.push(buf.slice(0, n));
            }
            const all = new Uint8Array(chunks.reduce((a, b) => a + b.length, 0));
            let off = 0;
            for (const ch of chunks) {
              all.set(ch, off);
              off += ch.length;
            }
            await writeAll(c, new Uint8Array(await crypto.subtle.digest("SHA-256", all)));
          } catch {
            /* reset */
          } finally {
            conns.delete(c);
            try {
              c.close();
            } catch { /* closed */ }
          }
        })();
      }
    } catch { /* closed */ }
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    async close() {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

Deno.test("native header: round trip, bounds, malformed input", () => {
  const h = { token: "t".repeat(139), host: "db.internal", port: 5432 };
  const bytes = encodeNativeTcpHeader(h);
  for (let i = 0; i < bytes.length; i++) {
    assert.equal(decodeNativeTcpHeader(bytes.subarray(0, i)), null);
  }
  assert.deepEqual(decodeNativeTcpHeader(bytes)?.header, h);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([2])), NativeTcpError);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([1, 0, 0])), /bad token length/);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([1, 0xff, 0xff])), /bad token length/);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([1, 0, 1, 65, 0])), /empty host/);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([1, 0, 1, 65, 1, 65, 0, 0])), /port 0/);
  assert.throws(() => decodeNativeTcpHeader(new Uint8Array([1, 0, 1, 65, 1, 0xff, 0, 1])), /UTF-8/);
  assert.throws(() => encodeNativeTcpHeader({ token: "", host: "h", port: 1 }), NativeTcpError);
  assert.throws(
    () => encodeNativeTcpHeader({ token: "t", host: "h".repeat(256), port: 1 }),
    NativeTcpError,
  );
  assert.throws(
    () => encodeNativeTcpHeader({ token: "t", host: "h", port: 70000 }),
    NativeTcpError,
  );
});

Deno.test("alknet/tcp over TLS and QUIC: refusals, then 50 concurrent forwards with checksums each", async () => {
  const { ck } = await testCert();
  const key = generateEd25519Key("client");
  const seed = parsePrivateKey(key.privateText, "client").seed!;
  const denied = generateEd25519Key("other");
  const auth = AuthorizedKeysAuthenticator.fromText(
    `${key.publicLine}\npermitopen="127.0.0.1:1" ${denied.publicLine}\n`,
    "inline",
  );
  const lines: string[] = [];
  const target = hashServer();
  const policy = new RulePolicy([{ action: "deny", target: "10.0.0.0/8" }]);
  const tcp = nativeTcpHandler({
    resolveToken: (token: string, info: ConnInfo) => {
      const r = auth.authorizeToken(token, info.remoteAddress);
      return r.ok ? { identity: r.identity, restrictions: r.restrictions } : null;
    },
    policy,
    logger: new Logger("text", (l) => lines.push(l)),
  });
  const tlsEp = await listenEndpoint("tls://127.0.0.1:0", {
    ...ck,
    handlers: { ssh: (c) => c.close(), tcp },
  });
  const quicEp = await listenEndpoint("quic://127.0.0.1:0", {
    ...ck,
    handlers: { ssh: (c) => c.close(), tcp },
  });
  const trust = { caCerts: [ck.cert], serverName: "localhost" };
  const quic = nativeTcpOverQuic("127.0.0.1", quicEp.addr.port, trust);
  const openers = [
    ["tls", nativeTcpOverTls("127.0.0.1", tlsEp.addr.port, trust)],
    ["quic", quic.open],
  ] as const;
  try {
    for (const [name, open] of openers) {
      const token = mintToken(seed);
      // No valid token.
      await assert.rejects(
        openNativeTcp(open, "not-a-token", "127.0.0.1", target.port),
        (e) => e instanceof NativeTcpError && e.status === "forbidden",
      );
      // Token of a key whose permitopen= excludes the target.
      await assert.rejects(
        openNativeTcp(
          open,
          mintToken(parsePrivateKey(denied.privateText, "d").seed!),
          "127.0.0.1",
          target.port,
        ),
        (e) => e instanceof NativeTcpError && e.status === "forbidden",
      );
      // Forwarding policy.
      await assert.rejects(
        openNativeTcp(open, token, "10.1.2.3", 80),
        (e) => e instanceof NativeTcpError && e.status === "forbidden",
      );
      // Reserved destinations are never dialled.
      await assert.rejects(
        openNativeTcp(open, token, "alknet-control", 1),
        (e) => e instanceof NativeTcpError && e.status === "forbidden",
      );
      // Refused target.
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const closedPort = (closed.addr as Deno.NetAddr).port;
      closed.close();
      await assert.rejects(
        openNativeTcp(open, token, "127.0.0.1", closedPort),
        (e) => e instanceof NativeTcpError && e.status === "refused",
      );
      // A malformed header.
      const raw = await open();
      await writeAll(raw, new Uint8Array([9, 9, 9, 9]));
      assert.deepEqual(await readN(raw, 2, 5000), new Uint8Array([4]));
      raw.close();

      // 50 concurrent forwards, each with its own payload and checksum.
      const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        const payload = randomBytes(8 * 1024 + i * 997);
        const conn = await openNativeTcp(open, token, "127.0.0.1", target.port);
        try {
          await writeAll(conn, payload);
          await conn.closeWrite!();
          const digest = await readN(conn, 32, 10_000);
          const want = new Uint8Array(
            await crypto.subtle.digest("SHA-256", payload as Uint8Array<ArrayBuffer>),
          );
          return digest.length === 32 && digest.every((b, j) => b === want[j]);
        } finally {
          conn.close();
        }
      }));
      assert.equal(results.filter((ok) => ok).length, 50, `${name}: checksums`);
    }
    assert.ok(lines.some((l) => /auth result=reject .*method=token/.test(l)));
    assert.ok(
      !lines.some((l) => l.includes("10.1.2.3") || l.includes(String(target.port))),
      "targets never logged",
    );
  } finally {
    quic.close();
    await tlsEp.close();
    await quicEp.close();
    await target.close();
  }
});
