// Shared browser-test harness: Debian's chromium through playwright-core, the base URL from
// PHAROS_URL (or a dev stack started here), screenshots under tests/e2e/artifacts/ui/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../../..');
export const artifacts = process.env.PHAROS_UI_ARTIFACTS ?? path.join(repo, 'tests/e2e/artifacts/ui');

export async function setup() {
  let stack = null;
  let base = process.env.PHAROS_URL;
  if (!base) {
    const { startStack } = await import('./dev-stack.mjs');
    stack = await startStack();
    base = stack.url;
  }
  base = base.replace(/\/+$/, '');
  fs.mkdirSync(artifacts, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return {
    base,
    page,
    consoleErrors,
    async shot(name) {
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
    },
    async teardown() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
      if (stack) stack.stop();
    },
  };
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function eventually(fn, { timeoutMs = 60000, intervalMs = 1000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message ?? last}` : ''}`);
}
