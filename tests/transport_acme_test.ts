import assert from "node:assert/strict";
import {
  acmeCertificate,
  AcmeManager,
  certificateNotAfter,
  listenEndpoint,
} from "../core/transport/mod.ts";
import { readAll } from "./transport_util.ts";
import { startPebble, within } from "./pebble.ts";

Deno.test("ACME against pebble: HTTP-01 issuance, cache, renewal, and a TLS endpoint serving the certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-acme-" });
  const p = await startPebble(dir);
  try {
    const options = {
      domains: ["node.alknet-test.example", "www.alknet-test.example"],
      dataDir: `${dir}/data`,
      directoryUrl: `https://127.0.0.1:${p.ports.acme}/dir`,
      http01: { hostname: "127.0.0.1", port: p.ports.http },
      caCerts: [p.caCert],
    };
    const first = await within(acmeCertificate(options), 60_000, "first ACME order");
    assert.ok(certificateNotAfter(first.cert).getTime() > Date.now() + 30 * 86400_000);
    const keyMode = (await Deno.stat(`${dir}/data/acme/node.alknet-test.example.key`)).mode! &
      0o777;
    assert.equal(keyMode, 0o600);
    // Cached: same certificate, no new order.
    assert.equal(
      (await within(acmeCertificate(options), 10_000, "cached certificate")).fingerprint,
      first.fingerprint,
    );

    const ep = await listenEndpoint("tls://127.0.0.1:0", {
      ...first,
      handlers: { ssh: (c) => c.close(), http: () => new Response("acme ok") },
    });
    try {
      const get = async () => {
        const tcp = await Deno.connect({ hostname: "127.0.0.1", port: ep.addr.port });
        const c = await Deno.startTls(tcp, {
          hostname: "www.alknet-test.example",
          caCerts: [p.root],
          alpnProtocols: ["http/1.1"],
        });
        await c.write(
          new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        );
        const text = new TextDecoder().decode(await readAll(c));
        c.close();
        return text;
      };
      assert.match(await get(), /acme ok$/);

      // Renewal: with a renewal window longer than the validity, check() re-orders
      // and hands the new certificate to the running endpoint.
      const renewed: string[] = [];
      const manager = new AcmeManager({ ...options, renewBeforeDays: 100_000 }, (ck) => {
        renewed.push(ck.fingerprint);
        ep.setCertificate(ck.cert, ck.key);
      });
      try {
        const current = await within(manager.start(), 60_000, "renewal start");
        assert.notEqual(current.fingerprint, first.fingerprint);
        assert.equal(await within(manager.check(), 60_000, "renewal check"), true);
        assert.equal(renewed.length, 1);
        assert.notEqual(renewed[0], current.fingerprint);
      } finally {
        manager.close();
      }
      assert.match(await get(), /acme ok$/);
    } finally {
      await ep.close();
    }
    await assert.rejects(
      acmeCertificate({ ...options, domains: ["bad_name!"] }),
      /not a domain name/,
    );
  } finally {
    await p.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
