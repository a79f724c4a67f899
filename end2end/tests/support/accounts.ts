import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { repoRoot, serverBinary, serverEnv } from './env';

export interface Account {
  /** The MSSP account's name. */
  accountName: string;
  /** The super admin's display name. */
  name: string;
  email: string;
  username: string;
  password: string;
}

/** Unique per call, so stories never see each other's data in the shared database. */
function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Creates an MSSP account and its super admin with the server binary's `create-account`
 * command, the way an operator does. The password goes to standard input (one line), never on
 * the command line.
 */
export function createAccount(prefix: string): Account {
  const suffix = uniqueSuffix();
  // Usernames: 3 to 64 characters of [a-z0-9._-].
  const slug = prefix.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 20);
  const username = `${slug}.${suffix}`;
  const account: Account = {
    accountName: `${prefix} MSSP ${suffix}`,
    name: `${prefix} Admin ${suffix}`,
    email: `${username}@example.test`,
    username,
    password: `pw-${randomBytes(12).toString('hex')}`,
  };
  const result = spawnSync(
    serverBinary(),
    [
      'create-account',
      '--name', account.accountName,
      '--email', account.email,
      '--username', account.username,
      '--admin-name', account.name,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, ...serverEnv() },
      input: `${account.password}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `create-account exited with ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return account;
}

/** Details for "Add admin": unique email and username, an initial password of 12+ characters. */
export function newAdminDetails(
  firstName: string,
  role: 'Admin' | 'Sub-admin' = 'Admin',
): { email: string; username: string; name: string; role: 'Admin' | 'Sub-admin'; password: string } {
  const suffix = uniqueSuffix();
  const username = `${firstName.toLowerCase()}.${suffix}`;
  return {
    email: `${username}@example.test`,
    username,
    name: `${firstName} ${suffix}`,
    role,
    password: `initial-${randomBytes(8).toString('hex')}`,
  };
}

/** A password an admin chooses: 12+ characters, unrelated to their username or email. */
export function chosenPassword(): string {
  return `Chosen-${randomBytes(10).toString('hex')}`;
}

/**
 * Adds `count` made-up admins (who cannot sign in) to the account of `ownerEmail`, with the
 * server binary's hidden `seed-admins` command (what the benchmarks use). They are named
 * "User 1", "User 2"… and sort between "U" and "V".
 */
export function seedAdmins(ownerEmail: string, count: number): void {
  const result = spawnSync(
    serverBinary(),
    ['seed-admins', '--account-of', ownerEmail, '--count', String(count), '--tag', `s${uniqueSuffix()}`],
    { cwd: repoRoot, env: { ...process.env, ...serverEnv() }, encoding: 'utf8', timeout: 120_000 },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`seed-admins exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
}
