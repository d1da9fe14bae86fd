import { constants, sign } from 'node:crypto';
import type { ActiveKey } from './keystore.js';

/** The JWS signature (RFC 7518 §3) of `data` with `key`, in the key's algorithm. */
export function signBytes(key: ActiveKey, data: Buffer): Buffer {
  switch (key.alg) {
    case 'RS256':
      return sign('sha256', data, key.privateKey);
    case 'PS256':
      return sign('sha256', data, {
        key: key.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
    case 'ES256':
      return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, key.privateKey);
  }
}
