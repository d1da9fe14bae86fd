/**
 * Something outside npm a suite needs (Debian's Chromium, python3-authlib…). Where it is
 * missing the suite is skipped, saying how to install it; with CI=true it is not skipped but
 * fails, since .ci/run installs everything and a suite that quietly skips there proves nothing.
 */
import assert from 'node:assert/strict';

export interface Requirement {
  /** The suite's `skip` option: the reason, or false when the suite runs. */
  readonly skip: string | false;
  /** Call first in the suite's `before`: fails there when the requirement is missing (CI). */
  check(): void;
}

export function requirement(available: boolean, missing: string): Requirement {
  const inCi = process.env.CI === 'true';
  return {
    skip: !available && !inCi ? missing : false,
    check: () => assert.ok(available, `${missing}; it is required when CI=true`),
  };
}
