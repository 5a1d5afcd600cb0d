/**
 * ACME certificates (RFC 8555) with HTTP-01 challenges answered on a port-80
 * listener, via `npm:acme-client` (loaded lazily, so nobody else pays for
 * it). Certificates and the account key are cached in the data directory
 * and renewed before they expire.
 *
 * Files in `dataDir/acme/`: `account.key` (0600), `account.url` (the
 * directory and account URLs), `<name>.crt` (chain, PEM)
 * and `<name>.key` (0600), where `<name>` is the first domain.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { type CertifiedKey, certifiedKey, pemToDer } from "./certs.ts";
import { CertificateFileError } from "./errors.ts";
import type { Logger } from "../util/log.ts";

/**
 * Let's Encrypt's production directory.
 *
 * @example
 * ```ts
 * import { LETS_ENCRYPT_DIRECTORY } from "@alknet/core/transport";
 * console.log(new URL(LETS_ENCRYPT_DIRECTORY).host); // "acme-v02.api.letsencrypt.org"
 * ```
 */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/**
 * Options of {@link acmeCertificate} and {@link AcmeManager}.
 *
 * @example
 * ```ts
 * import type { AcmeOptions } from "@alknet/core/transport";
 * const o: AcmeOptions = {
 *   domains: ["vpn.example.com"],
 *   dataDir: "/var/lib/alknet",
 *   email: "ops@example.com",
 * };
 * console.log(o.domains[0]); // "vpn.example.com"
 * ```
 */
export interface AcmeOptions {
  /** Domain names for the certificate (the first is its subject). */
  domains: string[];
  /** Contact e-mail for the account (optional). */
  email?: string;
  /** ACME directory URL (default Let's Encrypt production). */
  directoryUrl?: string;
  /** Where the account key and certificates are kept. */
  dataDir: string;
  /** Where the HTTP-01 responder listens (default 0.0.0.0:80). */
  http01?: { hostname?: string; port?: number };
  /** Extra CA certificates (PEM) to trust for the ACME server itself (test servers such as pebble). */
  caCerts?: string[];
  /** Renew when the certificate has less than this many days left (default 30). */
  renewBeforeDays?: number;
  /** Progress and failures are logged here. */
  logger?: Logger;
}

/**
 * Obtaining or renewing a certificate failed; the message says at which step.
 *
 * @example
 * ```ts
 * import { AcmeError } from "@alknet/core/transport";
 * console.log(new AcmeError("order", "rate limited").message);
 * ```
 */
export class AcmeError extends CoreError {
  /** The step: account, order, challenge, finalize, files. */
  readonly step: string;
  /** Creates the error. */
  constructor(step: string, message: string, options?: ErrorOptions) {
    super("acme", `ACME ${step}: ${message}`, options);
    this.name = "AcmeError";
    this.step = step;
  }
}

const DOMAIN_RE =
  /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function checkDomains(domains: string[]): void {
  if (domains.length === 0) throw new AcmeError("order", "at least one domain is needed");
  for (const d of domains) {
    if (!DOMAIN_RE.test(d)) throw new AcmeError("order", `'${d}' is not a domain name`);
  }
}

/**
 * Reads the notAfter date of the leaf certificate in a PEM text (a small DER
 * walk, no dependencies).
 *
 * @throws {CertificateFileError} when the certificate cannot be read
 * @example
 * ```ts
 * import { certificateNotAfter } from "@alknet/core/transport";
 * // const expires = certificateNotAfter(await Deno.readTextFile("cert.pem"));
 * console.log(typeof certificateNotAfter); // "function"
 * ```
 */
