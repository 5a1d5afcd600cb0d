/**
 * The SSH algorithm preferences alknet offers on both ends: ChaCha20-Poly1305
 * and AES-GCM first (ssh2 on Deno moves about twice as much data per second
 * with ChaCha20 as with AES-GCM), then what OpenSSH expects.
 *
 * @module
 */

/**
 * Algorithm names by kind, most preferred first.
 *
 * @example
 * ```ts
 * import { SSH_ALGORITHMS, type SshAlgorithmPreferences } from "@alknet/core/ssh";
 * const prefs: SshAlgorithmPreferences = { ...SSH_ALGORITHMS, compress: ["none"] };
 * console.log(prefs.compress); // [ "none" ]
 * ```
 */
export interface SshAlgorithmPreferences {
  /** Ciphers. */
  cipher: string[];
  /** Key exchange methods. */
  kex: string[];
  /** Host key algorithms. */
  serverHostKey: string[];
  /** MACs (unused with AEAD ciphers). */
  hmac: string[];
  /** Compression. */
  compress: string[];
}

/**
 * Algorithm lists in ssh2's configuration shape.
 *
 * @example
 * ```ts
 * import { SSH_ALGORITHMS } from "@alknet/core/ssh";
 * console.log(SSH_ALGORITHMS.cipher[0]); // "chacha20-poly1305@openssh.com"
 * ```
 */
export const SSH_ALGORITHMS: SshAlgorithmPreferences = {
  cipher: [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
  ],
  kex: [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "diffie-hellman-group14-sha256",
  ],
  serverHostKey: [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "rsa-sha2-512",
    "rsa-sha2-256",
  ],
  hmac: [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
  ],
  compress: ["none"],
};
