/**
 * `serve({ workerOf })`: a serving node that is also a worker of a mesh
 * head. It dials the head with `connect()` (the node's host key as its
 * identity unless another is given), serves its `calls` there under the
 * worker name, and keeps trying while the head is unreachable or refuses.
 *
 * @module
 */

import type { PrivateKey } from "../auth/ssh_keys.ts";
import { OptionError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { CallService } from "./call_service.ts";
import { connect, type Tunnel } from "./connect.ts";
import { type ConnectOptions, resolveConnectOptions } from "./connect_options.ts";

/**
 * The `workerOf` option of `serve()`: the head to register with and how to
 * reach and trust it.
 *
 * @example
 * ```ts
 * import type { ServeWorkerOfOptions } from "@alknet/core";
 * const workerOf: ServeWorkerOfOptions = {
 *   url: "tls://head.example:443",
 *   name: "w1",
 *   hostKeyFingerprint: "SHA256:2Qx9fA0cW9yBvWq3D1eB3o0t8n1V0m3c5k5bqg8u0nE",
 * };
 * console.log(workerOf.name); // "w1"
 * ```
 */
export interface ServeWorkerOfOptions extends
  Omit<
    ConnectOptions,
    | "identity"
    | "worker"
    | "socks"
    | "socksCredentials"
    | "localForwards"
    | "remoteForwards"
    | "reconnect"
    | "logger"
    | "onState"
  > {
  /** The head: `HOST:PORT` or a `tcp://`, `tls://`, `quic://`, `ws://`, `wss://`, `iroh://` URL. */
  url: string;
  /** The worker name to register as. */
  name: string;
  /** The key to log in with (default: the node's host key). */
  identity?: string | PrivateKey;
  /** Scopes calls from the head run with (default `["*"]`). */
  headScopes?: string[];
}

/** A running membership, stopped at shutdown. */
export interface WorkerOfHandle {
  /** Stops trying and closes the connection to the head. */
  close(): Promise<void>;
}

const BACKOFF_S = [1, 2, 4, 8, 16, 30];

/**
 * Checks `workerOf` (nothing is dialled); throws `OptionError` naming
 * `workerOf.<option>`.
 */
export function checkWorkerOf(
  workerOf: ServeWorkerOfOptions | undefined,
  calls: CallService | undefined,
): void {
  if (workerOf === undefined) return;
  if (typeof calls?.serveWorker !== "function") {
    throw new OptionError(
      "workerOf",
      "needs calls that can serve a head (an OperationRegistry from @alknet/call)",
    );
  }
  if (typeof workerOf.url !== "string") throw new OptionError("workerOf.url", "is required");
  try {
    resolveConnectOptions(workerOf.url, {
      ...workerOf,
      identity: "unused",
      worker: { name: workerOf.name, calls, headScopes: workerOf.headScopes },
    });
  } catch (e) {
    if (e instanceof OptionError) {
      throw new OptionError(`workerOf.${e.option}`, e.message.replace(/^[^:]*: /, ""), {
        cause: e,
      });
    }
    throw new OptionError("workerOf.url", (e as Error).message, { cause: e });
  }
}

/**
 * Starts being a worker of `workerOf.url`: connects (retrying with backoff
 * 1, 2, 4, 8, 16, 30 s until the first registration succeeds), then
 * `connect()` keeps the session and the registration up.
 */
export function startWorkerOf(
  workerOf: ServeWorkerOfOptions,
  node: { calls: CallService; hostKey: PrivateKey; logger: Logger },
): WorkerOfHandle {
  const { url, name, identity, headScopes, ...rest } = workerOf;
  const { logger } = node;
  let closed = false;
  let tunnel: Tunnel | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        const t = await connect(url, {
          ...rest,
          identity: identity ?? node.hostKey,
          worker: { name, calls: node.calls, headScopes },
          logger,
        });
        if (closed) {
          await t.close();
          return;
        }
        tunnel = t;
        return;
      } catch (e) {
        const inS = BACKOFF_S[Math.min(attempt, BACKOFF_S.length - 1)];
        logger.event("worker retry", {
          name,
          server: url,
          reason: e instanceof Error ? e.message : String(e),
          in_s: inS,
        });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, inS * 1000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  })();
  return {
    async close() {
      closed = true;
      wake?.();
      await loop;
      await tunnel?.close();
    },
  };
}
