/**
 * Envelope transports: the layer between a connection and its carrier.
 * {@link EnvelopeTransport} is what a connection needs; `framedTransport`
 * runs length-prefixed frames over any byte stream, `webSocketTransport`
 * one envelope per WebSocket message, and {@link memoryTransportPair} links
 * two connections inside one process.
 *
 * @module
 */

import type { Envelope } from "./wire.ts";

/**
 * What a transport reports to its connection.
 *
 * @example
 * ```ts
 * import type { TransportHandlers } from "@alknet/call";
 * const handlers: TransportHandlers = { message: (e) => console.log(e.type), close: (err) => console.log("closed", err) };
 * ```
 */
export interface TransportHandlers {
  /** One decoded envelope arrived. */
  message(envelope: Envelope): void;
  /** The transport closed; `error` says why when it was not an orderly close. */
  close(error?: Error): void;
}

/**
 * Moves envelopes between two connection ends. `send` never blocks: it
 * queues, and `bufferedAmount`/`drained()` expose backpressure.
 *
 * @example
 * ```ts
 * import { memoryTransportPair, type EnvelopeTransport } from "@alknet/call";
 * const [a, b]: EnvelopeTransport[] = memoryTransportPair();
 * b.start({ message: (e) => console.log(e.type), close: () => {} });
 * a.start({ message: () => {}, close: () => {} });
 * a.send({ type: "call.aborted", id: "x", payload: {} });
 * a.close();
 * ```
 */
export interface EnvelopeTransport {
  /**
   * Queues one envelope for sending; ignored after close. Throws (without
   * sending anything) when the envelope cannot be encoded: not serializable
   * as JSON, or larger than 64 MiB.
   */
  send(envelope: Envelope): void;
  /** Bytes queued and not yet handed to the carrier. */
  readonly bufferedAmount: number;
  /** Resolves once the queue has drained below the low-water mark (or the transport closed). */
  drained(): Promise<void>;
  /** Starts delivering envelopes; call once. */
  start(handlers: TransportHandlers): void;
  /** Flushes what is queued, then closes; reports `error` to the handlers. */
  close(error?: Error): void;
}

/**
 * Two linked in-process transports (envelopes are JSON round-tripped so they
 * behave as on a wire). For tests and for composing nodes in one process.
 *
 * @example
 * ```ts
 * import { CallConnection, memoryTransportPair, OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * const [a, b] = memoryTransportPair();
 * const server = new CallConnection(a, { router: reg });
 * const client = new CallConnection(b);
 * console.log(await client.call("demo/echo", { hi: 1 }));
 * await client.close();
 * await server.closed;
 * ```
 */
export function memoryTransportPair(): [EnvelopeTransport, EnvelopeTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryTransport implements EnvelopeTransport {
  peer: MemoryTransport | null = null;
  handlers: TransportHandlers | null = null;
  closed = false;
  backlog: Envelope[] = [];
  readonly bufferedAmount = 0;

  drained(): Promise<void> {
    return Promise.resolve();
  }

  send(envelope: Envelope): void {
    if (this.closed) return;
    const copy = JSON.parse(JSON.stringify(envelope)) as Envelope;
    const peer = this.peer!;
    queueMicrotask(() => peer.deliver(copy));
  }

  deliver(e: Envelope): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.message(e);
    else this.backlog.push(e);
  }

  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const b = this.backlog;
    this.backlog = [];
    for (const e of b) handlers.message(e);
  }

  close(error?: Error): void {
    if (this.closed) return;
    queueMicrotask(() => {
      if (this.closed) return;
      this.closed = true;
      this.handlers?.close(error);
      this.peer?.close();
    });
  }
}
