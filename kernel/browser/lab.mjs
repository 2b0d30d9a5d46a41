// Uses a running JupyterLab as a person would: opens a notebook, waits for its
// kernel, runs cells 0..=<last> from the top with Shift+Enter until the first map
// has been shown, and prints one JSON line: the rendered text of the Dataset's
// HTML output, the map's natural size, stderr outputs, page script errors and the
// screenshots taken. On a failure it prints {"failure": "...", "screenshots": [...]}
// with a screenshot of the page as it was.
//
// node lab.mjs <base-url> <token> <notebook.ipynb> <last-cell-index> <screenshot-prefix>
import { launch } from './chromium.mjs';

const [, , base, token, notebook, lastArg, prefix] = process.argv;
const last = Number(lastArg);
const MINUTE = 60_000;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const scriptErrors = [];
page.on('pageerror', (e) => scriptErrors.push(String(e)));
const screenshots = [];
const shoot = async (name, target = page) => {
  const path = `${prefix}-${name}.png`;
  await target.screenshot({ path });
  screenshots.push(path);
};

try {
  // A workspace of its own, reset, so the user's open tabs are neither shown nor changed.
  const url = `${base}/lab/workspaces/geoxr-e2e/tree/${encodeURIComponent(notebook)}`
    + `?reset&token=${encodeURIComponent(token)}`;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 2 * MINUTE });
  const cells = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  await cells.first().waitFor({ timeout: 2 * MINUTE });
  // The kernel must be up before the first Shift+Enter (a warm start is ~15 s):
  // ask the server, which knows its kernels' states.
  const until = Date.now() + 10 * MINUTE;
  for (;;) {
    const reply = await fetch(`${base}/api/kernels`, { headers: { Authorization: `token ${token}` } });
    const kernels = reply.ok ? await reply.json() : [];
    if (kernels.some((k) => k.execution_state === 'idle')) break;
    if (Date.now() > until) throw new Error(`no idle kernel after 10 minutes: ${JSON.stringify(kernels)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // Select the first cell in command mode, then run cell after cell.
  await cells.first().locator('.jp-InputPrompt').first().click();
  await page.keyboard.press('Escape');
  for (let i = 0; i <= last; i++) {
    await page.keyboard.press('Shift+Enter');
    await page.waitForTimeout(150);
  }
  const map = page.locator('.jp-OutputArea-output img').first();
  await map.waitFor({ timeout: 10 * MINUTE });
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0,
    await map.elementHandle(), { timeout: MINUTE });
  const dataset = page.locator('.jp-OutputArea-output.jp-RenderedHTMLCommon',
    { hasText: 'geoxr.Dataset' }).first();
  await dataset.waitFor({ timeout: MINUTE });
  const datasetText = await dataset.innerText();
  const stderr = await page.locator(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allInnerTexts();
  const size = await map.evaluate((img) => ({ width: img.naturalWidth, height: img.naturalHeight }));
  await dataset.scrollIntoViewIfNeeded();
  await shoot('dataset', dataset);
  await map.scrollIntoViewIfNeeded();
  await shoot('map', map);
  await shoot('page');
  console.log(JSON.stringify({
    dataset: datasetText, map: size, stderr, scriptErrors, screenshots,
  }));
} catch (e) {
  try { await shoot('failure'); } catch { /* the page is gone */ }
  console.log(JSON.stringify({ failure: String(e), scriptErrors, screenshots }));
} finally {
  await browser.close();
}
