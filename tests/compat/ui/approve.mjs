// Approves a device login in headless Chromium, as a person would: opens the login URL a
// client printed, signs in through Clavis' own pages, checks what the approval page shows and
// presses Approve. Used by the nc_py_api suite.
// Usage: node approve.mjs <login url> <identifier> <password> <expected client name>
// Prints the facts the page showed as JSON; exits non-zero when anything is missing.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [loginUrl, identifier, password, client] = process.argv.slice(2);
const shots = join(resolve(import.meta.dirname, '../../..'), 'target', 'ui-screenshots');
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(loginUrl);
  await page.waitForURL(/\/ui\/login\?flow=/);
  await page.fill('input[name="identifier"]', identifier);
  await page.fill('input[name="password"]', password);
  await page.click('button[name="method"][value="password"]');
  await page.waitForURL(loginUrl);
  await page.locator('[data-testid="device-unverified"]').waitFor();
  const facts = {
    client: await page.textContent('[data-testid="device-client"]'),
    account: await page.textContent('[data-testid="device-identity"]'),
    sameAddress: await page.locator('[data-testid="device-ip-same"]').count() === 1,
    warning: await page.textContent('[data-testid="device-warning"]'),
  };
  assert.equal(facts.client, client);
  assert.equal(facts.account, identifier);
  await page.screenshot({ path: join(shots, 'device-approval.png'), fullPage: true });
  await page.click('[data-testid="device-approve"]');
  await page.locator('[data-testid="device-approved"]').waitFor();
  await page.screenshot({ path: join(shots, 'device-approved.png'), fullPage: true });
  const cookies = await context.cookies();
  facts.sessionKept = cookies.some((c) => c.name === 'clavis_session' && c.value !== '');
  console.log(JSON.stringify(facts));
} finally {
  await browser.close();
}
