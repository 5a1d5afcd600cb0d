/**
 * Keeps one SSH session to a node up: the first connection, `-R` forwards
 * on every session, and after a lost session (when reconnecting is on) new
 * attempts with backoff 1, 2, 4, 8, 16, 30 s, forever. Reports each state
 * change.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { SshSession } from "../ssh/client.ts";
import type { ForwardSpec } from "../ssh/forward_spec.ts";
import { dialTcp } from "../transport/tcp.ts";
import { relayConnDuplex } from "../transport/stream.ts";
import type { Logger } from "../util/log.ts";
import type { ConnectState, ConnectStateEvent } from "./connect_options.ts";

/**
 * Backoff steps in seconds between reconnect attempts.
 */
export const RECONNECT_BACKOFF_S: readonly number[] = [1, 2, 4, 8, 16, 30];

/** What a {@link SessionKeeper} needs. */
export interface SessionKeeperOptions {
  /** Opens and authenticates one session. */
  open: () => Promise<SshSession>;
  /** `-R` forwards to ask for on every session. */
  remoteForwards: ForwardSpec[];
  /** Reconnect after a lost session. */
  reconnect: boolean;
  /** Event log. */
  logger: Logger;
  /** The node, for log lines. */
  server: string;
  /** The client key's fingerprint, for log lines. */
  fingerprint: string;
  /** Told every state change. */
  onState: (event: ConnectStateEvent) => void;
}

/**
 * One SSH session kept up. Created by {@link SessionKeeper.start}, which
 * rejects when the first connection fails.
 */
export class SessionKeeper {
  #o: SessionKeeperOptions;
  #session: SshSession | undefined;
  #bound: number[] = [];
  #state: ConnectState = "connected";
  #waiters: (() => void)[] = [];
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();

  private constructor(options: SessionKeeperOptions) {
    this.#o = options;
  }

  /** Connects once (rejecting on failure) and keeps the session up from then on. */
  static async start(options: SessionKeeperOptions): Promise<SessionKeeper> {
    const k = new SessionKeeper(options);
    await k.#up(await options.open());
    k.#loop = k.#run();
    return k;
  }

  /** The current state. */
  get state(): ConnectState {
    return this.#state;
  }

  /** The live session, if one is up. */
  get session(): SshSession | undefined {
    return this.#session && !this.#session.isClosed ? this.#session : undefined;
  }

  /** Ports the server bound for the `-R` forwards of the current session, in spec order. */
  remotePorts(): number[] {
    return [...this.#bound];
  }

  /**
   * The live session, or the next one within `ms` (undefined when none came
   * up in time or the keeper closed).
   */
  wait(ms: number): Promise<SshSession | undefined> {
    const now = this.session;
    if (now || this.#state === "closed") return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((f) => f !== done);
        resolve(this.session);
      };
      const timer = setTimeout(done, ms);
      this.#waiters.push(done);
    });
  }

  /** Resolves the next time a session is up (at once when one is); also on close. */
  whenConnected(): Promise<void> {
    if (this.session || this.#state === "closed") return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(() => resolve()));
  }

  /** Ends the session and stops reconnecting. */
  async close(): Promise<void> {
    if (this.#state === "closed") return await this.#loop;
    this.#setState({ state: "closed" });
    this.#wake?.();
    this.#session?.close();
    this.#release();
    await this.#loop;
  }

  #setState(event: ConnectStateEvent): void {
    this.#state = event.state;
    try {
      this.#o.onState(event);
    } catch { /* a listener's failure is its own */ }
  }

  #release(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #up(s: SshSession): Promise<void> {
    const specs = this.#o.remoteForwards;
    s.onForwardedConnection((fc) => {
      const i = this.#bound.indexOf(fc.bindPort);
      const spec = i >= 0 ? specs[i] : undefined;
      if (!spec) return fc.reject();
      dialTcp(spec.host, spec.hostPort).then(
        (conn) => {
          let channel: Duplex;
          try {
            channel = fc.accept();
          } catch {
            return conn.close();
          }
          relayConnDuplex(conn, channel);
        },
        () => fc.reject(),
      );
    });
    const ports: number[] = [];
    try {
      for (const spec of specs) {
        ports.push(await s.forwardIn(spec.bindHost ?? "localhost", spec.bindPort));
      }
    } catch (e) {
      s.close();
      throw e;
    }
    this.#bound = ports;
    for (const port of ports) this.#o.logger.event("forward listening", { kind: "remote", port });
    this.#session = s;
    this.#o.logger.event("tunnel connected", {
      server: this.#o.server,
      fp: this.#o.fingerprint,
    });
    this.#setState({ state: "connected" });
    this.#release();
  }

  async #run(): Promise<void> {
    const { logger, server } = this.#o;
    while (!this.#closed()) {
      const err = await this.#session!.closed;
      this.#session = undefined;
      if (this.#closed()) break;
      logger.event("tunnel disconnected", { server, reason: err?.message ?? "closed" });
      if (!this.#o.reconnect) {
        this.#setState({ state: "closed", error: err });
        this.#release();
        break;
      }
      this.#setState({ state: "reconnecting", error: err, retryInS: RECONNECT_BACKOFF_S[0] });
      for (let attempt = 0; !this.#closed(); attempt++) {
        await this.#sleep(backoff(attempt) * 1000);
        if (this.#closed()) break;
        try {
          const next = await this.#o.open();
          if (this.#closed()) {
            next.close();
            break;
          }
          await this.#up(next);
          break;
        } catch (e) {
          const retryInS = backoff(attempt + 1);
          logger.event("tunnel retry", { server, in_s: retryInS, reason: (e as Error).message });
          this.#setState({ state: "reconnecting", error: e as Error, retryInS });
        }
      }
    }
  }

  #closed(): boolean {
    return this.#state === "closed";
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function backoff(attempt: number): number {
  return RECONNECT_BACKOFF_S[Math.min(attempt, RECONNECT_BACKOFF_S.length - 1)];
}
