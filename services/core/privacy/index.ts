// Privacy of what is stored (README "Input hardening and privacy"): keyed hash, masked form, encrypted number, masked text.
export {
  KEY_BYTES,
  MASK,
  decryptNumber,
  encryptNumber,
  maskDigits,
  maskNumber,
  protect,
  requireEncKey,
  subscriberHash,
} from './subscriber.js';
export type { PrivacyKeys, ProtectedSubscriber } from './subscriber.js';
export { maskNumberInText } from './mask-text.js';
