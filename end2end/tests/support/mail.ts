/**
 * A loopback SMTP server for the suite (the server's MSSP_SMTP_URL points at it): each message
 * it receives is written as a JSON file to E2E_MAIL_DIR, where the stories read it, the way a
 * person reads their inbox.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from '@playwright/test';

export interface Mail {
  to: string[];
  /** Headers and body as received (the body may be quoted-printable). */
  data: string;
}

/** Starts the SMTP server on `port`; answers a function that stops it. */
export async function startMailSink(port: number, dir: string): Promise<() => Promise<void>> {
  fs.mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let data = '';
    let to: string[] = [];
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 e2e.local ESMTP ready');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            count += 1;
            fs.writeFileSync(
              path.join(dir, `${Date.now()}-${count}.json`),
              JSON.stringify({ to, data } satisfies Mail),
            );
            to = [];
            data = '';
            reply('250 queued');
          } else {
            data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          }
          continue;
        }
        const upper = line.toUpperCase();
        if (upper.startsWith('EHLO') || upper.startsWith('HELO')) {
          socket.write('250-e2e.local\r\n250 8BITMIME\r\n');
        } else if (upper.startsWith('MAIL FROM')) {
          reply('250 OK');
        } else if (upper.startsWith('RCPT TO')) {
          to.push(line.slice(8).trim().replace(/^<|>$/g, ''));
          reply('250 OK');
        } else if (upper === 'DATA') {
          inData = true;
          reply('354 end with .');
        } else if (upper === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else {
          reply('250 OK');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Every message received so far. */
export function inbox(): Mail[] {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Mail);
}

/** Quoted-printable soft line breaks and escapes undone, so text can be searched. */
function plain(data: string): string {
  return data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** Waits for a message to `to` whose text contains `text`; answers its text. */
export async function mailTo(to: string, text: string): Promise<string> {
  let found: string | undefined;
  await expect
    .poll(
      () => {
        found = inbox()
          .filter((m) => m.to.includes(to))
          .map((m) => plain(m.data))
          .find((body) => body.includes(text));
        return found !== undefined;
      },
      { message: `an email to ${to} containing "${text}"`, timeout: 15_000 },
    )
    .toBe(true);
  return found ?? '';
}
