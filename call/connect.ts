/**
 * {@link connectCall}: one entry point for every client carrier, chosen by
 * the target URL's scheme.
 *
 * @module
 */

import { connectCallTcp, connectCallTls } from "./carrier_stream.ts";
import { connectCallWebSocket } from "./carrier_ws.ts";
import type { CallConnection, ConnectionOptions } from "./connection.ts";
import { ConnectError } from "./errors.ts";

/** Options of {@link connectCall}. */
export interface ConnectCallOptions extends Omit<ConnectionOptions, "authToken"> {
  /** Token: the WebSocket bearer token, or `auth_token` of the first request on tcp/tls. */
  token?: string;
  /** Extra trusted CA certificates (PEM) for `tls://` and `wss://`. */
  caCerts?: string[];
  /** Skip certificate verification (testing only). */
  insecure?: boolean;
}

const DEFAULT_PORTS: Record<string, number> = { tcp: 0, tls: 443, ws: 80, wss: 443 };

/**
 * Connects to `tcp://HOST:PORT`, `tls://HOST:PORT`, `ws://HOST:PORT` or
 * `wss://HOST:PORT` (WebSocket path defaults to `/alknet/call`). `ssh://`
 * targets need an SSH session: open a `direct-tcpip` channel to
 * `alknet-control` with `@alknet/core` and wrap it with `fromNodeDuplex` and
 * `framedTransport`.
 *
 * @example
 * ```ts
 * import { connectCall, OperationRegistry, registerNodeOperations, serveCallTcp } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = serveCallTcp({ port: 0, registry });
 * const conn = await connectCall(`tcp://127.0.0.1:${server.addr.port}`);
 * console.log(await conn.call("node/ping", { hello: "world" }));
 * await conn.close();
 * await server.close();
 * ```
 */
export async function connectCall(
  target: string,
  options: ConnectCallOptions = {},
): Promise<CallConnection> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ConnectError(target, "not a URL (expected tcp://, tls://, ws:// or wss://)");
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (!(scheme in DEFAULT_PORTS)) {
    throw new ConnectError(
      target,
      `unsupported scheme ${scheme}:// (expected tcp, tls, ws or wss)`,
    );
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? DEFAULT_PORTS[scheme] : Number(url.port);
  if (port === 0) throw new ConnectError(target, "a port is required");
  const { token, caCerts, insecure, ...rest } = options;
  switch (scheme) {
    case "tcp":
      return await connectCallTcp({ ...rest, hostname, port, authToken: token });
    case "tls":
      return await connectCallTls({ ...rest, hostname, port, authToken: token, caCerts, insecure });
    default:
      return await connectCallWebSocket({
        ...rest,
        url: target,
        token: token ?? "",
        caCerts,
        insecure,
      });
  }
}
