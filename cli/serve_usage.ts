/**
 * The help text of `alknet serve`.
 *
 * @module
 */

/**
 * What `alknet serve --help` prints.
 */
export const SERVE_USAGE: string =
  `usage: alknet serve --listen HOST:PORT (--host-key PATH | --vault KEYSTORE)
                    --authorized-keys PATH [--listen ...] [--config FILE]
                    [--log-format text|json] [--allow-remote-bind]

  --listen HOST:PORT        address to accept SSH on (repeatable; IPv6 as [::1]:2222)
  --host-key PATH           the server's OpenSSH private key (alknet keygen makes one)
  --vault KEYSTORE          derive the host key from the vault (m/74'/0'/1'/0'); the
                            passphrase comes from ALKNET_VAULT_PASSPHRASE or a prompt
  --authorized-keys PATH    OpenSSH authorized_keys file of the keys that may log in
  --config FILE             TOML configuration ([server], [auth], [forwarding], [limits]);
                            flags override ALKNET_* variables, which override the file
  --log-format text|json    log line format on stderr (default text)
  --allow-remote-bind       let -R forwards bind non-loopback addresses

Transports (--listen takes URLs: HOST:PORT or tcp://, tls://, quic://, ws://, wss://,
  iroh://[HOST:PORT][?relay=off] (peer-to-peer: the log prints the node id to dial; its
  key is kept in the data dir; relay=off: no relays and no discovery, direct addresses only)):
  --tls-cert PEM --tls-key PEM   certificate for tls://, quic:// and wss://
  --tls-self-signed         generate a certificate once, keep it in the data dir, print its
                            fingerprint (clients pin it with --tls-fingerprint)
  --data-dir DIR            where generated state lives (default $XDG_DATA_HOME/alknet)
  --acme-domain NAME        get (and renew) a certificate from an ACME CA for NAME
                            (repeatable; HTTP-01 on port 80; kept in the data dir)
  --acme-email ADDR         contact address for the ACME account
  --acme-directory URL      ACME directory (default Let's Encrypt)
  --acme-http01 HOST:PORT   where the HTTP-01 responder listens (default 0.0.0.0:80)
  --acme-ca PEM             trust this CA for the ACME server itself (test CAs)
  --stealth                 answer everything that is not alknet like an ordinary web server
  --decoy-dir DIR           serve the stealth site from DIR instead of the built-in one
  --decoy-upstream URL      with --stealth, pass unproven clients to this web server
                            (http://HOST:PORT), bytes unchanged
  --egress-proxy URL        send outbound tunnel traffic through socks5://[user:pass@]H:P or
                            http://H:P (host names are passed on unresolved)
Mesh (this node is a head: keys with alknet-scopes="mesh:worker" may register as workers,
  whose operations it serves as NAME/<op> and any/<op>):
  --worker-of URL           also be a worker of the head at URL (HOST:PORT or tls://, quic://,
                            ws://, wss://, iroh:// URLs), logging in with the host key
  --worker-name NAME        the worker name to register as (with --worker-of)
  --worker-host-key-fingerprint FP   pin the head's host key (default: trust on first use
                            in ~/.config/alknet/known_hosts)
  --worker-tls-ca PEM       trust this CA for the head's certificate (tls://, quic://, wss://)
  --worker-tls-fingerprint FP   accept only this head certificate (SHA256:<hex>)
  --worker-tls-server-name NAME server name for SNI and verification (default: the host)
  --worker-insecure         accept any head certificate (testing only)
Calls and status (the node records its calls and serves flow/operations, flow/calls):
  --record-calls N          keep the last N calls (default 10000)
  --record-calls-minutes T  drop finished calls after T minutes (default 10)
  --no-record-calls         do not record calls (flow/calls is not served)
  --status HOST:PORT        serve a status page there (loopback only, unless --status-public)
  --status-token TOKEN      its token (or ALKNET_STATUS_TOKEN); node tokens and API keys with
                            the flow:read scope open it too
  --status-public           allow a --status address that is not loopback (still token-guarded)
Peers in a database (next to or instead of --authorized-keys):
  --db LOCATION             a SQLite path, sqlite:PATH or postgres://... (or ALKNET_DB,
                            [storage] db): its peers may log in (changes from any process apply
                            within a second; a disabled or removed peer's sessions are closed),
                            audit events go to its audit topic, and peers/*, credentials/*,
                            meta/*, streams/* are served to callers with the scopes
On tls:// and quic:// the ALPN picks the protocol: alknet/ssh, alknet/call (the call
protocol; token in the first request), alknet/tcp (native data path), h2/http/1.1
(the /alknet/call and /alknet/ssh WebSockets, else the decoy site). The call protocol is
also served on the SSH channel to alknet-control with the SSH login's identity.

SIGHUP re-reads the configuration: authorized keys, API keys, forwarding rules and
limits change without dropping sessions; a file that does not validate is ignored
(the old configuration stays) and the reason is logged.`;
