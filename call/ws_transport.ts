/**
 * The WebSocket transport: one envelope per binary message (text messages
 * holding JSON are accepted too), over Deno's, the browser's or `npm:ws`'s
 * WebSocket.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import type { EnvelopeTransport, TransportHandlers } from "./transport.ts";
import { decodeMessage, encodeMessage, type Envelope, MAX_FRAME_BYTES } from "./wire.ts";

/** Bytes queued on the socket above which a subscription waits to send more. */
const LOW_WATER = 256 * 1024;

/**
 * The parts of a WebSocket the message transport uses: Deno's and the
 * browser's `WebSocket` and `npm:ws` all fit.
 *
 * @example
 * ```ts
 * import type { WebSocketLike } from "@alknet/call";
 * const connect = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;
 * ```
 */
export interface WebSocketLike {
  /** Set to `"arraybuffer"` by the transport. */
  binaryType: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by the socket. */
  readonly bufferedAmount: number;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Subscribes to `open`, `message`, `close` and `error`. */
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}

/**
 * One envelope per binary WebSocket message. Text messages holding JSON are
 * accepted too. A malformed message closes the socket with code 1002. The
 * socket is listened to from the moment the transport is made (a socket
 * still connecting is fine), so nothing that arrives before `start` is lost.
 *
 * @example
 * ```ts
 * import { CallConnection, webSocketTransport } from "@alknet/call";
 * Deno.serve({ port: 0, onListen: () => {} }, (req) => {
 *   const { socket, response } = Deno.upgradeWebSocket(req);
 *   new CallConnection(webSocketTransport(socket));
 *   return response;
 * }).shutdown();
 * ```
 */
export function webSocketTransport(socket: WebSocketLike): EnvelopeTransport {
  return new WsTransport(socket);
}

class WsTransport implements EnvelopeTransport {
  #ws: WebSocketLike;
  #closed = false;
  #closeError: Error | undefined;
  #handlers: TransportHandlers | null = null;
  #pending: Uint8Array[] = [];
  /** Envelopes that arrived before `start` (the socket is listened to from the start). */
  #early: Envelope[] = [];

  constructor(ws: WebSocketLike) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("open", () => {
      const p = this.#pending;
      this.#pending = [];
      for (const d of p) ws.send(d);
    });
    ws.addEventListener("message", (ev) => {
      if (this.#closed) return;
      let env: Envelope;
      try {
        const d = ev.data;
        if (typeof d === "string" || d instanceof ArrayBuffer || d instanceof Uint8Array) {
          env = decodeMessage(d);
        } else throw new ProtocolError("unsupported message type");
      } catch (e) {
        this.#fail(e as Error, 1002);
        return;
      }
      if (this.#handlers) this.#handlers.message(env);
      else this.#early.push(env);
    });
    ws.addEventListener("close", () => this.#fail(undefined));
    ws.addEventListener("error", () => this.#fail(new Error("websocket error")));
    if (ws.readyState >= 2) this.#fail(undefined);
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  async drained(): Promise<void> {
    for (let i = 0; i < 10_000 && !this.#closed && this.#ws.bufferedAmount > LOW_WATER; i++) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  send(envelope: Envelope): void {
    if (this.#closed) return;
    const data = encodeMessage(envelope);
    if (data.byteLength > MAX_FRAME_BYTES) {
      throw new ProtocolError(`message of ${data.byteLength} bytes exceeds 64 MiB`);
    }
    if (this.#ws.readyState === 0) this.#pending.push(data);
    else if (this.#ws.readyState === 1) this.#ws.send(data);
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const env of early) handlers.message(env);
    if (this.#closed) handlers.close(this.#closeError);
  }

  #fail(error: Error | undefined, code = 1000): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    try {
      if (this.#ws.readyState <= 1) this.#ws.close(code);
    } catch {
      // ignore
    }
    this.#handlers?.close(error);
  }

  close(error?: Error): void {
    this.#fail(error);
  }
}
