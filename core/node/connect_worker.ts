/**
 * The worker side of `connect(target, { worker })`: on every SSH session
 * to the head, open the `alknet-control` channel, serve the worker's
 * operations on it and register the worker's name; when the channel or
 * the session is lost, do it again on the next one.
 *
 * @module
 */

import type { Identity } from "../auth/identity.ts";
import type { SshSession } from "../ssh/client.ts";
import { CoreError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { WorkerLinkSession } from "./call_service.ts";
import type { ConnectWorkerOptions } from "./connect_options.ts";

/** Seconds between registration attempts on one session. */
const RETRY_S = [1, 2, 4, 8, 16, 30];

/**
 * Whether a worker is registered with its head right now (`tunnel.worker`).
 *
 * @example
 * ```ts
 * import type { WorkerStatus } from "@alknet/core";
 * const s: WorkerStatus = { name: "w1", registered: true };
 * console.log(s.registered ? `${s.name} is in the mesh` : "waiting"); // "w1 is in the mesh"
 * ```
 */
export interface WorkerStatus {
  /** The name it registers as. */
  readonly name: string;
  /** True while the head lists it as a live worker. */
  readonly registered: boolean;
}

/** What a {@link WorkerKeeper} needs. */
export interface WorkerKeeperOptions {
  /** The worker option of `connect()`. */
  worker: ConnectWorkerOptions;
  /** The head's identity id (its pinned host key, else its address). */
  headId: string;
  /** The head, for log lines. */
  server: string;
  /** Event log. */
  logger: Logger;
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A failed registration as a `CoreError` `worker` (the head's code, when it
 * answered one, in the message; the original error as `cause`).
 */
function refusal(name: string, server: string, e: unknown): CoreError {
  const code = codeOf(e);
  const why = e instanceof Error ? e.message : String(e);
  return new CoreError(
    "worker",
    `${server} refused worker ${name}${code ? ` (${code})` : ""}: ${why}`,
    { cause: e },
  );
}

/**
 * Keeps a worker registered over the SSH sessions a `SessionKeeper` brings
 * up. `attach` is called with each new session.
 */
export class WorkerKeeper {
  #o: WorkerKeeperOptions;
  #head: Identity;
  #link: WorkerLinkSession | undefined;
  #registered = false;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: WorkerKeeperOptions) {
    this.#o = options;
    this.#head = {
      id: options.headId,
      scopes: [...(options.worker.headScopes ?? ["*"])],
      resources: {},
    };
  }

  /** The worker's name and whether it is registered. */
  get status(): WorkerStatus {
    return { name: this.#o.worker.name, registered: this.#registered };
  }

  /**
   * Serves and registers on `session`, and keeps doing so while it lasts.
   * Resolves once registered. With `initial` (the first session of
   * `connect()`), rejects with a `CoreError` `worker` when the first attempt
   * fails; otherwise failures are logged and retried with backoff while the
   * session lasts.
   */
  attach(session: SshSession, initial = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      void this.#run(session, resolve, reject, initial);
    });
  }

  /** Stops registering and closes the current link. */
  close(): void {
    this.#closed = true;
    this.#registered = false;
    this.#wake?.();
    this.#link?.close();
  }

  async #run(
    session: SshSession,
    resolve: () => void,
    reject: (e: unknown) => void,
    initial: boolean,
  ): Promise<void> {
    const { worker, server, logger } = this.#o;
    let first = true;
    const live = () => !this.#closed && !session.isClosed;
    for (let attempt = 0; live(); attempt++) {
      let link: WorkerLinkSession | undefined;
      try {
        const channel = await session.openChannel("alknet-control", 0);
        if (!live()) {
          channel.close();
          break;
        }
        link = worker.calls.serveWorker!(channel, { name: worker.name, head: this.#head });
        this.#link = link;
        await link.registered;
        this.#registered = true;
        attempt = -1;
        logger.event("worker registered", { name: worker.name, server });
        if (first) resolve();
        first = false;
        await link.closed;
        this.#registered = false;
        if (!live()) break;
        logger.event("worker link lost", { name: worker.name, server });
      } catch (e) {
        link?.close();
        if (first && initial) {
          reject(refusal(worker.name, server, e));
          return;
        }
        if (!live()) break;
        const inS = RETRY_S[Math.min(attempt, RETRY_S.length - 1)];
        logger.event("worker refused", {
          name: worker.name,
          server,
          code: codeOf(e),
          reason: e instanceof Error ? e.message : String(e),
          retry_in_s: inS,
        });
        await this.#sleep(inS * 1000, session);
        continue;
      }
      await this.#sleep(RETRY_S[0] * 1000, session);
    }
    this.#registered = false;
    if (first) reject(new CoreError("closed", `the session to ${server} closed`));
  }

  #sleep(ms: number, session: SshSession): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
      void session.closed.then(done);
    });
  }
}
