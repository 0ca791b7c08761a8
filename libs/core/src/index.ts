export * from './errors';
export * from './api-key';
export { seal, open } from './secret-box';
export * from './scopes';
export { PASSWORD_HASH_OPTIONS, passwordNeedsRehash, withPasswordHashSlot } from './password-hash';
