/**
 * The TLS material of `serve()`: a certificate from PEM paths or text, a
 * self-signed one kept in the data dir, or one from an ACME CA that renews
 * itself while the node runs.
 *
 * @module
 */

import { AcmeManager } from "../transport/acme.ts";
import { type CertifiedKey, certifiedKey, selfSignedCertificate } from "../transport/certs.ts";
import type { Logger } from "../util/log.ts";
import { fsErrorReason } from "../util/fs_errors.ts";
import { OptionError } from "../util/errors.ts";
import {
  isIrohUrl,
  isPemText,
  parseListenAddress,
  pathOf,
  type PemSource,
  type ServeOptions,
} from "./serve_options.ts";

/** The certificate a node serves, and the ACME manager renewing it. */
export interface TlsMaterial {
  /** Certificate chain, key and the leaf's `SHA256:<hex>` fingerprint. */
  cert: CertifiedKey;
  /** Present with `tls.acme`; close it at shutdown. */
  acme?: AcmeManager;
}

const TLS_SCHEMES = new Set(["tls", "quic", "wss"]);

async function pemText(option: string, source: PemSource): Promise<{ text: string; from: string }> {
  if (isPemText(source)) return { text: source, from: option };
  let path: string;
  try {
    path = pathOf(source);
  } catch (e) {
    throw new OptionError(option, (e as Error).message, { cause: e });
  }
  try {
    return { text: await Deno.readTextFile(path), from: path };
  } catch (e) {
    throw new OptionError(option, `cannot read '${path}': ${fsErrorReason(e)}`, { cause: e });
  }
}

function checked<T>(option: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new OptionError(option, (e as Error).message, { cause: e });
  }
}

/**
 * Loads, creates or obtains the certificate when a listener needs one
 * (`tls://`, `quic://`, `wss://`); `onRenew` receives ACME renewals.
 *
 * @throws {OptionError} (`tls`, `tls.cert`, `tls.key`, `tls.selfSigned`)
 *   when no certificate is configured for such a listener or it is unusable.
 */
export async function prepareTls(
  options: Pick<ServeOptions, "tls" | "dataDir">,
  listen: string[],
  logger: Logger,
  onRenew: (cert: CertifiedKey) => void,
): Promise<TlsMaterial | undefined> {
  const needing = listen.filter((l) =>
    !isIrohUrl(l) && TLS_SCHEMES.has(parseListenAddress(l).scheme)
  );
  if (needing.length === 0) return undefined;
  const tls = options.tls;
  if (!tls || (tls.cert === undefined && !tls.selfSigned && !tls.acme)) {
    throw new OptionError(
      "tls",
      `${needing[0]} needs a certificate (tls.cert and tls.key, tls.selfSigned or tls.acme)`,
    );
  }
  if (tls.cert !== undefined && tls.key !== undefined) {
    const cert = await pemText("tls.cert", tls.cert);
    const key = await pemText("tls.key", tls.key);
    checked("tls.cert", () => certifiedKey(cert.text, "-----BEGIN PRIVATE KEY-----", cert.from));
    return { cert: checked("tls.key", () => certifiedKey(cert.text, key.text, key.from)) };
  }
  const dataDir = options.dataDir!;
  if (tls.selfSigned) {
    const given = typeof tls.selfSigned === "object" ? tls.selfSigned : {};
    const hosts = listen.filter((l) => !isIrohUrl(l)).map((l) => parseListenAddress(l).host)
      .filter((h) => h !== "0.0.0.0" && h !== "::");
    const names = given.names ?? [...new Set(["localhost", "127.0.0.1", "::1", ...hosts])];
    let cert: CertifiedKey;
    try {
      cert = await selfSignedCertificate(dataDir, { names, days: given.days });
    } catch (e) {
      throw new OptionError("tls.selfSigned", (e as Error).message, { cause: e });
    }
    logger.event("tls self-signed", { fingerprint: cert.fingerprint, dir: dataDir });
    return { cert };
  }
  const a = tls.acme!;
  const acme = new AcmeManager({
    domains: a.domains,
    email: a.email,
    directoryUrl: a.directoryUrl,
    dataDir,
    http01: a.http01,
    caCerts: a.caCerts,
    renewBeforeDays: a.renewBeforeDays,
    logger,
  }, onRenew);
  const cert = await acme.start(a.checkEveryMs);
  logger.event("tls acme", { domains: a.domains.join(","), dir: dataDir });
  return { cert, acme };
}
