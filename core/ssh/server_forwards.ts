/**
 * What an authenticated SSH session may open: `direct-tcpip` channels
 * (reserved `alknet-*` destinations go to their handlers; everything else is
 * checked against the key's restrictions and the forwarding policy before
 * any dial, and failures are reported as open failures with a reason), and
 * `tcpip-forward` / `cancel-tcpip-forward` (loopback binds unless allowed).
 * Internal to `SshServer` (not exported by `@alknet/core/ssh`).
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ForwardRestrictions } from "../auth/identity.ts";
import { restrictionsAllow } from "../auth/policy.ts";
import { DialError, dialTcp } from "../transport/tcp.ts";
import { closeQuietly, relayConnDuplex } from "../transport/stream.ts";
import { hostPort } from "../transport/hostport.ts";
import { destinationProblem } from "./server_destination.ts";
import { isReservedDestination } from "./reserved.ts";
import {
  OpenFailure,
  type ServerConnection,
  type SessionInfo,
  type SshServerOptions,
  type TcpipInfo,
} from "./server_types.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuses a channel open with a reason code and text (internal). */
export type RefuseChannel = (reject: () => void, reason: number, desc: string) => void;

/** Returns the handler of ssh2's `tcpip` (direct-tcpip) event for one session (internal). */
export function directTcpipHandler(
  options: () => SshServerOptions,
  session: SessionInfo,
  restrictions: () => ForwardRestrictions,
  refuse: RefuseChannel,
): (accept: () => Duplex, reject: () => void, dest: TcpipInfo) => void {
  return (accept, reject, dest) => {
    const o = options();
    const host = dest.destIP;
    const refused = (reason: number, desc: string, problem: string) => {
      // The log says what was wrong, never the destination.
      o.logger.event("channel refused", {
        remote: session.remote,
        transport: session.transport,
        reason: problem,
      });
      refuse(reject, reason, desc);
    };
    // A reserved name (alknet-control, ...) is a channel, not a destination:
    // clients open it with port 0, which is not checked.
    const reserved = isReservedDestination(host);
    const problem = destinationProblem(host, reserved ? 1 : dest.destPort);
    if (problem !== undefined) {
      const what = problem === "port-out-of-range" ? "port" : "host";
      return refused(OpenFailure.CONNECT_FAILED, `invalid destination ${what}`, problem);
    }
    if (reserved) {
      const handler = o.reserved?.[host];
      if (!handler) {
        return refused(
          OpenFailure.ADMINISTRATIVELY_PROHIBITED,
          "administratively prohibited",
          "reserved-name",
        );
      }
      return handler(accept(), session);
    }
    if (
      !restrictionsAllow(restrictions(), { kind: "connect", host, port: dest.destPort }) ||
      o.policy.evaluate({
          kind: "connect",
          host,
          port: dest.destPort,
          identity: session.identity,
          transport: session.transport,
        }) !== "allow"
    ) {
      return refuse(reject, OpenFailure.ADMINISTRATIVELY_PROHIBITED, "administratively prohibited");
    }
    (o.dial ?? dialTcp)(host, dest.destPort).then(
      (conn) => {
        let channel: Duplex;
        try {
          channel = accept();
        } catch {
          conn.close();
          return;
        }
        relayConnDuplex(conn, channel);
      },
      (e) => {
        const kind = e instanceof DialError ? e.kind : "unreachable";
        refuse(
          reject,
          OpenFailure.CONNECT_FAILED,
          kind === "refused"
            ? "connection refused"
            : kind === "timeout"
            ? "connection timed out"
            : "host unreachable",
        );
      },
    );
  };
}

/** A bind request of `tcpip-forward` / `cancel-tcpip-forward`. */
interface BindRequest {
  bindAddr: string;
  bindPort: number;
}

/** The remote (`-R`) forwards of one session (internal). */
export class RemoteForwards {
  #forwards = new Map<string, Deno.TcpListener>();
  #client: ServerConnection;
  #session: SessionInfo;
  #restrictions: () => ForwardRestrictions;
  #options: () => SshServerOptions;

  /** Creates the set for one session. */
  constructor(
    client: ServerConnection,
    session: SessionInfo,
    restrictions: () => ForwardRestrictions,
    options: () => SshServerOptions,
  ) {
    this.#client = client;
    this.#session = session;
    this.#restrictions = restrictions;
    this.#options = options;
  }

  /** Handles one global request: `tcpip-forward`, `cancel-tcpip-forward`, or refuses it. */
  request(
    name: string,
    data: BindRequest,
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
  ): void {
    if (name === "tcpip-forward") this.#open(data, accept, reject);
    else if (name === "cancel-tcpip-forward") this.#cancel(data, accept, reject);
    else reject?.();
  }

  /** Closes every listener of the session. */
  closeAll(): void {
    for (const l of new Set(this.#forwards.values())) closeQuietly(l);
    this.#forwards.clear();
  }

  #cancel(
    data: BindRequest,
    accept: (() => void) | undefined,
    reject: (() => void) | undefined,
  ): void {
    const l = this.#forwards.get(hostPort(data.bindAddr, data.bindPort));
    if (!l) return reject?.();
    closeQuietly(l);
    for (const [k, v] of this.#forwards) if (v === l) this.#forwards.delete(k);
    accept?.();
  }

  #open(
    data: BindRequest,
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
  ): void {
    const o = this.#options();
    const requested = data.bindAddr;
    const bindHost = requested === "localhost"
      ? "127.0.0.1"
      : requested === "" || requested === "*"
      ? "0.0.0.0"
      : requested;
    const allowed = (o.allowRemoteBind || isLoopback(bindHost)) &&
      restrictionsAllow(this.#restrictions(), {
        kind: "listen",
        host: requested,
        port: data.bindPort,
      }) &&
      o.policy.evaluate({
          kind: "listen",
          host: bindHost,
          port: data.bindPort,
          identity: this.#session.identity,
          transport: this.#session.transport,
        }) === "allow";
    if (!allowed) {
      o.logger.event("forward refused", {
        remote: this.#session.remote,
        reason: "administratively-prohibited",
      });
      return reject?.();
    }
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: bindHost, port: data.bindPort, transport: "tcp" });
    } catch {
      return reject?.();
    }
    const port = (listener.addr as Deno.NetAddr).port;
    this.#forwards.set(hostPort(requested, data.bindPort === 0 ? port : data.bindPort), listener);
    if (data.bindPort === 0) this.#forwards.set(hostPort(requested, 0), listener);
    accept?.(port);
    const client = this.#client;
    (async () => {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        const peer = conn.remoteAddr as Deno.NetAddr;
        client.forwardOut(requested, port, peer.hostname, peer.port, (err, channel) => {
          if (err) return conn.close();
          relayConnDuplex(conn, channel);
        });
      }
    })().catch(() => {});
  }
}
