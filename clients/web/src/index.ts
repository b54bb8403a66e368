export {
  ShortfuseClient,
  decodeClaims,
  type OutgoingRequest,
  type RequestSigner,
  type SessionEntry,
  type SessionInfo,
  type ShortfuseOptions,
  type SignOutReason,
  type SignOutResult,
  type Stats,
} from "./client.js";
export { SignedOutError, TokenError } from "./errors.js";
export { memoryStore, webStorageStore, type RefreshStore, type TokenState } from "./store.js";
export { localLocks, type ChannelLike, type LockManagerLike } from "./tabs.js";
export { revokeCognitoRefreshToken, type CognitoRevokeOptions } from "./cognito.js";
export {
  createDPoP,
  indexedDBStore,
  memoryKeyStore,
  stepUpOf,
  type DPoP,
  type DPoPOptions,
  type KeyStore,
  type StepUp,
} from "./dpop.js";
