/**
 * `peers/*` and `credentials/*` (metadata only) operations.
 *
 * @module
 */

import type { CredentialInfo } from "../credentials.ts";
import type { Peer } from "../peers.ts";
import type { Store } from "../store.ts";
import { type ErrorFactory, errors, guard, object, S, type StorageOperation } from "./common.ts";

const READ_PEERS = ["admin:peers", "peers:read"];
const WRITE_PEERS = ["admin:peers"];
const READ_CREDENTIALS = ["admin:credentials", "credentials:read"];
const WRITE_CREDENTIALS = ["admin:credentials"];

/**
 * A peer on the wire.
 *
 * @example
 * ```ts
 * import type { PeerWire } from "@alknet/storage/ops";
 * const line = (p: PeerWire) => `${p.peer_id} ${p.enabled ? "enabled" : "disabled"} ${p.keys.length} keys`;
 * console.log(typeof line); // "function"
 * ```
 */
export interface PeerWire {
  /** Stable logical name. */
  peer_id: string;
  /** Human-readable name. */
  display_name: string;
  /** Whether logins are accepted. */
  enabled: boolean;
  /** Keys: fingerprint, type, comment, token key id. */
  keys: {
    fingerprint: string;
    type: string | null;
    comment: string;
    token_key_id: string | null;
  }[];
  /** Granted scopes. */
  scopes: string[];
  /** Resources per type. */
  resources: Record<string, string[]>;
  /** Unix milliseconds. */
  created_at: number;
  /** Unix milliseconds. */
  updated_at: number;
}

/**
 * A peer as `peers/*` answers it.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * import { peerWire } from "@alknet/storage/ops";
 * const store = await openStore(":memory:");
 * const wire = peerWire(await store.peers.add({ peerId: "alice" }));
 * console.log(wire.peer_id, wire.scopes); // "alice" [ "relay:connect" ]
 * await store.close();
 * ```
 */
