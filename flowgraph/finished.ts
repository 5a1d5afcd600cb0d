/**
 * The finished calls a `CallRecorder` keeps, in the order they finished, in
 * a ring of columns rather than one object per call: times as unboxed
 * numbers, call ids of up to 48 ASCII characters as bytes, operation names
 * and statuses shared. Recording a finished call then allocates nothing,
 * and a node keeping thousands of them keeps almost no per-call objects
 * alive: garbage-collection work is most of what recording would otherwise
 * cost it. Internal to `@alknet/flowgraph`.
 *
 * @module
 */

import type { CallRecord } from "./call_graph.ts";
import type { CallStatus } from "./call_status.ts";

/** Bytes kept per call id (UUIDs take 36). */
const ID_SLOT = 48;
const STATUSES: readonly CallStatus[] = ["pending", "running", "completed", "failed", "aborted"];
const STATUS_CODE: Readonly<Record<CallStatus, number>> = {
  pending: 0,
  running: 1,
  completed: 2,
  failed: 3,
  aborted: 4,
};

/**
 * Finished calls, oldest finish first: append at the end, drop from the
 * front. The ring grows (doubling) as needed. (Internal: no entry point
 * exports it; `flowgraph/finished_test.ts` checks it against a plain list.)
 */
export class FinishedCalls {
  #cap = 0;
  #first = 0; // ring position of the oldest
  #size = 0;
  #idBytes = new Uint8Array(0);
  #idLength = new Int16Array(0); // -1: the id is in #longIds
  #longIds: (string | undefined)[] = [];
  #ops: (string | undefined)[] = [];
  #parents: (string | undefined)[] = [];
  #codes: (string | undefined)[] = [];
  #status = new Uint8Array(0);
  #times = new Float64Array(0); // requested, running (NaN: never), ended
  #names = new Map<string, string>(); // one string per operation name
  #firstEnded = Infinity;

  /** How many are held. */
  get size(): number {
    return this.#size;
  }

  /** Appends a finished call (its fields are copied). */
  push(c: CallRecord): void {
    this.add(
      c.id,
      c.operation,
      c.parentId,
      c.status,
      c.code,
      c.requestedAt,
      c.runningAt ?? NaN,
      c.endedAt ?? c.requestedAt,
    );
  }