export function certificateNotAfter(pem: string): Date {
  const der = pemToDer(pem);
  let p = 0;
  const readLen = (): number => {
    let len = der[p++];
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[p++];
    }
    return len;
  };
  const enter = (tag: number) => {
    if (der[p++] !== tag) throw new CertificateFileError("inline", "unexpected DER structure");
    return readLen();
  };
  const skip = () => {
    p++;
    const len = readLen();
    p += len;
  };
  enter(0x30); // Certificate
  enter(0x30); // TBSCertificate
  if (der[p] === 0xa0) skip(); // version
  skip(); // serial
  skip(); // signature algorithm
  skip(); // issuer
  enter(0x30); // validity
  skip(); // notBefore
  const tag = der[p++];
  const len = readLen();
  const text = String.fromCharCode(...der.subarray(p, p + len));
  const m = tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new CertificateFileError("inline", "unreadable notAfter");
  let year = Number(m[1]);
  if (tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

async function writeSecret(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}

/** A running HTTP-01 responder. */
interface Responder {
  set(token: string, keyAuthorization: string): void;
  remove(token: string): void;
  close(): Promise<void>;
}

function startResponder(options: AcmeOptions): Responder {
  const answers = new Map<string, string>();
  const ac = new AbortController();
  const prefix = "/.well-known/acme-challenge/";
  const server = Deno.serve({
    hostname: options.http01?.hostname ?? "0.0.0.0",
    port: options.http01?.port ?? 80,
    signal: ac.signal,
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    const answer = path.startsWith(prefix) ? answers.get(path.slice(prefix.length)) : undefined;
    if (answer === undefined) {
      return new Response("Not Found\n", {
        status: 404,
        headers: { "content-type": "text/plain" },
      });
    }
    return new Response(answer, { headers: { "content-type": "application/octet-stream" } });
  });
  // A failed accept (EMFILE) ends Deno.serve and rejects `finished`; unhandled, that would end
  // the process. The order then fails on its own (the CA cannot fetch the answer).
  server.finished.catch(() => {});
  return {
    set: (t, k) => answers.set(t, k),
    remove: (t) => answers.delete(t),
    async close() {
      ac.abort();
      await server.finished.catch(() => {});
    },
  };
}

/**
 * Returns a certificate for `options.domains`: the cached one when it has
 * more than `renewBeforeDays` left, else a new one from the ACME server
 * (HTTP-01 on port 80 during the order), which is then cached.
 *
 * @throws {AcmeError} naming the failed step
 * @example
 * ```ts
 * import { acmeCertificate } from "@alknet/core/transport";
 * // For real: acmeCertificate({ domains: ["vpn.example.com"], dataDir: "/var/lib/alknet" })
 * // (the account, the key and the certificate are kept in dataDir/acme).
 * const why = await acmeCertificate({ domains: ["not a domain"], dataDir: "/nonexistent" })
 *   .catch((e) => e.message);
 * console.log(why); // names the failed step and the domain
 * ```
 */
export async function acmeCertificate(options: AcmeOptions): Promise<CertifiedKey> {
  checkDomains(options.domains);
  const dir = `${options.dataDir}/acme`;
  const certPath = `${dir}/${options.domains[0]}.crt`;
  const keyPath = `${dir}/${options.domains[0]}.key`;
  const renewMs = (options.renewBeforeDays ?? 30) * 86400_000;
  const cachedCert = await readIfExists(certPath);
  const cachedKey = await readIfExists(keyPath);
  if (cachedCert && cachedKey) {
    try {
      if (certificateNotAfter(cachedCert).getTime() - Date.now() > renewMs) {
        return certifiedKey(cachedCert, cachedKey, certPath);
      }
    } catch { /* unreadable: get a new one */ }
  }
  return await issue(options, dir, certPath, keyPath);
}

async function issue(
  options: AcmeOptions,
  dir: string,
  certPath: string,
  keyPath: string,
): Promise<CertifiedKey> {
  const log = options.logger;
  const { default: acme } = await import("acme-client");
  if (options.caCerts && options.caCerts.length > 0) {
    const https = await import("node:https");
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: options.caCerts });
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new AcmeError("files", `cannot create ${dir}: ${(e as Error).message}`);
  }
  const accountPath = `${dir}/account.key`;
  let accountKey = await readIfExists(accountPath);
  if (!accountKey) {
    accountKey = (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
    await writeSecret(accountPath, accountKey);
  }
  // The account URL is kept so later orders skip registration (an existing
  // account is otherwise "updated" with an empty update, which servers refuse).
  const directoryUrl = options.directoryUrl ?? LETS_ENCRYPT_DIRECTORY;
  const urlPath = `${dir}/account.url`;
  const saved = (await readIfExists(urlPath))?.trim().split("\n") ?? [];
  const accountUrl = saved[0] === directoryUrl && saved[1] ? saved[1] : undefined;
  const client = new acme.Client({ directoryUrl, accountKey, accountUrl });
  const certKey = (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
  const [, csr] = await acme.crypto.createCsr(
    { commonName: options.domains[0], altNames: options.domains },
    certKey,
  );
  let responder: Responder;
  try {
    responder = startResponder(options);
  } catch (e) {
    throw new AcmeError(
      "challenge",
      `cannot listen for HTTP-01 on port ${options.http01?.port ?? 80}: ${(e as Error).message}`,
    );
  }
  let chain: string;
  try {
    log?.notice("acme order", { domains: options.domains.join(",") });
    chain = await client.auto({
      csr,
      email: options.email,
      termsOfServiceAgreed: true,
      challengePriority: ["http-01"],
      // acme-client would first fetch the challenge itself through public
      // DNS and port 80; the ACME server's own check is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => {
        responder.set(challenge.token, keyAuthorization);
        return Promise.resolve();
      },
      challengeRemoveFn: (_authz, challenge) => {
        responder.remove(challenge.token);
        return Promise.resolve();
      },
    });
  } catch (e) {
    throw new AcmeError("order", (e as Error).message ?? String(e), { cause: e });
  } finally {
    await responder.close();
  }
  try {
    const url = client.getAccountUrl();
    if (url !== accountUrl) await Deno.writeTextFile(urlPath, `${directoryUrl}\n${url}\n`);
  } catch { /* no account URL to keep */ }
  const ck = certifiedKey(chain, certKey, certPath);
  await writeSecret(keyPath, certKey);
  await writeSecret(certPath, chain);
  log?.notice("acme certificate", {
    domains: options.domains.join(","),
    not_after: certificateNotAfter(chain).toISOString(),
  });
  return ck;
}

