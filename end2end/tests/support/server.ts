/**
 * A second server of the suite's own, on another port and the same database: for the stories
 * that stop and start a server under an open page (the suite's main server belongs to
 * Playwright's webServer and runs throughout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot, serverBinary, serverEnv } from './env';

export interface OwnServer {
  baseURL: string;
  stop(): Promise<void>;
}

async function waitUntilUp(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/login`);
      if (res.ok) return;
    } catch {
      // Not yet listening.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server at ${url} did not start`);
}

/** Starts the built server binary on `port` with the suite's database and keys. */
export async function startServer(port: number): Promise<OwnServer> {
  const env = { ...process.env, ...serverEnv(), MSSP_BIND: `127.0.0.1:${port}`, RUST_LOG: 'warn' };
  const child: ChildProcess = spawn(serverBinary(), ['serve'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseURL = `http://127.0.0.1:${port}`;
  await waitUntilUp(baseURL);
  return {
    baseURL,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
