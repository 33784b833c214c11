// Clavis' own pages in headless Chromium: a new user signs up, signs out, signs in, changes the
// password and signs in with it; a wrong password and a form without its CSRF token are refused;
// a user enrols an authenticator app and backup codes and signs in with each as second factor.
// Screenshots of every page at phone size land in target/ui-screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../../..');
const shots = join(root, 'target', 'ui-screenshots');
const binary = process.env.CLAVIS_BIN ?? join(root, 'target', 'debug', 'clavis');

let server;
let base;
let browser;
/** Everything the server logged: in `--dev`, mail is printed there instead of sent. */
let logs = '';

function startClavis() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLAVIS_')));
  Object.assign(env, {
    CLAVIS_SERVE__PUBLIC__PORT: '0', CLAVIS_SERVE__ADMIN__PORT: '0',
    RUST_LOG: 'warn,clavis_courier=info', NO_COLOR: '1',
  });
  const child = spawn(binary, ['serve', '--dev'], { cwd: mkdtempSync(join(tmpdir(), 'clavis-ui-')), env });
  child.stderr.on('data', (chunk) => { logs += chunk; });
  return new Promise((ready, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`clavis printed no banner: ${out}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/public API: (\S+)/);
      if (match) {
        clearTimeout(timer);
        ready({ child, url: match[1].replace(/\/$/, '') });
      }
    });
    child.on('exit', (code) => fail(new Error(`clavis exited with ${code}: ${out}`)));
  });
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  ({ child: server, url: base } = await startClavis());
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

async function phone() {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) violations.push(message.text());
  });
  return { context, page, violations };
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page, email, password) {
  await page.goto(`${base}/ui/login`);
  await page.fill('input[name="identifier"]', email);
  await page.fill('input[name="password"]', password);
  await page.click('button[name="method"][value="password"]');
}

/** The code of the `nth` mail to `email` with `subject`, as `--dev` prints mail to the log. */
async function mailedCode(email, subject, nth = 1) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    // eslint-disable-next-line no-control-regex
    const plain = logs.replace(/\x1b\[[0-9;]*m/g, '');
    const mails = plain.split('mail (development mode: printed, not sent)').slice(1)
      .filter((m) => m.includes(`to=${email}`) && m.includes(`subject=${subject}`));
    const code = mails[nth - 1]?.match(/^\s*(\d{6})\s*$/m)?.[1];
    if (code) return code;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no mail to ${email} with subject ${subject} in the log:\n${logs}`);
}

async function signOut(page) {
  await page.goto(`${base}/ui/logout`);
  await page.click('[data-testid="logout-confirm"]');
  await page.waitForURL(/\/ui\/login\?flow=/);
}

test('a new user registers, signs out and in, and changes the password', async () => {
  const { context, page, violations } = await phone();
  const email = `ada-${Date.now()}@example.org`;

  await page.goto(`${base}/ui/registration`);
  await page.waitForURL(/\/ui\/registration\?flow=/);
  await shot(page, 'registration');
  await page.fill('input[name="traits.email"]', email);
  await page.fill('input[name="password"]', 'correct horse battery');
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.textContent('[data-testid="identifier"]'), email);
  assert.equal(await page.textContent('[data-testid="aal"]'), 'aal1');
  await shot(page, 'welcome');

  await page.goto(`${base}/ui/logout`);
  await shot(page, 'logout');
  await page.click('[data-testid="logout-confirm"]');
  await page.waitForURL(/\/ui\/login\?flow=/);
  await shot(page, 'login');

  await signIn(page, email, 'correct horse battery');
  await page.waitForURL(/\/ui\/welcome$/);

  await page.click('text=Account settings');
  await page.waitForURL(/\/ui\/settings\?flow=/);
  await page.fill('form[data-group="password"] input[name="password"]', 'a brand new passphrase');
  await page.click('form[data-group="password"] button[name="method"][value="password"]');
  await page.waitForSelector('[data-message-id="1050001"]');
  await shot(page, 'settings');

  await signOut(page);
  await signIn(page, email, 'a brand new passphrase');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.textContent('[data-testid="identifier"]'), email);

  assert.deepEqual(violations, [], 'no resource was refused by the Content-Security-Policy');
  await context.close();
});

