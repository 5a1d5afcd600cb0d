/**
 * Connection limits: concurrent connections per source address,
 * concurrent unauthenticated connections per source address (counted by the
 * listeners from accept), failed authentication attempts per connection, a
 * penalty window that refuses an address for a while after repeated failed
 * connections (like OpenSSH's PerSourcePenalties), sessions per identity,
 * and the listeners' deadlines (TLS handshake, HTTP header, pre-auth). Pure
 * bookkeeping with an injectable clock; the limits can be swapped at runtime.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { formatIp, parseIp } from "./addr.ts";

/**
 * The tunable limits (`[limits]` in the configuration). A value of 0
 * disables that limit.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, type LimitSettings } from "@alknet/core/transport";
 * const strict: LimitSettings = { ...DEFAULT_LIMITS, maxConnectionsPerIp: 4 };
 * ```
 */
export interface LimitSettings {
  /** Concurrent connections from one source address (0 = unlimited). */
  maxConnectionsPerIp: number;
  /** Failed authentication attempts allowed on one connection before it is closed (0 = unlimited). */
  maxAuthFailures: number;
  /** How long (seconds) an address is refused once penalized; also the window failures are counted in. */
  penaltySeconds: number;
  /** Failed connections (closed without logging in after a failed attempt) within the window that trigger a penalty (0 = never). */
  penaltyAfterFailures: number;
  /** Seconds a client has to authenticate before it is disconnected. */
  preauthTimeoutS: number;
  /** Concurrent authenticated sessions per identity (0 = unlimited). */
  maxSessionsPerIdentity: number;
  /**
   * Concurrent connections from one source address that have not
   * authenticated yet, on all listeners together, counted from accept (TLS
   * handshakes, HTTP, banners; 0 = unlimited). Default
   * {@link LISTENER_LIMITS}`.maxUnauthenticatedPerIp` (64).
   */
  maxUnauthenticatedPerIp?: number;
  /** Seconds a TLS (and QUIC) handshake may take. Default 10. */
  tlsHandshakeTimeoutS?: number;
  /** Seconds a client has to send the header of its first HTTP request (nginx's 60). Default 60. */
  httpHeaderTimeoutS?: number;
}

/**
 * The defaults of the listener limits that {@link LimitSettings} leaves
 * optional: 64 unauthenticated connections per source address, 10 s for a
 * TLS handshake, 60 s for an HTTP request header (nginx's
 * `client_header_timeout`), 75 s of silence on an HTTP connection that has
 * not authenticated (nginx's `keepalive_timeout`).
 *
 * @example
 * ```ts
 * import { LISTENER_LIMITS } from "@alknet/core/transport";
 * console.log(LISTENER_LIMITS.httpHeaderTimeoutS); // 60
 * ```
 */
export const LISTENER_LIMITS: Readonly<{
  maxUnauthenticatedPerIp: number;
  tlsHandshakeTimeoutS: number;
  httpHeaderTimeoutS: number;
  httpIdleTimeoutS: number;
}> = Object.freeze({
  maxUnauthenticatedPerIp: 64,
  tlsHandshakeTimeoutS: 10,
  httpHeaderTimeoutS: 60,
  httpIdleTimeoutS: 75,
});

/** The settings that must be at least 1 (a deadline of 0 would refuse everyone). */
const AT_LEAST_ONE = new Set(["preauthTimeoutS", "tlsHandshakeTimeoutS", "httpHeaderTimeoutS"]);

/**
 * Defaults: 32 connections per address, 6 failed attempts per connection
 * (OpenSSH's MaxAuthTries), 5 failed connections within 60 s refuse the
 * address for 60 s, 30 s pre-auth timeout, unlimited sessions per identity.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "@alknet/core/transport";
 * console.log(DEFAULT_LIMITS.preauthTimeoutS); // 30
 * ```
 */
export const DEFAULT_LIMITS: Readonly<LimitSettings> = Object.freeze({
  maxConnectionsPerIp: 32,
  maxAuthFailures: 6,
  penaltySeconds: 60,
  penaltyAfterFailures: 5,
  preauthTimeoutS: 30,
  maxSessionsPerIdentity: 0,
});

