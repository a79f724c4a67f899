import { execFileSync } from 'node:child_process';

/** The length of a TOTP time step (RFC 6238 default, what authenticator apps use). */
const STEP_MS = 30_000;

/** The current TOTP time step. */
export function currentStep(): number {
  return Math.floor(Date.now() / 1000 / 30);
}

/**
 * The 6-digit code for `secretBase32` from Debian's `oathtool`, a real authenticator that
 * shares no code with the app. `at` is a unix time in seconds (default: now).
 */
export function totpCode(secretBase32: string, at?: number): string {
  const secret = secretBase32.replace(/\s+/g, '');
  const args = ['--totp', '-b', secret];
  if (at !== undefined) args.push(`--now=@${at}`);
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

/** The code for a given time step (used to replay an older step on purpose). */
export function codeForStep(secretBase32: string, step: number): string {
  return totpCode(secretBase32, step * 30);
}

/**
 * A code for a time step newer than `notStep`. The server rejects a code whose step is the
 * same as or older than the last one it accepted (a replay, RFC 6238 §5.2), so after using a
 * code we wait for the next step instead of guessing.
 */
export async function freshCode(
  secretBase32: string,
  notStep?: number,
): Promise<{ code: string; step: number }> {
  if (notStep !== undefined) {
    while (currentStep() <= notStep) {
      const untilNext = STEP_MS - (Date.now() % STEP_MS);
      await new Promise((resolve) => setTimeout(resolve, untilNext + 50));
    }
  }
  // Compute the step first and then the code for exactly that step, so the pair agrees even
  // when the clock rolls over between the two calls.
  const step = currentStep();
  return { code: codeForStep(secretBase32, step), step };
}

/**
 * A 6-digit code that is certainly wrong for `secretBase32` now: none of the codes of the
 * time steps around now (the server accepts one step either side). Random, so repeated calls
 * give different wrong codes.
 */
export function wrongCode(secretBase32: string): string {
  const now = currentStep();
  const near = new Set<string>();
  for (let step = now - 3; step <= now + 3; step++) near.add(codeForStep(secretBase32, step));
  for (;;) {
    const candidate = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}
