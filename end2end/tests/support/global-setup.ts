import { startMailSink } from './mail';

/** The suite's loopback SMTP server, up for the whole run (see playwright.config.ts). */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = Number(process.env.E2E_SMTP_PORT);
  const dir = process.env.E2E_MAIL_DIR;
  if (!port || !dir) throw new Error('E2E_SMTP_PORT and E2E_MAIL_DIR are set by playwright.config.ts');
  return startMailSink(port, dir);
}