/**
 * Thrown for a limit that is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter, LimitSettingsError } from "@alknet/core/transport";
 * try {
 *   new ConnectionLimiter({ maxConnectionsPerIp: -1 });
 * } catch (e) {
 *   console.log(e instanceof LimitSettingsError); // true
 * }
 * ```
 */
export class LimitSettingsError extends CoreError {
  /** The offending setting. */
  readonly key: string;
  /** Creates the error for `key`. */
  constructor(key: string, value: unknown) {
    super("limits", `limit '${key}' must be a non-negative integer, got ${String(value)}`);
    this.name = "LimitSettingsError";
    this.key = key;
  }
}

/**
 * Checks and completes limit settings (missing ones take the defaults).
 *
 * @throws {LimitSettingsError} naming the bad setting.
 * @example
 * ```ts
 * import { normalizeLimits } from "@alknet/core/transport";
 * console.log(normalizeLimits({ maxAuthFailures: 3 }).maxAuthFailures); // 3
 * ```
 */
export function normalizeLimits(limits: Partial<LimitSettings> = {}): LimitSettings {
  const out: LimitSettings = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(limits)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new LimitSettingsError(k, v);
    if (v === 0 && AT_LEAST_ONE.has(k)) throw new LimitSettingsError(k, 0);
  }
  return out;
}

/**
 * Why a connection or session was refused.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter, type LimitRefusal } from "@alknet/core/transport";
 * const limiter = new ConnectionLimiter({ maxConnectionsPerIp: 1 });
 * const first = limiter.open("192.0.2.1");
 * const second = limiter.open("192.0.2.1");
 * const refusal: LimitRefusal | undefined = second.ok ? undefined : second.reason;
 * console.log(refusal); // "too-many-connections"
 * if (first.ok) first.connection.close();
 * ```
 */
export type LimitRefusal =
  | "penalty"
  | "too-many-connections"
  | "too-many-sessions"
  | "too-many-unauthenticated";

/**
 * One connection's place among its source address's unauthenticated
 * connections ({@link ConnectionLimiter.admitUnauthenticated}). `release()`
 * frees it (once it authenticated, or closed); further calls are ignored.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "@alknet/core/transport";
 * const slot = new ConnectionLimiter().admitUnauthenticated("192.0.2.1");
 * if (slot) slot.release();
 * ```
 */
export interface UnauthenticatedSlot {
  /** Normalized source address. */
  readonly address: string;
  /** Frees the slot (idempotent). */
  release(): void;
}

/**
 * The answer to {@link ConnectionLimiter.open}.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "@alknet/core/transport";
 * const a = new ConnectionLimiter().open("127.0.0.1");
 * if (a.ok) a.connection.close();
 * ```
 */
export type Admission =
  | { ok: true; connection: LimitedConnection }
  | {
    ok: false;
    /** `penalty` or `too-many-connections` (the log's `reason=`). */
    reason: LimitRefusal;
    /** For `penalty`: seconds until the address is admitted again. */
    retryAfterS?: number;
  };

interface SourceState {
  open: number;
  strikes: number[];
  penalizedUntil: number;
}

/** Most source addresses tracked at once; older idle entries are dropped beyond it. */
const MAX_TRACKED = 100_000;

/**
 * One admitted connection: report failed and successful authentication,
 * and close it exactly once (further calls are ignored).
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "@alknet/core/transport";
 * const limiter = new ConnectionLimiter({ maxAuthFailures: 2 });
 * const a = limiter.open("192.0.2.1");
 * if (a.ok) {
 *   console.log(a.connection.authFailed()); // false: keep going
 *   console.log(a.connection.authFailed()); // true: disconnect now
 *   a.connection.close();
 * }
 * ```
 */
