/** scripts/audit.ts: which `npm audit --json` outputs pass, fail, or count as not checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeAudit } from '../scripts/audit.js';

const counts = (high: number, critical: number, moderate = 0) => ({
  info: 0,
  low: 0,
  moderate,
  high,
  critical,
  total: high + critical + moderate,
});

test('a report with a high or critical advisory fails and names the packages', () => {
  const report = {
    auditReportVersion: 2,
    vulnerabilities: {
      tar: { name: 'tar', severity: 'high' },
      ms: { name: 'ms', severity: 'moderate' },
      'node-forge': { name: 'node-forge', severity: 'critical' },
    },
    metadata: { vulnerabilities: counts(1, 1, 1) },
  };
  assert.deepEqual(judgeAudit(JSON.stringify(report)), {
    outcome: 'severe',
    message: 'high or critical advisories: tar (high), node-forge (critical)',
  });
});

test('a report with only moderate advisories passes and says what it saw', () => {
  const report = {
    auditReportVersion: 2,
    vulnerabilities: { ms: { name: 'ms', severity: 'moderate' } },
    metadata: { vulnerabilities: counts(0, 0, 1) },
  };
  assert.deepEqual(judgeAudit(JSON.stringify(report)), {
    outcome: 'clean',
    message: 'no high or critical advisories (1 moderate)',
  });
});

test('a clean report passes', () => {
  const report = {
    auditReportVersion: 2,
    vulnerabilities: {},
    metadata: { vulnerabilities: counts(0, 0) },
  };
  assert.deepEqual(judgeAudit(JSON.stringify(report)), {
    outcome: 'clean',
    message: 'no high or critical advisories (none at all)',
  });
});

test('a registry that refuses the audit request is "not checked", never clean', () => {
  const refused = {
    message:
      '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    statusCode: 405,
    error: { summary: '', detail: '' },
  };
  assert.deepEqual(judgeAudit(JSON.stringify(refused)), {
    outcome: 'unchecked',
    message:
      'the registry could not be asked: 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  });
  assert.equal(judgeAudit('npm error code ENOTFOUND').outcome, 'unchecked');
});
