/**
 * Test helper: an `SshServer` behind a `tcp://` endpoint on 127.0.0.1,
 * admitting connections as a node does (the limiter's admission, the
 * pre-auth timeout from accept).
 *
 * @module
 */

import type { SshServer } from "@alknet/core/ssh";
import { type Endpoint, listenEndpoint } from "@alknet/core/transport";

/** Listens on a free loopback port and hands each admitted connection to `ssh`. */
export function listenSsh(ssh: SshServer): Promise<Endpoint> {
  return listenEndpoint("tcp://127.0.0.1:0", {
    handlers: {
      ssh: (conn, info) => ssh.handleConn(conn, info),
    },
  });
}
