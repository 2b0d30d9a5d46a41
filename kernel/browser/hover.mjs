// Hovers the mouse over maps of a page and reads what each map's read-out line
// says. Prints one JSON line: the read-outs in the order asked, whether any script
// of the page set `window.hijacked`, and uncaught script errors.
//
// node hover.mjs <page.html> <points.json>   (points: [{"map": k, "x": px, "y": py}])
import { launch } from './chromium.mjs';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [, , html, pointsFile] = process.argv;
const points = JSON.parse(readFileSync(pointsFile, 'utf8'));
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const scriptErrors = [];
const requests = [];
page.on('pageerror', (e) => scriptErrors.push(String(e)));
page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
const maps = page.locator('div.geoxr-map');
const readouts = [];
for (const p of points) {
  const map = maps.nth(p.map);
  const img = map.locator('img');
  await img.scrollIntoViewIfNeeded();
  const box = await img.boundingBox();
  const natural = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  // Inside image pixel (x, y), whatever size the page shows the image at (a
  // quarter pixel in, so that rounding to whole CSS pixels stays in it).
  await page.mouse.move(box.x + (p.x + 0.25) * box.width / natural[0],
    box.y + (p.y + 0.25) * box.height / natural[1]);
  readouts.push(await map.locator('.geoxr-readout').textContent());
}
const hijacked = await page.evaluate(() => window.hijacked !== undefined);
console.log(JSON.stringify({ readouts, hijacked, scriptErrors, requests }));
await browser.close();
