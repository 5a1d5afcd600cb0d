/**
 * The status page's HTTP server: its own listener (never one of the node's
 * public ones), every path behind the token gate, one page, its stylesheet
 * and script, the live feed (`/events`) and the two pictures as SVG files.
 *
 * @module
 */

import type { CallRecorder, OperationSpecLike } from "@alknet/flowgraph";
import { STATUS_CSS, STATUS_JS } from "./assets.ts";
import type { AuditReader, AuditRow } from "./audit.ts";
import { StatusGate, type StatusGateOptions } from "./auth.ts";
import { LiveFeed } from "./live.ts";
import { OperationsPicture, type StatusNode } from "./model.ts";
import { renderPage, renderRefused } from "./page.ts";

/**
 * Options of {@link startStatusServer}.
 */
export interface StatusServerOptions {
  /** Where to listen (a loopback address unless the operator asked otherwise). */
  hostname: string;
  /** The port (0: any free one). */
  port: number;
  /** The node. */
  node: StatusNode;
  /** Every operation the node serves. */
  specs: () => OperationSpecLike[];
  /** The node's call recorder, or null when it does not record. */
  recorder: CallRecorder | null;
  /** Who may look. */
  gate: StatusGateOptions;
  /** Reads the latest audit events; null or absent: the node has no store. */
  audit?: AuditReader | null;
  /** Live updates at most this often (default 250 ms). */
  intervalMs?: number;
}

/**
 * A running status page.
 */
export interface StatusServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** `http://HOST:PORT/`. */
  readonly url: string;
  /** Ends the live streams and stops listening. */
  close(): Promise<void>;
}

const AUDIT_ROWS = 20;

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function answer(body: BodyInit | null, status: number, type: string, extra = {}): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `http://${host}:${addr.port}/`;
}

/**
 * Starts the status page.
 */
export function startStatusServer(o: StatusServerOptions): StatusServer {
  const gate = new StatusGate(o.gate);
  const ops = new OperationsPicture(o.specs);
  const feed = new LiveFeed({
    recorder: o.recorder,
    sessions: () => o.node.sessions(),
    intervalMs: o.intervalMs,
  });
  const audit = o.audit ?? null;
  ops.current().catch(() => {}); // load Graphviz now, not on the first visit

  const page = async (): Promise<Response> => {
    let auditRows: AuditRow[] | null = null;
    let auditError: string | undefined;
    if (audit !== null) {
      auditRows = await audit(AUDIT_ROWS).catch((e) => {
        auditError = e instanceof Error ? e.message : String(e);
        return [];
      });
    }
    const [{ specs, svg }, live] = await Promise.all([ops.current(), feed.state()]);
    const html = renderPage({
      node: o.node,
      live,
      recording: o.recorder !== null,
      operations: specs,
      operationsSvg: svg,
      audit: auditRows,
      auditError,
    });
    return answer(html, 200, "text/html; charset=utf-8");
  };

  const handle = async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return answer("method not allowed\n", 405, "text/plain", { allow: "GET, HEAD" });
    }
    const admitted = await gate.admit(req);
    if (!admitted.ok) {
      return answer(renderRefused(), 401, "text/html; charset=utf-8", {
        "www-authenticate": 'Bearer realm="alknet-status"',
      });
    }
    const path = new URL(req.url).pathname;
    if (admitted.fromQuery) {
      // Drop the token from the address bar and history; the cookie carries on.
      return answer(null, 303, "text/plain", {
        location: path,
        "set-cookie": admitted.cookie ?? "",
      });
    }
    switch (path) {
      case "/":
        return await page();
      case "/style.css":
        return answer(STATUS_CSS, 200, "text/css; charset=utf-8");
      case "/app.js":
        return answer(STATUS_JS, 200, "text/javascript; charset=utf-8");
      case "/events": {
        const res = feed.stream();
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.headers.set(k, v);
        return res;
      }
      case "/operations.svg":
        return answer((await ops.current()).svg, 200, "image/svg+xml");
      case "/calls.svg":
        return answer((await feed.state()).svg, 200, "image/svg+xml");
      default:
        return answer("not found\n", 404, "text/plain");
    }
  };

  const server = Deno.serve({
    hostname: o.hostname,
    port: o.port,
    onListen: () => {},
  }, async (req) => {
    try {
      return await handle(req);
    } catch {
      return answer("the status page failed to render\n", 500, "text/plain");
    }
  });
  const addr = server.addr as Deno.NetAddr;
  let closed: Promise<void> | undefined;
  return {
    addr,
    url: urlOf(addr),
    close() {
      closed ??= (async () => {
        feed.close();
        await server.shutdown();
      })();
      return closed;
    },
  };
}
