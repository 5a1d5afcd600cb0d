/**
 * `@alknet/core/auth` — who may do what: SSH keys (parse, generate,
 * fingerprint), `authorized_keys` with its options, the SSH authenticator,
 * OpenSSH certificates, signed bearer tokens, API keys, the `Identity` a
 * login or token resolves to, identity providers and the forwarding policy.
 *
 * @example One key: an SSH login and a bearer token
 * ```ts
 * import {
 *   AuthorizedKeysAuthenticator,
 *   generateEd25519Key,
 *   mintToken,
 *   parsePrivateKey,
 * } from "@alknet/core/auth";
 *
 * const me = generateEd25519Key("me");
 * const auth = AuthorizedKeysAuthenticator.fromText(`${me.publicLine}\n`, "authorized_keys");
 * console.log(auth.resolveFingerprint(me.fingerprint)?.scopes); // ["relay:connect"]
 * const token = mintToken(parsePrivateKey(me.privateText, "me").seed!); // valid for 5 minutes
 * console.log(auth.authorizeToken(token).ok); // true
 * ```
 *
 * @module
 */

export { SshReader, SshWireError, SshWriter } from "./ssh_wire.ts";
export {
  algoMatchesKeyType,
  keyTypeOf,
  parsePublicKeyBlob,
  PublicKeyError,
  type SshPublicKey,
  SUPPORTED_KEY_TYPES,
} from "./keys.ts";
export {
  type Cidr,
  cidrContains,
  CidrError,
  formatIp,
  parseCidr,
  parseIp,
  parseIPv4,
  parseIPv6,
  wildcardMatch,
} from "../transport/addr.ts";
export {
  type AuthorizedKeyEntry,
  type AuthorizedKeyOptions,
  DEFAULT_SCOPE,
  matchFrom,
  parseAuthorizedKeys,
  type WarnFn,
} from "./authorized_keys.ts";
export {
  type AuthenticatorOptions,
  AuthorizedKeysAuthenticator,
  AuthorizedKeysFileError,
  restrictionsOf,
} from "./authenticator.ts";
export { type TokenAuthResult } from "./authenticator.ts";
export { timingSafeEqual } from "./ct.ts";
export {
  keyLookup,
  mintToken,
  TOKEN_WINDOW_SECONDS,
  TokenError,
  type TokenErrorCode,
  TokenExpiredError,
  tokenKeyId,
  type TokenKeyLookup,
  TokenMalformedError,
  TokenSignatureError,
  TokenUnknownKeyError,
  type VerifiedToken,
  verifyToken,
} from "./token.ts";
export {
  ApiKeyError,
  type ApiKeyErrorCode,
  type ApiKeyRecord,
  ApiKeyStore,
  type ApiKeyStoreOptions,
  generateApiKey,
  type GenerateApiKeyOptions,
  hashApiKey,
  validateApiKeyRecord,
} from "./api_keys.ts";
export { ConfigIdentityProvider } from "./provider.ts";
export {
  type CertificateCheck,
  CertificateError,
  type CertificateErrorCode,
  type CertificateGrant,
  certifiedKeyFingerprint,
  checkCertificate,
  parseCertificate,
  SSH_CERT_TYPE_HOST,
  SSH_CERT_TYPE_USER,
  type SshCertificate,
  SUPPORTED_CERT_TYPES,
} from "./certificate.ts";
export { authorizeCertificate, isCertificateType } from "./cert_auth.ts";
export * from "./identity.ts";
export * from "./policy.ts";
export * from "./ssh_keys.ts";
