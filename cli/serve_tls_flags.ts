/**
 * The TLS flags of `alknet serve` (`--tls-cert`/`--tls-key`,
 * `--tls-self-signed`, `--acme-*`) as `serve()`'s `tls` option.
 *
 * @module
 */

import { parseHostPort } from "@alknet/core/transport";
import type { ServeTlsOptions } from "@alknet/core";
import { type parseFlags, UsageError } from "./args.ts";

/**
 * The TLS flags, for `parseFlags`.
 */
export const TLS_FLAGS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-self-signed": { type: "boolean" },
  "acme-domain": { type: "string", multiple: true },
  "acme-email": { type: "string" },
  "acme-directory": { type: "string" },
  "acme-http01": { type: "string" },
  "acme-ca": { type: "string" },
} as const;

/**
 * The parsed values of {@link TLS_FLAGS}.
 */
export type TlsFlagValues = ReturnType<typeof parseFlags<typeof TLS_FLAGS>>["values"];

/**
 * Maps the TLS flags to `serve()`'s `tls` option (undefined without any).
 */
export async function tlsOptions(v: TlsFlagValues): Promise<ServeTlsOptions | undefined> {
  if (v["tls-cert"] !== undefined || v["tls-key"] !== undefined) {
    return { cert: v["tls-cert"], key: v["tls-key"] };
  }
  if (v["tls-self-signed"]) return { selfSigned: true };
  const domains = v["acme-domain"] ?? [];
  const stray = (["acme-email", "acme-directory", "acme-http01", "acme-ca"] as const)
    .find((f) => v[f] !== undefined);
  if (domains.length === 0) {
    if (stray) throw new UsageError(`--${stray} needs --acme-domain`);
    return undefined;
  }
  let http01: { hostname: string; port: number } | undefined;
  try {
    const hp = v["acme-http01"] ? parseHostPort(v["acme-http01"]) : undefined;
    http01 = hp && { hostname: hp.host, port: hp.port };
  } catch (e) {
    throw new UsageError(`--acme-http01: ${(e as Error).message}`);
  }
  const ca = v["acme-ca"];
  return {
    acme: {
      domains,
      email: v["acme-email"],
      directoryUrl: v["acme-directory"],
      http01,
      caCerts: ca ? [await Deno.readTextFile(ca)] : undefined,
    },
  };
}