export interface LimitedConnection {
  /** Normalized source address. */
  readonly address: string;
  /** Failed attempts so far. */
  readonly failures: number;
  /** Records a failed attempt; true when the connection has used up its attempts and must be closed. */
  authFailed(): boolean;
  /**
   * Records a successful login for `identityId`; refuses when the identity
   * already has the maximum number of sessions (then treat the login as
   * failed and close).
   */
  authSucceeded(identityId: string): { ok: true } | { ok: false; reason: "too-many-sessions" };
  /** Releases the connection; an unauthenticated close after a failure counts toward the penalty. */
  close(): void;
}

/**
 * Per-source and per-identity connection bookkeeping.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "@alknet/core/transport";
 * let t = 0;
 * const limiter = new ConnectionLimiter({ penaltyAfterFailures: 1, penaltySeconds: 10 }, { now: () => t });
 * const a = limiter.open("203.0.113.5");
 * if (a.ok) { a.connection.authFailed(); a.connection.close(); }
 * console.log(limiter.open("203.0.113.5")); // { ok: false, reason: "penalty", retryAfterS: 10 }
 * t = 10_000;
 * console.log(limiter.open("203.0.113.5").ok); // true
 * ```
 */
export class ConnectionLimiter {
  #limits: LimitSettings;
  readonly #now: () => number;
  readonly #sources = new Map<string, SourceState>();
  readonly #sessions = new Map<string, number>();
  readonly #unauthenticated = new Map<string, number>();

  /**
   * Creates a limiter with no connections.
   *
   * @param limits initial limits (missing ones take {@link DEFAULT_LIMITS})
   * @param options `now`: clock in milliseconds (default `Date.now`)
   * @throws {LimitSettingsError} for a bad limit.
   */
  constructor(limits: Partial<LimitSettings> = {}, options: { now?: () => number } = {}) {
    this.#limits = normalizeLimits(limits);
    this.#now = options.now ?? Date.now;
  }

