import { hash, verify } from '@node-rs/argon2';

/** The password rule the CLI, the admin API and the setup and reset pages all apply. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** What is wrong with a new password, or undefined when it may be set. */
export function passwordProblem(password: string): 'short' | 'long' | undefined {
  if (password.length < PASSWORD_MIN) return 'short';
  if (password.length > PASSWORD_MAX) return 'long';
  return undefined;
}

/** argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum profile). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: 2 });
}

let dummyHash: Promise<string> | undefined;
/** Verified against when there is no hash to check, so a miss costs what a wrong password costs. */
function noAccountHash(): Promise<string> {
  dummyHash ??= hash('tessera: no such user', { algorithm: 2 });
  return dummyHash;
}

/**
 * Whether `password` matches `stored`. An unknown account (undefined) and an invited one that
 * has set no password yet ('') are checked against a dummy hash first: each answers in the
 * time a wrong password takes, so the answer's timing tells neither apart from a real account.
 */
export async function passwordMatches(
  stored: string | undefined,
  password: string,
): Promise<boolean> {
  const matches = await verify(stored || (await noAccountHash()), password).catch(() => false);
  return matches && stored !== undefined && stored !== '';
}
