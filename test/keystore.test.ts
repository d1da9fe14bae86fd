import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SigningKey } from '../src/store/store.js';
import { currentSigner } from '../src/tokens/keystore.js';

const key = (kid: string, activatesAt: number, publishUntil: number | null): SigningKey => ({
  kid,
  alg: 'RS256',
  publicJwk: '{}',
  privateKey: '',
  createdAt: 0,
  activatesAt,
  purpose: 'access',
  publishUntil,
});

describe('currentSigner', () => {
  test('a second staged rotation does not keep the oldest key signing past its successor', () => {
    // A active; B staged to activate at 4600 (A published until 4600 + retain); then C staged
    // to activate at 5000, which retires B. Between 4600 and 5000 B must sign, not A.
    const rows = [key('A', 0, 4600 + 86460), key('B', 4600, 5000 + 86460), key('C', 5000, null)];
    assert.equal(currentSigner(rows, 4599)?.kid, 'A');
    assert.equal(currentSigner(rows, 4600)?.kid, 'B');
    assert.equal(currentSigner(rows, 4999)?.kid, 'B');
    assert.equal(currentSigner(rows, 5000)?.kid, 'C');
  });

  test('keys activated in the same second: the unretired successor signs, whatever the order', () => {
    assert.equal(currentSigner([key('old', 100, 200), key('new', 100, null)], 100)?.kid, 'new');
    assert.equal(currentSigner([key('new', 100, null), key('old', 100, 200)], 100)?.kid, 'new');
  });

  test('no key has activated yet', () => {
    assert.equal(currentSigner([key('A', 100, null)], 99), undefined);
  });
});
