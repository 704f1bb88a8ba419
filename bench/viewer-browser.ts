import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { summariseTimings, type TimingSummary } from './passport-bench';

/**
 * A rendered record page: Debian's chromium (driven by playwright-core, launched as
 * tests/browser/ launch it) loading GET /record/{id} as a signed-in session, to the load event
 * (the page, its stylesheet, script and images). The first load is cold (nothing cached); the
 * others reload the same page with the assets cached (the viewer serves them with max-age 1 h).
 * Times are the page's own Navigation Timing: from the start of the navigation.
 */
export interface BrowserLoad {
  readonly responseStartMs: number;
  readonly domContentLoadedMs: number;
  readonly loadMs: number;
}

export interface BrowserLoads {
  readonly executable: string;
  readonly version: string;
  readonly cold: BrowserLoad;
  readonly warm: { readonly responseStart: TimingSummary; readonly domContentLoaded: TimingSummary; readonly load: TimingSummary };
}

/** CHROMIUM_PATH, else `chromium` on the PATH; undefined when neither is there. */
export function findChromium(): string | undefined {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured) return existsSync(configured) ? configured : undefined;
  const which = spawnSync('which', ['chromium'], { encoding: 'utf8' });
  const path = which.status === 0 ? which.stdout.trim() : '';
  return path && existsSync(path) ? path : undefined;
}

export async function browserLoads(base: string, cookie: string, path: string, loads: number): Promise<BrowserLoads | { skipped: string }> {
  const executable = findChromium();
  if (!executable) {
    const skipped = 'skipped: chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)';
    console.log(`  note: the browser load of the record page was ${skipped}`);
    return { skipped };
  }
  const browser = await chromium.launch({ executablePath: executable, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  try {
    const context = await browser.newContext();
    const [name, ...value] = cookie.split('=');
    await context.addCookies([{ name: name ?? '', value: value.join('='), url: base }]);
    const page = await context.newPage();
    const results: BrowserLoad[] = [];
    for (let i = 0; i < Math.max(2, loads); i++) {
      const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
      if (response?.status() !== 200 || (await page.$('#encounters .cb-item')) === null) throw new Error(`viewer bench: chromium did not get the record page (${String(response?.status())})`);
      results.push(
        await page.evaluate<BrowserLoad>(
          `(() => { const nav = performance.getEntriesByType('navigation')[0]; return { responseStartMs: nav.responseStart, domContentLoadedMs: nav.domContentLoadedEventEnd, loadMs: nav.loadEventEnd || nav.loadEventStart }; })()`,
        ),
      );
    }
    const [cold, ...warm] = results as [BrowserLoad, ...BrowserLoad[]];
    return {
      executable,
      version: browser.version(),
      cold,
      warm: { responseStart: summariseTimings(warm.map((w) => w.responseStartMs)), domContentLoaded: summariseTimings(warm.map((w) => w.domContentLoadedMs)), load: summariseTimings(warm.map((w) => w.loadMs)) },
    };
  } finally {
    await browser.close();
  }
}