test('a user who forgot the password recovers the account with a mailed code', async () => {
  const { context, page, violations } = await phone();
  const email = `lost-${Date.now()}@example.org`;
  await page.goto(`${base}/ui/registration`);
  await page.fill('input[name="traits.email"]', email);
  await page.fill('input[name="password"]', 'correct horse battery');
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(/\/ui\/welcome$/);
  await signOut(page);

  await page.click('[data-testid="forgot"]');
  await page.waitForURL(/\/ui\/recovery\?flow=/);
  await shot(page, 'recovery');
  await page.fill('input[name="email"]', email);
  await page.click('button[name="method"][value="code"]');
  await page.waitForSelector('[data-message-id="1060003"]');
  await shot(page, 'recovery-code');
  await page.fill('input[name="code"]', await mailedCode(email, 'Recover access to your account'));
  // Enter submits the code, not the "resend" button that follows it.
  await page.press('input[name="code"]', 'Enter');
  await page.waitForURL(/\/ui\/settings\?flow=/);
  await page.waitForSelector('[data-message-id="1060001"]');
  await shot(page, 'settings-recovered');
  await page.fill('form[data-group="password"] input[name="password"]', 'a recovered passphrase');
  await page.click('form[data-group="password"] button[name="method"][value="password"]');
  await page.waitForSelector('[data-message-id="1050001"]');

  await signOut(page);
  await signIn(page, email, 'a recovered passphrase');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.textContent('[data-testid="identifier"]'), email);
  assert.deepEqual(violations, [], 'no resource was refused by the Content-Security-Policy');
  await context.close();
});

test('a new user verifies the address from the account page', async () => {
  const { context, page, violations } = await phone();
  const email = `verify-${Date.now()}@example.org`;
  await page.goto(`${base}/ui/registration`);
  await page.fill('input[name="traits.email"]', email);
  await page.fill('input[name="password"]', 'correct horse battery');
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.match(await page.textContent('[data-testid="unverified"]'), new RegExp(email));
  await page.click('[data-testid="unverified"] a');
  await page.waitForURL(/\/ui\/verification\?flow=/);
  await page.fill('input[name="email"]', email);
  await page.click('button[name="method"][value="code"]');
  await page.waitForSelector('[data-message-id="1080003"]');
  // The first mail came with the registration; this flow sent the second.
  await page.fill('input[name="code"]', await mailedCode(email, 'Please verify your email address', 2));
  await page.press('input[name="code"]', 'Enter');
  await page.waitForSelector('[data-message-id="1080002"]');
  await shot(page, 'verification');
  await page.getByRole('link', { name: 'Continue' }).click();
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.locator('[data-testid="unverified"]').count(), 0);
  assert.deepEqual(violations, [], 'no resource was refused by the Content-Security-Policy');
  await context.close();
});

test('a wrong password shows 4000006 next to the form, focused on nothing hidden', async () => {
  const { context, page } = await phone();
  await signIn(page, 'nobody@example.org', 'not the password');
  await page.waitForURL(/\/ui\/login\?flow=/);
  const message = page.locator('[data-message-id="4000006"]');
  await message.waitFor();
  assert.match(await message.textContent(), /credentials are invalid/);
  assert.equal(await page.inputValue('input[name="identifier"]'), 'nobody@example.org');
  await shot(page, 'login-refused');
  await context.close();
});

