/**
 * Who may see the status page: a request carries the status token or a
 * token the node accepts (`Authorization: Bearer`, or `?token=` once, which
 * the page turns into a session cookie and drops from the address).
 *
 * @module
 */

import { timingSafeEqual } from "@alknet/core/auth";

/**
 * Options of {@link StatusGate}.
 */
export interface StatusGateOptions {
  /** The status page's own token (`--status-token`, `ALKNET_STATUS_TOKEN`). */
  token?: string;
  /** True when the node accepts this token or API key for the page. */
  authorize?: (token: string) => boolean | Promise<boolean>;
  /** How long a session cookie lasts (default 8 h). */
  sessionTtlMs?: number;
  /** Sessions kept at most (default 256; the oldest goes first). */
  maxSessions?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/**
 * What {@link StatusGate.admit} decided: refused, or let in (with a cookie
 * to set when a token started a session, and whether the token came in the
 * address, so the page can drop it with a redirect).
 */
export type Admission = { ok: false } | { ok: true; cookie?: string; fromQuery: boolean };

/** The session cookie's name. */
export const COOKIE = "alknet_status";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function cookieOf(req: Request): string | undefined {
  const header = req.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE) return v.join("=");
  }
  return undefined;
}

function bearerOf(req: Request): string | undefined {
  const h = req.headers.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}

/**
 * Checks requests to the status page.
 */
export class StatusGate {
  readonly #token: Promise<Uint8Array> | undefined;
  readonly #authorize: ((token: string) => boolean | Promise<boolean>) | undefined;
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, number>(); // id → expiry, oldest first

  /** A gate for these tokens. */
  constructor(options: StatusGateOptions) {
    this.#token = options.token === undefined || options.token === ""
      ? undefined
      : digest(options.token);
    this.#authorize = options.authorize;
    this.#ttl = options.sessionTtlMs ?? 8 * 3600_000;
    this.#max = options.maxSessions ?? 256;
    this.#now = options.now ?? Date.now;
  }

  /** True when `token` opens the page. */
  async accepts(token: string): Promise<boolean> {
    if (token === "") return false;
    if (this.#token !== undefined && timingSafeEqual(await digest(token), await this.#token)) {
      return true;
    }
    if (this.#authorize === undefined) return false;
    try {
      return (await this.#authorize(token)) === true;
    } catch {
      return false;
    }
  }

  /** Decides on a request: a live session cookie, a bearer token, or `?token=`. */
  async admit(req: Request): Promise<Admission> {
    const now = this.#now();
    const session = cookieOf(req);
    if (session !== undefined) {
      const until = this.#sessions.get(session);
      if (until !== undefined && until > now) return { ok: true, fromQuery: false };
      this.#sessions.delete(session);
    }
    const bearer = bearerOf(req);
    if (bearer !== undefined && await this.accepts(bearer)) return { ok: true, fromQuery: false };
    const query = new URL(req.url).searchParams.get("token");
    if (query !== null && await this.accepts(query)) {
      return { ok: true, fromQuery: true, cookie: this.#start(now) };
    }
    return { ok: false };
  }

  #start(now: number): string {
    for (const [id, until] of this.#sessions) {
      if (until > now && this.#sessions.size < this.#max) break;
      this.#sessions.delete(id);
    }
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    this.#sessions.set(id, now + this.#ttl);
    const age = Math.floor(this.#ttl / 1000);
    return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}`;
  }
}