  /** The limits in force. */
  get limits(): LimitSettings {
    return { ...this.#limits };
  }

  /**
   * Swaps the limits at runtime (e.g. on config reload). Open connections
   * stay; the new limits apply to everything that happens next.
   *
   * @throws {LimitSettingsError} for a bad limit (the old limits stay).
   */
  setLimits(limits: Partial<LimitSettings>): void {
    this.#limits = normalizeLimits(limits);
  }

  /** Number of source addresses being tracked (for tests and metrics). */
  get trackedSources(): number {
    return this.#sources.size;
  }

  /**
   * The listener limits in force, defaults filled in
   * ({@link LISTENER_LIMITS}).
   */
  get listenerLimits(): typeof LISTENER_LIMITS {
    const l = this.#limits;
    return {
      maxUnauthenticatedPerIp: l.maxUnauthenticatedPerIp ??
        LISTENER_LIMITS.maxUnauthenticatedPerIp,
      tlsHandshakeTimeoutS: l.tlsHandshakeTimeoutS ?? LISTENER_LIMITS.tlsHandshakeTimeoutS,
      httpHeaderTimeoutS: l.httpHeaderTimeoutS ?? LISTENER_LIMITS.httpHeaderTimeoutS,
      httpIdleTimeoutS: LISTENER_LIMITS.httpIdleTimeoutS,
    };
  }

  /** Unauthenticated connections from `address` that hold a slot. */
  unauthenticatedConnections(address: string): number {
    return this.#unauthenticated.get(normalize(address)) ?? 0;
  }

  /**
   * Takes a slot among `address`'s unauthenticated connections, or returns
   * `undefined` when it already holds `maxUnauthenticatedPerIp` of them.
   * Listeners call this at accept and release the slot once the peer has
   * authenticated or the connection closed.
   */
  admitUnauthenticated(address: string): UnauthenticatedSlot | undefined {
    const addr = normalize(address);
    const n = this.#unauthenticated.get(addr) ?? 0;
    const max = this.listenerLimits.maxUnauthenticatedPerIp;
    if (max > 0 && n >= max) return undefined;
    this.#unauthenticated.set(addr, n + 1);
    let held = true;
    return {
      address: addr,
      release: () => {
        if (!held) return;
        held = false;
        const left = (this.#unauthenticated.get(addr) ?? 1) - 1;
        if (left <= 0) this.#unauthenticated.delete(addr);
        else this.#unauthenticated.set(addr, left);
      },
    };
  }

  /** Open connections from `address`. */
  openConnections(address: string): number {
    return this.#sources.get(normalize(address))?.open ?? 0;
  }

  /** Authenticated sessions of `identityId`. */
  sessions(identityId: string): number {
    return this.#sessions.get(identityId) ?? 0;
  }

  /** Seconds until `address` is admitted again, or 0 when it is not penalized. */
  penaltyRemaining(address: string): number {
    const s = this.#sources.get(normalize(address));
    const left = s ? s.penalizedUntil - this.#now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Admits or refuses a new connection from `address` (an IP literal). */
  open(address: string): Admission {
    const addr = normalize(address);
    const now = this.#now();
    let s = this.#sources.get(addr);
    if (s && s.penalizedUntil > now) {
      return {
        ok: false,
        reason: "penalty",
        retryAfterS: Math.ceil((s.penalizedUntil - now) / 1000),
      };
    }
    const max = this.#limits.maxConnectionsPerIp;
    if (s && max > 0 && s.open >= max) return { ok: false, reason: "too-many-connections" };
    if (!s) {
      this.#prune(now);
      s = { open: 0, strikes: [], penalizedUntil: 0 };
      this.#sources.set(addr, s);
    }
    s.open++;
    return { ok: true, connection: this.#connection(addr, s) };
  }

  #connection(addr: string, s: SourceState): LimitedConnection {
    let failures = 0;
    let identity: string | null = null;
    let closed = false;
    return {
      address: addr,
      get failures() {
        return failures;
      },
      authFailed: (): boolean => {
        if (closed) return true;
        failures++;
        const max = this.#limits.maxAuthFailures;
        return max > 0 && failures >= max;
      },
      authSucceeded: (identityId: string) => {
        if (closed) return { ok: false, reason: "too-many-sessions" } as const;
        if (identity !== null) return { ok: true } as const;
        const max = this.#limits.maxSessionsPerIdentity;
        const n = this.#sessions.get(identityId) ?? 0;
        if (max > 0 && n >= max) return { ok: false, reason: "too-many-sessions" } as const;
        this.#sessions.set(identityId, n + 1);
        identity = identityId;
        return { ok: true } as const;
      },
      close: () => {
        if (closed) return;
        closed = true;
        s.open = Math.max(0, s.open - 1);
        if (identity !== null) {
          const n = (this.#sessions.get(identity) ?? 1) - 1;
          if (n <= 0) this.#sessions.delete(identity);
          else this.#sessions.set(identity, n);
        } else if (failures > 0) {
          this.#strike(s);
        }
        if (s.open === 0 && s.strikes.length === 0 && s.penalizedUntil <= this.#now()) {
          if (this.#sources.get(addr) === s) this.#sources.delete(addr);
        }
      },
    };
  }

  #strike(s: SourceState): void {
    const { penaltyAfterFailures, penaltySeconds } = this.#limits;
    if (penaltyAfterFailures === 0) return;
    const now = this.#now();
    const windowStart = now - penaltySeconds * 1000;
    s.strikes = s.strikes.filter((t) => t > windowStart);
    s.strikes.push(now);
    if (s.strikes.length >= penaltyAfterFailures) {
      s.penalizedUntil = now + penaltySeconds * 1000;
      s.strikes = [];
    }
  }

  #prune(now: number): void {
    if (this.#sources.size < MAX_TRACKED) return;
    const windowStart = now - this.#limits.penaltySeconds * 1000;
    for (const [k, v] of this.#sources) {
      v.strikes = v.strikes.filter((t) => t > windowStart);
      if (v.open === 0 && v.strikes.length === 0 && v.penalizedUntil <= now) {
        this.#sources.delete(k);
      }
    }
    // Still full: forget the oldest idle entries (their strikes are lost).
    for (const [k, v] of this.#sources) {
      if (this.#sources.size < MAX_TRACKED) break;
      if (v.open === 0) this.#sources.delete(k);
    }
  }
}

function normalize(address: string): string {
  const ip = parseIp(String(address));
  return ip ? formatIp(ip) : String(address).toLowerCase();
}
