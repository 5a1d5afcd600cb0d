import assert from "node:assert/strict";
import {
  acmeCertificate,
  AcmeManager,
  certificateNotAfter,
  listenEndpoint,
  selfSignedCertificate,
} from "../core/transport/mod.ts";
import { readAll, requireTool, sleep } from "./transport_util.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Rejects when `p` has not settled within `ms` (every wait in a test is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs Debian's pebble (with pebble-challtestsrv as its DNS: every name is 127.0.0.1). */
async function startPebble(dir: string) {
  await requireTool("pebble");
  await requireTool("pebble-challtestsrv");
  const own = await selfSignedCertificate(`${dir}/pebble-tls`, {
    names: ["localhost", "127.0.0.1"],
  });
  const ports = {
    acme: freePort(),
    mgmt: freePort(),
    http: freePort(),
    dns: freePort(),
    dnsMgmt: freePort(),
  };
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${ports.acme}`,
      managementListenAddress: `127.0.0.1:${ports.mgmt}`,
      certificate: `${dir}/pebble-tls/tls-selfsigned.crt`,
      privateKey: `${dir}/pebble-tls/tls-selfsigned.key`,
      httpPort: ports.http,
      tlsPort: freePort(),
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  };
  await Deno.writeTextFile(`${dir}/pebble.json`, JSON.stringify(config));
  const dns = new Deno.Command("pebble-challtestsrv", {
    args: [
      "-dns01",
      `127.0.0.1:${ports.dns}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${ports.dnsMgmt}`,
      "-defaultIPv6",
      "",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const pebble = new Deno.Command("pebble", {
    args: ["-config", `${dir}/pebble.json`, "-dnsserver", `127.0.0.1:${ports.dns}`],
    env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const client = Deno.createHttpClient({ caCerts: [own.cert] });
  const stop = async () => {
    client.close();
    for (const p of [pebble, dns]) {
      try {
        p.kill("SIGTERM");
      } catch { /* gone */ }
      await p.status;
    }
  };
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      try {
        const r = await fetch(`https://127.0.0.1:${ports.acme}/dir`, {
          client,
          signal: AbortSignal.timeout(2000),
        });
        await r.body?.cancel();
        ready = r.ok;
      } catch {
        await sleep(100);
      }
    }
    if (!ready) throw new Error("pebble did not start within 10 s");
    const root = await (await fetch(`https://127.0.0.1:${ports.mgmt}/roots/0`, {
      client,
      signal: AbortSignal.timeout(5000),
    })).text();
    return { ports, caCert: own.cert, root, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

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
