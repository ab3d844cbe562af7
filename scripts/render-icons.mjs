// Renders the app's PNG icons from their SVG sources, once; the PNGs are committed.
//
//   node scripts/render-icons.mjs        (needs tests/e2e's npm packages and /usr/bin/chromium)
//
// public/icons/outpost.svg          -> outpost-192.png, outpost-512.png  (purpose "any": rounded,
//                                      transparent corners)
// public/icons/outpost-maskable.svg -> outpost-maskable-512.png          (purpose "maskable":
//                                      full-bleed background, tower inside the 40% safe zone)
//
// Headless Chromium draws each SVG at exactly the target size (device scale 1) and screenshots
// the viewport with a transparent background, so the PNG's size and alpha are exact.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../tests/e2e/node_modules/playwright-core/index.mjs';

const icons = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const renders = [
  { svg: 'outpost.svg', png: 'outpost-192.png', size: 192 },
  { svg: 'outpost.svg', png: 'outpost-512.png', size: 512 },
  { svg: 'outpost-maskable.svg', png: 'outpost-maskable-512.png', size: 512 },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
try {
  for (const { svg, png, size } of renders) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const source = (await readFile(join(icons, svg))).toString('base64');
    await page.setContent(
      `<!DOCTYPE html><html><body style="margin:0;background:transparent">` +
        `<img src="data:image/svg+xml;base64,${source}" width="${size}" height="${size}" style="display:block">` +
        `</body></html>`,
    );
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: join(icons, png), omitBackground: true });
    await page.close();
    console.log(`${png}: ${size}×${size} from ${svg}`);
  }
} finally {
  await browser.close();
}
