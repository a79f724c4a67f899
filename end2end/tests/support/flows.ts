import { expect, test, type Browser, type BrowserContextOptions, type Page, type Response } from '@playwright/test';
import { chosenPassword } from './accounts';
import { watchForAppErrors } from './fixtures';
import {
  arriveAt,
  CodeStepPage,
  DashboardPage,
  Header,
  NewPasswordPage,
  ProfilePage,
  RecoveryCodesPanel,
  SignInPage,
  type NewAdmin,
} from './pages';
import { freshCode } from './totp';

/**
 * A separate browser context (own cookies) for another admin, with the suite's base URL;
 * `options` may give it, say, another user agent.
 */
export async function otherBrowser(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL, ...options });
  await watchForAppErrors(context);
  return context.newPage();
}

/**
 * Resolves once the page's live connection (server-sent events from /api/events) is open.
 * Start waiting before the navigation that opens it: an event published before the
 * connection is open never reaches that page.
 */
export function liveConnection(page: Page): Promise<Response> {
  return page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/events' && r.status() === 200,
  );
}

/** An added admin after their first sign-in, with 2FA on. */
export interface AdminWith2fa extends NewAdmin {
  /** The password they chose at their first sign-in. */
  chosenPassword: string;
  /** Their authenticator key (base32, as the profile shows it). */
  secret: string;
  /** The TOTP time step of the last code the server accepted. */
  lastStep: number;
}

/**
 * An added admin's first sign-in in `page`: the initial password, a new password, the
 * dashboard; then 2FA turned on from the profile with a code from oathtool.
 */
export async function firstSignInWith2fa(page: Page, admin: NewAdmin): Promise<AdminWith2fa> {
  const signIn = new SignInPage(page);
  const newPassword = new NewPasswordPage(page);
  const profile = new ProfilePage(page);
  const password = chosenPassword();

  await signIn.goto();
  await signIn.submitCredentials(admin.username, admin.password);
  await arriveAt(page, '/login/new-password');
  await expect(newPassword.heading).toBeVisible();
  await newPassword.choose(password);
  await arriveAt(page, '/');
  await expect(new DashboardPage(page).welcome(admin.name)).toBeVisible();

  await new Header(page).profileLink.click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(profile.heading).toBeVisible();
  await expect(profile.twoFactorSwitch).not.toBeChecked();
  await profile.startSetup(password);
  await expect(profile.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
  const secret = (await profile.secret.innerText()).trim();
  const { code, step } = await freshCode(secret);
  await profile.submitSetupCode(code);
  await new RecoveryCodesPanel(page).saveIfShown(profile.status.getByText(/Two-factor authentication is on/));
  await expect(profile.status).toContainText('Two-factor authentication is on');
  await expect(profile.twoFactorSwitch).toBeChecked();
  return { ...admin, chosenPassword: password, secret, lastStep: step };
}

/**
 * Signs in with the password only (from wherever `page` is) and waits at the code step with
 * its live connection open.
 */
export async function signInToCodeStep(page: Page, identifier: string, password: string): Promise<void> {
  const signIn = new SignInPage(page);
  const codeStep = new CodeStepPage(page);
  await signIn.goto();
  const live = liveConnection(page);
  await signIn.submitCredentials(identifier, password);
  await arriveAt(page, '/login/code');
  await live;
  await expect(codeStep.heading).toBeVisible();
  await expect(codeStep.requestResetButton).toBeEnabled();
}

/** What turning 2FA on from the profile gave. */
export interface TwoFactorOn {
  /** The authenticator key (base32, as the profile shows it). */
  secret: string;
  /** The TOTP time step of the code the setup accepted. */
  step: number;
  /** The recovery codes shown once after "Turn on". */
  recoveryCodes: string[];
}

/**
 * A signed-in admin without 2FA turns it on from the profile (confirming with `password`) with
 * a code from oathtool, keeps the recovery codes it shows, and confirms they were saved.
 */
export async function turnOnTwoFactor(page: Page, password: string): Promise<TwoFactorOn> {
  const profile = new ProfilePage(page);
  const panel = new RecoveryCodesPanel(page);
  await profile.goto();
  await expect(profile.twoFactorSwitch).not.toBeChecked();
  await profile.startSetup(password);
  await expect(profile.secret).toHaveText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
  const secret = (await profile.secret.innerText()).trim();
  const { code, step } = await freshCode(secret);
  await profile.submitSetupCode(code);
  await expect(panel.codes).toHaveCount(10);
  const recoveryCodes = await panel.read();
  await panel.savedButton.click();
  await expect(profile.status).toContainText('Two-factor authentication is on');
  return { secret, step, recoveryCodes };
}
