/**
 * NODELAY check, as a measurement rather than a test: a server that answers
 * each byte with two one-byte writes; with Nagle and delayed ACKs each round
 * trip takes about 40 ms, with TCP_NODELAY well under 1 ms on loopback.
 *
 * Run: `deno run -A bench/nodelay.ts`
 *
 * @module
 */

import { listenEndpoint, transportDialer } from "../core/transport/mod.ts";
import { readN, testCert } from "../tests/transport_util.ts";

const enc = new TextEncoder();
const rounds = 200;
const { ck } = await testCert();
for (const scheme of ["tcp", "tls", "quic", "ws", "wss"] as const) {
  const ep = await listenEndpoint(`${scheme}://127.0.0.1:0`, {
    ...ck,
    handlers: {
      ssh: (c) => {
        (async () => {
          const b = new Uint8Array(1024);
          while (true) {
            const n = await c.read(b).catch(() => null);
            if (n === null) break;
            await c.write(new Uint8Array([1]));
            await c.write(new Uint8Array([2]));
          }
          c.close();
        })();
      },
    },
  });
  const conn = await transportDialer(scheme, { caCerts: [ck.cert], serverName: "localhost" })(
    "127.0.0.1",
    ep.addr.port,
  );
  try {
    if (scheme === "tcp") {
      await conn.write(enc.encode("SSH-2.0-x\r\n"));
      await readN(conn, 2);
    }
    // rounds: see the top of the file
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      await conn.write(new Uint8Array([9]));
      await readN(conn, 2);
    }
    const perRound = (performance.now() - t0) / rounds;
    // With Nagle and delayed ACKs each round takes ≈ 40 ms; with NODELAY well under 1 ms.
    console.log(
      `${scheme.padEnd(5)} ${perRound.toFixed(2)} ms per round trip${
        perRound > 15 ? "  <-- held back (Nagle?)" : ""
      }`,
    );
  } finally {
    conn.close();
    await ep.close();
  }
}
