/**
 * A throwaway ACME CA for tests: Debian's pebble with pebble-challtestsrv as
 * its DNS (every name resolves to 127.0.0.1), on free loopback ports.
 *
 * @module
 */

import { selfSignedCertificate } from "../core/transport/mod.ts";
import { requireTool, sleep } from "./transport_util.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Rejects when `p` has not settled within `ms` (every wait in a test is bounded). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs Debian's pebble (with pebble-challtestsrv as its DNS: every name is 127.0.0.1). */
export async function startPebble(dir: string) {
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
