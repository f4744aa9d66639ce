// Opens a report page in Debian's chromium through playwright-core, with every
// request other than the page's own file refused and recorded; takes a
// full-page screenshot; runs axe-core; prints JSON: the requests tried, each
// chart's size and drawn elements, each thumbnail's alt text, source scheme and
// decoded size, and axe-core's violations. Used by tests/report.rs.
//
//   node html_check.cjs REPORT.html SCREENSHOT.png
// NODE_PATH must hold the node_modules with playwright-core
// (`scripts/peers playwright`).
const { chromium } = require("playwright-core");
const { axe } = require("./axe.cjs");

async function main() {
  const [file, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const requests = [];
    context.on("request", (r) => {
      if (!r.url().startsWith("file:")) requests.push(r.url());
    });
    await context.route("**/*", (route) =>
      route.request().url().startsWith("file:") ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto("file://" + file, { waitUntil: "load" });
    await page.screenshot({ path: shot, fullPage: true });
    // What a reader sees first, without scrolling (the README shows it).
    await page.screenshot({ path: shot.replace(/\.png$/, "-top.png") });
    const charts = await page.$$eval("svg.chart", (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        const sized = (sel) =>
          [...e.querySelectorAll(sel)].filter((x) => {
            const b = x.getBoundingClientRect();
            return b.width > 0 && b.height > 0;
          }).length;
        return {
          id: e.id,
          width: r.width,
          height: r.height,
          series: sized("path.series"),
          bars: sized("rect.bar"),
          dots: sized("circle"),
        };
      }),
    );
    const thumbs = await page.$$eval("img.thumb", (els) =>
      els.map((e) => ({
        alt: e.alt,
        src: e.src.slice(0, 32),
        natural: [e.naturalWidth, e.naturalHeight],
        complete: e.complete,
      })),
    );
    const title = await page.title();
    const violations = await axe(page);
    process.stdout.write(JSON.stringify({ title, requests, errors, charts, thumbs, axe: violations }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
