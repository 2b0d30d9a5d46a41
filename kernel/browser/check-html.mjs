// Opens an exported notebook (HTML) in headless Chromium, as a reader would, and
// prints one JSON line: script errors, every image with its decoded size, and the
// paths of the screenshots taken (the whole page, and each image as rendered).
//
// node check-html.mjs <page.html> <screenshot-prefix>
import { launch } from './chromium.mjs';
import { pathToFileURL } from 'node:url';

const [, , html, prefix] = process.argv;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const scriptErrors = [];
const failedRequests = [];
page.on('pageerror', (e) => scriptErrors.push(String(e)));
page.on('requestfailed', (r) => failedRequests.push(r.url()));
await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
const images = await page.$$eval('img', (all) => all.map((img) => ({
  complete: img.complete,
  width: img.naturalWidth,
  height: img.naturalHeight,
})));
const shots = [`${prefix}-page.png`];
await page.screenshot({ path: shots[0], fullPage: true });
const handles = await page.$$('img');
for (let i = 0; i < handles.length; i++) {
  const path = `${prefix}-image${i}.png`;
  await handles[i].scrollIntoViewIfNeeded();
  await handles[i].screenshot({ path });
  shots.push(path);
}
console.log(JSON.stringify({ scriptErrors, failedRequests, images, screenshots: shots }));
await browser.close();