export function peerWire(p: Peer): PeerWire {
  return {
    peer_id: p.peerId,
    display_name: p.displayName,
    enabled: p.enabled,
    keys: p.keys.map((k) => ({
      fingerprint: k.fingerprint,
      type: k.type,
      comment: k.comment,
      token_key_id: k.tokenKeyId,
    })),
    scopes: p.scopes,
    resources: p.resources,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

const PEER_OUT = object({
  peer_id: S.name,
  display_name: S.text,
  enabled: S.bool,
  keys: { type: "array", items: { type: "object" } },
  scopes: S.strings,
  resources: S.resources,
  created_at: S.int,
  updated_at: S.int,
}, ["peer_id", "enabled", "keys", "scopes"]);

const PEER_ID = object({ peer_id: S.name }, ["peer_id"]);

function credentialWire(c: CredentialInfo) {
  return {
    name: c.name,
    key_version: c.keyVersion,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** The `peers/*` operations on `store`. */
export function peerOperations(store: Store, toError: ErrorFactory): StorageOperation[] {
  const one = (
    name: string,
    description: string,
    run: (peerId: string) => Promise<Peer>,
  ): StorageOperation => ({
    name,
    type: "mutation",
    description,
    input_schema: PEER_ID,
    output_schema: PEER_OUT,
    errors: errors(),
    access: { scopes_any: WRITE_PEERS },
    handler: guard(
      toError,
      async ({ peer_id }: { peer_id: string }) => peerWire(await run(peer_id)),
    ),
  });
  return [
    {
      name: "peers/list",
      type: "query",
      description: "Every peer (only enabled or disabled ones with `enabled`).",
      input_schema: object({ enabled: S.bool }),
      output_schema: { type: "array", items: PEER_OUT },
      errors: errors(),
      access: { scopes_any: READ_PEERS },
      handler: guard(
        toError,
        async (input: { enabled?: boolean } | null) =>
          (await store.peers.list({ enabled: input?.enabled })).map(peerWire),
      ),
    },
    {
      name: "peers/get",
      type: "query",
      description: "One peer.",
      input_schema: PEER_ID,
      output_schema: PEER_OUT,
      errors: errors(),
      access: { scopes_any: READ_PEERS },
      handler: guard(toError, async ({ peer_id }: { peer_id: string }) => {
        const p = await store.peers.get(peer_id);
        if (!p) throw toError("NOT_FOUND", `peer '${peer_id}' does not exist`);
        return peerWire(p);
      }),
    },
    {
      name: "peers/add",
      type: "mutation",
      description: "Adds a peer with OpenSSH public key lines and/or bare fingerprints.",
      input_schema: object({
        peer_id: S.name,
        display_name: S.text,
        enabled: S.bool,
        keys: S.strings,
        fingerprints: S.strings,
        scopes: S.strings,
        resources: S.resources,
      }, ["peer_id"]),
      output_schema: PEER_OUT,
      errors: errors("EXISTS", "CONFLICT"),
      access: { scopes_any: WRITE_PEERS },
      handler: guard(toError, async (i: {
        peer_id: string;
        display_name?: string;
        enabled?: boolean;
        keys?: string[];
        fingerprints?: string[];
        scopes?: string[];
        resources?: Record<string, string[]>;
      }) =>
        peerWire(
          await store.peers.add({
            peerId: i.peer_id,
            displayName: i.display_name,
            enabled: i.enabled,
            keys: i.keys,
            fingerprints: i.fingerprints,
            scopes: i.scopes,
            resources: i.resources,
          }),
        )),
    },
    {
      name: "peers/update",
      type: "mutation",
      description: "Changes a peer's display name, scopes or resources.",
      input_schema: object({
        peer_id: S.name,
        display_name: S.text,
        scopes: S.strings,
        resources: S.resources,
      }, ["peer_id"]),
      output_schema: PEER_OUT,
      errors: errors(),
      access: { scopes_any: WRITE_PEERS },
      handler: guard(toError, async (i: {
        peer_id: string;
        display_name?: string;
        scopes?: string[];
        resources?: Record<string, string[]>;
      }) =>
        peerWire(
          await store.peers.update(i.peer_id, {
            displayName: i.display_name,
            scopes: i.scopes,
            resources: i.resources,
          }),
        )),
    },
    one("peers/enable", "Accepts the peer's logins again.", (id) => store.peers.enable(id)),
    one(
      "peers/disable",
      "Refuses the peer everywhere; nodes close its sessions.",
      (id) => store.peers.disable(id),
    ),
    {
      name: "peers/add-key",
      type: "mutation",
      description: "Adds a key (an OpenSSH public key line or a bare fingerprint) to a peer.",
      input_schema: object({ peer_id: S.name, key: S.text }, ["peer_id", "key"]),
      output_schema: PEER_OUT,
      errors: errors("EXISTS", "CONFLICT"),
      access: { scopes_any: WRITE_PEERS },
      handler: guard(
        toError,
        async ({ peer_id, key }: { peer_id: string; key: string }) =>
          peerWire(await store.peers.addKey(peer_id, key)),
      ),
    },
    {
      name: "peers/remove-key",
      type: "mutation",
      description: "Removes a key from a peer by fingerprint.",
      input_schema: object({ peer_id: S.name, fingerprint: S.text }, ["peer_id", "fingerprint"]),
      output_schema: PEER_OUT,
      errors: errors(),
      access: { scopes_any: WRITE_PEERS },
      handler: guard(
        toError,
        async ({ peer_id, fingerprint }: { peer_id: string; fingerprint: string }) =>
          peerWire(await store.peers.removeKey(peer_id, fingerprint)),
      ),
    },
    {
      name: "peers/remove",
      type: "mutation",
      description: "Removes a peer and its keys.",
      input_schema: PEER_ID,
      output_schema: object({ removed: S.bool }, ["removed"]),
      errors: errors(),
      access: { scopes_any: WRITE_PEERS },
      handler: guard(toError, async ({ peer_id }: { peer_id: string }) => {
        await store.peers.remove(peer_id);
        return { removed: true };
      }),
    },
  ];
}

const CREDENTIAL_OUT = object({
  name: S.name,
  key_version: S.int,
  created_at: S.int,
  updated_at: S.int,
}, ["name", "key_version"]);

/** The `credentials/*` operations: metadata only, never a blob. */
export function credentialOperations(store: Store, toError: ErrorFactory): StorageOperation[] {
  return [
    {
      name: "credentials/list",
      type: "query",
      description: "Names and key versions of the stored credentials (never their contents).",
      input_schema: object({}),
      output_schema: { type: "array", items: CREDENTIAL_OUT },
      errors: errors(),
      access: { scopes_any: READ_CREDENTIALS },
      handler: guard(toError, async () => (await store.credentials.list()).map(credentialWire)),
    },
    {
      name: "credentials/info",
      type: "query",
      description: "One credential's metadata.",
      input_schema: object({ name: S.name }, ["name"]),
      output_schema: CREDENTIAL_OUT,
      errors: errors(),
      access: { scopes_any: READ_CREDENTIALS },
      handler: guard(toError, async ({ name }: { name: string }) => {
        const c = await store.credentials.info(name);
        if (!c) throw toError("NOT_FOUND", `credential '${name}' does not exist`);
        return credentialWire(c);
      }),
    },
    {
      name: "credentials/remove",
      type: "mutation",
      description: "Deletes a credential.",
      input_schema: object({ name: S.name }, ["name"]),
      output_schema: object({ removed: S.bool }, ["removed"]),
      errors: errors(),
      access: { scopes_any: WRITE_CREDENTIALS },
      handler: guard(toError, async ({ name }: { name: string }) => {
        if (!(await store.credentials.remove(name))) {
          throw toError("NOT_FOUND", `credential '${name}' does not exist`);
        }
        return { removed: true };
      }),
    },
  ];
}
