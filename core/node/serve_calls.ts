/**
 * The call carriers of `serve()`: `calls` served on the SSH channel to
 * `alknet-control` (identity = the SSH login), on `alknet/call` streams of
 * TLS, QUIC and iroh (identity = the token of the first request) and on the
 * `/alknet/call` WebSocket (identity = the bearer token).
 *
 * @module
 */

import type { ReservedChannelHandler } from "../ssh/server.ts";
import type { ConnHandler, ConnInfo, HttpHandler } from "../transport/endpoint.ts";
import { duplexToConn } from "../transport/conn.ts";
import { hostPort } from "../transport/hostport.ts";
import type { Identity } from "../auth/identity.ts";
import {
  CALL_WEBSOCKET_PATH,
  type CallPeer,
  type CallService,
  type CallSession,
} from "./call_service.ts";

/** The handlers that carry calls, ready for the SSH server and the endpoints. */
export interface CallCarriers {
  /** Reserved SSH destinations (`alknet-control` serves `calls`). */
  reserved: Record<string, ReservedChannelHandler>;
  /** The `alknet/call` stream handler. */
  call?: ConnHandler;
  /** The HTTP handler (`/alknet/call` WebSocket, then the caller's own). */
  http?: HttpHandler;
  /** Closes the token-authenticated call connections of an identity; returns how many. */
  closeSessions(identityId: string): number;
}

/** What {@link callCarriers} wires together. */
export interface CallCarrierSetup {
  /** The operations to serve. */
  calls?: CallService;
  /** Resolves a token or API key, throwing an error that says why when refused. */
  authenticate: (token: string, remoteAddress: string) => Promise<Identity>;
  /** Low-level reserved handlers (win over `calls`). */
  reserved?: Record<string, ReservedChannelHandler>;
  /** Low-level `alknet/call` handler (wins over `calls`). */
  call?: ConnHandler;
  /** Low-level HTTP handler, asked first. */
  http?: HttpHandler;
}

/** Call connections authenticated by token, by identity id. */
class TokenSessions {
  readonly #byId = new Map<string, Set<CallSession>>();

  track(id: string, session: CallSession): void {
    const set = this.#byId.get(id) ?? new Set<CallSession>();
    this.#byId.set(id, set.add(session));
    Promise.resolve(session.closed).catch(() => {}).finally(() => {
      set.delete(session);
      if (set.size === 0 && this.#byId.get(id) === set) this.#byId.delete(id);
    });
  }

  close(id: string): number {
    let n = 0;
    for (const s of [...(this.#byId.get(id) ?? [])]) {
      try {
        s.close();
      } catch { /* gone */ }
      n++;
    }
    return n;
  }
}

/** The peer of one carrier connection, and `bind` for its session once known. */
function peerOf(
  info: ConnInfo,
  setup: CallCarrierSetup,
  sessions: TokenSessions,
): { peer: CallPeer; bind(session: CallSession): void } {
  // The identity (first token) and the session arrive in either order.
  let who: string | undefined;
  let session: CallSession | undefined;
  let tracked = false;
  const link = () => {
    if (tracked || who === undefined || session === undefined) return;
    tracked = true;
    sessions.track(who, session);
  };
  const bind = (s: CallSession) => {
    session ??= s;
    link();
  };
  return {
    bind,
    peer: {
      transport: info.transport,
      remote: hostPort(info.remoteAddress, info.remotePort),
      authenticate: async (token) => {
        const identity = await setup.authenticate(token, info.remoteAddress);
        info.authenticated?.();
        who ??= identity.id;
        link();
        return identity;
      },
      onConnection: bind,
    },
  };
}

/**
 * Builds the carriers: `calls` on every carrier, low-level handlers first.
 */
export function callCarriers(setup: CallCarrierSetup): CallCarriers {
  const calls = setup.calls;
  const reserved = { ...setup.reserved };
  if (calls && !reserved["alknet-control"]) {
    reserved["alknet-control"] = (channel, session) => {
      calls.serveCallStream(duplexToConn(channel), {
        identity: session.identity,
        transport: "ssh",
        remote: session.remote,
      });
    };
  }
  const sessions = new TokenSessions();
  const call: ConnHandler | undefined = setup.call ?? (calls
    ? (conn, info) => {
      const p = peerOf(info, setup, sessions);
      p.bind(calls.serveCallStream(conn, p.peer));
    }
    : undefined);
  const own = setup.http;
  let http: HttpHandler | undefined = own;
  if (calls) {
    http = async (request, info) => {
      const mine = own ? await own(request, info) : null;
      if (mine) return mine;
      if (new URL(request.url).pathname !== CALL_WEBSOCKET_PATH) return null;
      return await calls.serveCallWebSocket(request, peerOf(info, setup, sessions).peer);
    };
  }
  return { reserved, call, http, closeSessions: (id) => sessions.close(id) };
}
