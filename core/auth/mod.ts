/**
 * Authentication for alknet: SSH wire helpers, public keys and fingerprints,
 * `authorized_keys` parsing, the SSH authenticator, OpenSSH certificates,
 * signed tokens and API keys.
 *
 * @example
 * ```ts
 * import { AuthorizedKeysAuthenticator } from "@alknet/core/auth";
 * const auth = AuthorizedKeysAuthenticator.fromText("# no keys yet\n", "inline");
 * console.log(auth.entries.length); // 0
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
