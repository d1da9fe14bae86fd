/**
 * `npm run audit` (run by .ci/run after the tests): `npm audit --omit=dev`, the dependencies
 * a deployment installs, failing on any high or critical advisory. Dev dependencies (the test
 * and benchmark tools) never run in a deployment; `npm audit` alone lists them too.
 *
 * When the registry cannot be asked (the machines this was built on answer the audit
 * endpoint with 405), `npm audit` fails too, for a reason that says nothing about the
 * dependencies. That case is reported as "not checked", loudly, and does not fail the run:
 * failing it would block every change for a reason outside the repository, and passing it
 * silently would claim a check that did not happen.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SEVERE = ['high', 'critical'] as const;

export interface AuditVerdict {
  /** `clean`: asked, nothing severe; `severe`: asked, something severe; `unchecked`: not asked. */
  readonly outcome: 'clean' | 'severe' | 'unchecked';
  readonly message: string;
}

/** Judges the JSON `npm audit --json` printed (npm 7+ report format). */
export function judgeAudit(output: string): AuditVerdict {
  let report: {
    metadata?: { vulnerabilities?: Record<string, number> };
    vulnerabilities?: Record<string, { severity?: string }>;
    message?: string;
    error?: { summary?: string };
  };
  try {
    report = JSON.parse(output) as typeof report;
  } catch {
    return { outcome: 'unchecked', message: 'npm audit printed no JSON report' };
  }
  const counts = report.metadata?.vulnerabilities;
  if (counts === undefined) {
    const why = report.message ?? report.error?.summary ?? 'no report';
    return { outcome: 'unchecked', message: `the registry could not be asked: ${why}` };
  }
  const severe = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => (SEVERE as readonly string[]).includes(v.severity ?? ''))
    .map(([name, v]) => `${name} (${v.severity})`);
  const summary = Object.entries(counts)
    .filter(([k, n]) => k !== 'total' && n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  if (severe.length > 0)
    return { outcome: 'severe', message: `high or critical advisories: ${severe.join(', ')}` };
  return {
    outcome: 'clean',
    message: `no high or critical advisories (${summary || 'none at all'})`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
  const verdict = judgeAudit(run.stdout);
  const prefix = verdict.outcome === 'unchecked' ? 'WARNING: npm audit NOT CHECKED' : 'npm audit';
  console.error(`${prefix}: ${verdict.message}`);
  process.exit(verdict.outcome === 'severe' ? 1 : 0);
}