  /** {@link push} field by field, with `NaN` for a call that never ran. */
  add(
    id: string,
    operation: string,
    parentId: string | undefined,
    status: CallStatus,
    code: string | undefined,
    requestedAt: number,
    runningAt: number,
    endedAt: number,
  ): void {
    if (this.#size === this.#cap) this.#grow();
    const k = (this.#first + this.#size++) % this.#cap;
    this.#storeId(k, id);
    this.#ops[k] = this.#name(operation);
    this.#parents[k] = parentId;
    this.#codes[k] = code;
    this.#status[k] = STATUS_CODE[status];
    this.#times[3 * k] = requestedAt;
    this.#times[3 * k + 1] = runningAt;
    this.#times[3 * k + 2] = endedAt;
    if (this.#size === 1) this.#firstEnded = endedAt;
  }

  /** When the first call to finish of those held ended; `Infinity` when none is held. */
  get firstEndedAt(): number {
    return this.#firstEnded;
  }

  /** When the `i`-th held call (0: the first to finish) ended. */
  endedAt(i: number): number {
    return this.#times[3 * ((this.#first + i) % this.#cap) + 2];
  }

  /** The `i`-th held call as a new record. */
  record(i: number): CallRecord {
    const k = (this.#first + i) % this.#cap;
    const r: {
      id: string;
      operation: string;
      status: CallStatus;
      requestedAt: number;
      parentId?: string;
      runningAt?: number;
      endedAt?: number;
      code?: string;
    } = {
      id: this.#idAt(k),
      operation: this.#ops[k] as string,
      status: STATUSES[this.#status[k]],
      requestedAt: this.#times[3 * k],
    };
    const parent = this.#parents[k];
    if (parent !== undefined) r.parentId = parent;
    const running = this.#times[3 * k + 1];
    if (!Number.isNaN(running)) r.runningAt = running;
    r.endedAt = this.#times[3 * k + 2];
    const code = this.#codes[k];
    if (code !== undefined) r.code = code;
    return r;
  }

  /** Drops the call that finished first. */
  dropFirst(): void {
    if (this.#size === 0) return;
    const k = this.#first;
    this.#longIds[k] = undefined;
    this.#parents[k] = undefined;
    this.#codes[k] = undefined;
    this.#first = (k + 1) % this.#cap;
    this.#size--;
    this.#firstEnded = this.#size > 0 ? this.endedAt(0) : Infinity;
  }

  /** Forgets every call. */
  clear(): void {
    this.#cap = 0;
    this.#first = 0;
    this.#size = 0;
    this.#firstEnded = Infinity;
    this.#idBytes = new Uint8Array(0);
    this.#idLength = new Int16Array(0);
    this.#longIds = [];
    this.#ops = [];
    this.#parents = [];
    this.#codes = [];
    this.#status = new Uint8Array(0);
    this.#times = new Float64Array(0);
    this.#names.clear();
  }

  /** Keeps `id` as bytes at position `k` when it is short ASCII, else as a string. */
  #storeId(k: number, id: string): void {
    const n = id.length;
    if (n <= ID_SLOT) {
      // Copy, then check that every character fitted in a byte (one pass).
      const bytes = this.#idBytes;
      const at = k * ID_SLOT;
      let high = 0;
      for (let i = 0; i < n; i++) {
        const c = id.charCodeAt(i);
        high |= c;
        bytes[at + i] = c;
      }
      if (high < 128) {
        this.#idLength[k] = n;
        this.#longIds[k] = undefined;
        return;
      }
    }
    this.#idLength[k] = -1;
    this.#longIds[k] = id;
  }

  #idAt(k: number): string {
    const n = this.#idLength[k];
    if (n < 0) return this.#longIds[k] as string;
    const at = k * ID_SLOT;
    return String.fromCharCode(...this.#idBytes.subarray(at, at + n));
  }

  /** The one string kept for an operation name (names beyond 1024 are kept as they come). */
  #name(op: string): string {
    const known = this.#names.get(op);
    if (known !== undefined) return known;
    if (this.#names.size < 1024) this.#names.set(op, op);
    return op;
  }

  /** Doubles the ring (at least 256), oldest first at position 0. */
  #grow(): void {
    const cap = Math.max(256, this.#cap * 2);
    const order = Array.from({ length: this.#size }, (_, i) => (this.#first + i) % this.#cap);
    const idBytes = new Uint8Array(cap * ID_SLOT);
    const idLength = new Int16Array(cap);
    const status = new Uint8Array(cap);
    const times = new Float64Array(cap * 3);
    const strings = (from: (string | undefined)[]) => {
      const to: (string | undefined)[] = new Array(cap).fill(undefined);
      order.forEach((k, i) => (to[i] = from[k]));
      return to;
    };
    order.forEach((k, i) => {
      idBytes.set(this.#idBytes.subarray(k * ID_SLOT, (k + 1) * ID_SLOT), i * ID_SLOT);
      idLength[i] = this.#idLength[k];
      status[i] = this.#status[k];
      times.set(this.#times.subarray(3 * k, 3 * k + 3), 3 * i);
    });
    this.#longIds = strings(this.#longIds);
    this.#ops = strings(this.#ops);
    this.#parents = strings(this.#parents);
    this.#codes = strings(this.#codes);
    this.#idBytes = idBytes;
    this.#idLength = idLength;
    this.#status = status;
    this.#times = times;
    this.#cap = cap;
    this.#first = 0;
  }
}
