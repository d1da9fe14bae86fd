/**
 * The strict base64url decoder (src/tokens/base64url.ts): exactly one spelling per byte
 * string is accepted, the one `Buffer#toString('base64url')` produces (RFC 7515 §2).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeBase64url, isCanonicalCompact } from '../src/tokens/base64url.js';
import { trailingBitVariants } from './helpers/spaces.js';

describe('strict base64url', () => {
  test('every canonical encoding decodes to its bytes, whatever the length', () => {
    for (let length = 0; length <= 34; length++) {
      const bytes = randomBytes(length);
      assert.deepEqual(decodeBase64url(bytes.toString('base64url')), bytes);
    }
    assert.deepEqual(decodeBase64url('-_8'), Buffer.from([0xfb, 0xff]));
  });

  test('the unused trailing bits set → refused, though Buffer reads the same bytes', () => {
    for (const length of [1, 2, 4, 5, 128, 256]) {
      const text = randomBytes(length).toString('base64url');
      const variants = trailingBitVariants(text);
      assert.equal(variants.length, length % 3 === 1 ? 15 : 3, text);
      for (const variant of variants) assert.equal(decodeBase64url(variant), undefined, variant);
    }
    assert.equal(decodeBase64url('AB'), undefined);
    assert.deepEqual(decodeBase64url('AA'), Buffer.from([0]));
  });

  test('padding, the standard alphabet, whitespace and junk → refused', () => {
    for (const text of [
      'AA==',
      'AAA=',
      'AA=',
      '+_8',
      '-/8',
      ' AAAA',
      'AAAA ',
      'AA AA',
      'AAAA\n',
      'AA\tAA',
      'AAAA\r\n',
      'AA.A',
      'AAAA%',
      'AAÀA',
      'A',
      'AAAAA',
    ]) {
      assert.equal(decodeBase64url(text), undefined, JSON.stringify(text));
    }
  });

  test('a compact JWS is canonical only if each of its segments is', () => {
    const h = Buffer.from('{"alg":"RS256"}').toString('base64url');
    const p = Buffer.from('{"sub":"x"}').toString('base64url');
    const s = randomBytes(128).toString('base64url');
    assert.equal(isCanonicalCompact(`${h}.${p}.${s}`), true);
    for (const variant of trailingBitVariants(s)) {
      assert.equal(isCanonicalCompact(`${h}.${p}.${variant}`), false);
    }
    assert.equal(isCanonicalCompact(`${h}=.${p}.${s}`), false);
    assert.equal(isCanonicalCompact(`${h}.${p} .${s}`), false);
  });
});
