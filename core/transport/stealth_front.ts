/**
 * A stealth listener's shared state and its first look at each connection,
 * before TLS: plain HTTP on the TLS port gets nginx's "400 The plain HTTP
 * request was sent to HTTPS port" (from the decoy's HTTP server), a
 * ClientHello nginx would refuse gets nginx's alert, a stalled or
 * undecodable start is dropped at the header deadline, and everything else
 * goes on to the TLS handshake with the bytes read so far. Internal to the
 * listeners (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import { closeQuietly, writeAll } from "./stream.ts";
import type { EndpointOptions } from "./endpoint_types.ts";
import type { Logger } from "../util/log.ts";
import type { PreauthGuard } from "./preauth.ts";
import { decoyFiles } from "./decoy.ts";
import type { DecoySite } from "./decoy_server.ts";
import { serveDecoyConn } from "./decoy_server.ts";
import { type DecoyUpstream, parseDecoyUpstream } from "./stealth_upstream.ts";
import {
  alertRecord,
  type HelloPolicy,
  judgeClientHello,
  scanClientHello,
  serverKeyKind,
} from "./stealth_hello.ts";
import { STEALTH_ALPNS } from "./stealth_preamble.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/** Per-listener stealth state: the site, the upstream, the TLS policy. */
export class StealthFront {
  /** The decoy's files. */
  readonly site: DecoySite;
  /** The real web server unauthenticated traffic goes to, if any. */
  readonly upstream?: DecoyUpstream;
  #options: EndpointOptions;
  #key?: { pem: string; kind: HelloPolicy["key"] };
  #upstreamWarnedAt = -Infinity;

  /** Reads the stealth options (a bad `decoyUpstream` throws `EndpointConfigError`). */
  constructor(options: EndpointOptions) {
    this.#options = options;
    this.site = decoyFiles({ dir: options.decoyDir });
    if (options.decoyUpstream) this.upstream = parseDecoyUpstream(options.decoyUpstream);
  }

  /** The key type of the certificate currently served. */
  keyKind(pem: string | undefined): HelloPolicy["key"] {
    if (!pem) return "ec-p256";
    if (this.#key?.pem !== pem) {
      let kind: HelloPolicy["key"] = "ec-p256";
      try {
        kind = serverKeyKind(pem);
      } catch { /* keep the default */ }
      this.#key = { pem, kind };
    }
    return this.#key.kind;
  }

  /** Logs (once per failure streak) that the upstream cannot be reached. */
  upstreamDown(logger: Logger | undefined): void {
    if (Date.now() - this.#upstreamWarnedAt < 60_000) return;
    this.#upstreamWarnedAt = Date.now();
    logger?.warn(
      `decoyUpstream ${this.#options.decoyUpstream} cannot be reached; the built-in decoy answers`,
    );
  }

  /**
   * Reads the start of a raw TCP connection and answers what nginx would
   * answer before TLS; resolves to the bytes to hand to the TLS handshake,
   * or `null` when the connection was dealt with (and closed).
   */
  async screen(
    headerMs: number,
    raw: Deno.TcpConn,
    keyPem: string | undefined,
    guard: PreauthGuard,
  ): Promise<Uint8Array | null> {
    const start = Date.now();
    const deadline = new Deadline(headerMs);
    let have = new Uint8Array(0);
    const readMore = async (): Promise<boolean> => {
      const buf = new Uint8Array(16 * 1024);
      const n = await deadline.race(raw.read(buf).catch(() => null));
      if (n === TIMED_OUT || n === null) return false;
      const next = new Uint8Array(have.length + n);
      next.set(have);
      next.set(buf.subarray(0, n), have.length);
      have = next;
      return true;
    };
    const drop = () => {
      closeQuietly(raw);
      guard.closed();
      return null;
    };
    try {
      if (!await readMore()) return drop();
      const b0 = have[0];
      if (b0 !== 0x16 && (b0 & 0x80) === 0) {
        deadline.clear();
        guard.handOver();
        const local = raw.localAddr as Deno.NetAddr;
        await serveDecoyConn(raw, have, {
          site: this.site,
          context: { scheme: "http", port: local.port, localAddress: local.hostname },
          headerTimeoutMs: headerMs,
          startedAt: start,
          plainOnTls: true,
          abort: () => closeQuietly(raw),
        });
        return drop();
      }
      if (b0 !== 0x16) {
        // An SSLv2-style record: nothing nginx would complete; wait it out.
        while (have.length < 64 * 1024 && await readMore()) have = new Uint8Array(0);
        return drop();
      }
      for (;;) {
        const scan = scanClientHello(have);
        if (scan.kind === "refuse") {
          if (scan.alert !== null) {
            await writeAll(raw, alertRecord(scan.alert, scan.recordVersion)).catch(() => {});
          }
          return drop();
        }
        if (scan.kind === "hello") {
          const verdict = judgeClientHello(scan.hello, {
            key: this.keyKind(keyPem),
            alpn: STEALTH_ALPNS,
          });
          if (verdict) {
            await writeAll(raw, alertRecord(verdict.alert, verdict.recordVersion)).catch(() => {});
            return drop();
          }
          return have;
        }
        if (have.length > 80 * 1024 || !await readMore()) return drop();
      }
    } finally {
      deadline.clear();
    }
  }
}
