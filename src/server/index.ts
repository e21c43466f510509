export { createServer, type CreateServerOptions, type RateLimitOptions } from './server.js';
export {
  ApiKeys, ROLES, OPEN_CALLER, createApiKey, addApiKey, removeApiKeys, readKeysFile, writeKeysFile, defaultKeysFile,
  type ApiKeyRecord, type ApiKeyStore, type Caller, type FollowKeysOptions, type Role, type NewApiKeyOptions,
} from './auth/api-keys.js';
export { canSee } from './auth/access.js';
export type * from './services.js';