/**
 * Keeps a certificate fresh: `start()` returns the current one (cached or
 * new), then checks every `checkEveryMs` (default 12 h) and calls
 * `onRenew` with each renewed certificate (e.g. `endpoint.setCertificate`).
 *
 * @example
 * ```ts
 * import { AcmeManager } from "@alknet/core/transport";
 * const m = new AcmeManager({ domains: ["vpn.example.com"], dataDir: "/var/lib/alknet" }, (ck) => {
 *   console.log("renewed", ck.fingerprint);
 * });
 * // const ck = await m.start();
 * m.close();
 * ```
 */
export class AcmeManager {
  #options: AcmeOptions;
  #onRenew: (ck: CertifiedKey) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #current: CertifiedKey | undefined;
  #busy = false;

  /** Creates the manager; nothing happens until `start`. */
  constructor(options: AcmeOptions, onRenew: (ck: CertifiedKey) => void) {
    this.#options = options;
    this.#onRenew = onRenew;
  }

  /** Gets the current certificate and starts the renewal checks. */
  async start(checkEveryMs = 12 * 3600_000): Promise<CertifiedKey> {
    this.#current = await acmeCertificate(this.#options);
    this.#timer = setInterval(() => void this.check(), checkEveryMs);
    Deno.unrefTimer(this.#timer);
    return this.#current;
  }

  /** Renews now if due; resolves to true when a new certificate was installed. */
  async check(): Promise<boolean> {
    if (this.#busy) return false;
    this.#busy = true;
    try {
      const ck = await acmeCertificate(this.#options);
      if (ck.fingerprint === this.#current?.fingerprint) return false;
      this.#current = ck;
      this.#onRenew(ck);
      return true;
    } catch (e) {
      this.#options.logger?.warn("acme renewal failed", { error: (e as Error).message });
      return false;
    } finally {
      this.#busy = false;
    }
  }

  /** Stops the checks. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