test('a form posted without its CSRF token is refused', async () => {
  const { context, page } = await phone();
  await page.goto(`${base}/ui/login`);
  await page.waitForURL(/\/ui\/login\?flow=/);
  await page.locator('input[name="csrf_token"]').evaluate((input) => input.remove());
  await page.fill('input[name="identifier"]', 'x@example.org');
  await page.fill('input[name="password"]', 'whatever it is');
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(/\/ui\/error\?id=/);
  assert.equal(await page.getAttribute('[data-error-id]', 'data-error-id'), 'security_csrf_violation');
  await shot(page, 'error');
  await context.close();
});

test('the login form works with the keyboard alone, down to 320 px', async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${base}/ui/login`);
  await page.waitForURL(/\/ui\/login\?flow=/);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'identifier');
  await page.keyboard.type('keys@example.org');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'password');
  await page.keyboard.type('not the password');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-message-id="4000006"]');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing sticks out sideways at 320 px');
  await shot(page, 'login-320');
  await context.close();
});

/** RFC 6238 (HMAC-SHA1, 30 s, 6 digits) for a Base32 secret, at `unixSeconds`. */
function totp(secret, unixSeconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[19] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('a user enrols an authenticator app and backup codes, and each code works once', async () => {
  const { context, page, violations } = await phone();
  const email = `mfa-${Date.now()}@example.org`;
  await page.goto(`${base}/ui/registration`);
  await page.fill('input[name="traits.email"]', email);
  await page.fill('input[name="password"]', 'correct horse battery');
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(/\/ui\/welcome$/);

  await page.click('text=Account settings');
  await page.waitForURL(/\/ui\/settings\?flow=/);
  const secret = (await page.textContent('[data-testid="totp_secret_key"]')).trim();
  await shot(page, 'settings-totp');
  // The previous step's code (inside the skew window) keeps the current step for the login.
  await page.fill('form[data-group="totp"] input[name="totp_code"]', totp(secret, Date.now() / 1000 - 30));
  await page.click('form[data-group="totp"] button[name="method"][value="totp"]');
  await page.waitForSelector('[data-message-id="1050001"]');
  await page.waitForSelector('button[name="totp_unlink"]');

  await page.click('form[data-group="lookup_secret"] button[name="lookup_secret_regenerate"]');
  await page.waitForSelector('[data-testid="lookup_secret_codes"] li');
  const codes = await page.locator('[data-testid="lookup_secret_codes"] li code').allTextContents();
  assert.equal(codes.length, 12);
  await shot(page, 'settings-backup-codes');
  await page.click('button[name="lookup_secret_confirm"]');
  await page.waitForSelector('button[name="lookup_secret_reveal"]');

  await signOut(page);
  await signIn(page, email, 'correct horse battery');
  await page.waitForSelector('input[name="totp_code"]');
  assert.match(page.url(), /\/ui\/login\?flow=/);
  await shot(page, 'login-second-factor');
  await page.fill('input[name="totp_code"]', totp(secret, Date.now() / 1000));
  await page.click('button[name="method"][value="totp"]');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.textContent('[data-testid="aal"]'), 'aal2');
  assert.match(await page.textContent('[data-testid="methods"]'), /totp \(aal2/);

  await signOut(page);
  await signIn(page, email, 'correct horse battery');
  await page.waitForSelector('input[name="lookup_secret"]');
  await page.fill('input[name="lookup_secret"]', codes[0]);
  await page.click('button[name="method"][value="lookup_secret"]');
  await page.waitForURL(/\/ui\/welcome$/);
  assert.equal(await page.textContent('[data-testid="aal"]'), 'aal2');

  await signOut(page);
  await signIn(page, email, 'correct horse battery');
  await page.waitForSelector('input[name="lookup_secret"]');
  await page.fill('input[name="lookup_secret"]', codes[0]);
  await page.click('button[name="method"][value="lookup_secret"]');
  const used = page.locator('[data-message-id="4000012"]');
  await used.waitFor();
  assert.match(await used.textContent(), /already been used/);
  await shot(page, 'login-backup-code-used');

  assert.deepEqual(violations, [], 'no resource was refused by the Content-Security-Policy');
  await context.close();
});
