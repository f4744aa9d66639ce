// The desk's first load on Chromium's "Slow 3G" (DevTools' and Puppeteer's preset:
// 400 kbit/s down and up, 2000 ms latency per request), as a phone (360 px,
// touch) opens it after signing in: every byte transferred, and when it first
// showed something. Used by examples/bench/desk.rs.
//
//   node desk_load.cjs SIGN-IN-LINK
// Prints JSON: {bytes, requests, responseStart, fcp, load, resources}.
const { chromium } = require("playwright-core");

const SLOW_3G = { offline: false, downloadThroughput: (500 * 1000) / 8 * 0.8, uploadThroughput: (500 * 1000) / 8 * 0.8, latency: 400 * 5 };

async function main() {
  const link = process.argv[2];
  const origin = new URL(link).origin;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // Sign in at full speed: the measured load is the desk's own.
    await page.goto(link, { waitUntil: "load" });
    await page.waitForURL(origin + "/", { timeout: 30000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.clearBrowserCache");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
    const bytes = new Map();
    const urls = new Map();
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.dataReceived", (e) => bytes.set(e.requestId, (bytes.get(e.requestId) || 0) + e.encodedDataLength));
    cdp.on("Network.loadingFinished", (e) => bytes.set(e.requestId, Math.max(bytes.get(e.requestId) || 0, e.encodedDataLength)));
    await page.goto(origin + "/", { waitUntil: "load", timeout: 120000 });
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      return {
        responseStart: nav.responseStart, responseEnd: nav.responseEnd, domInteractive: nav.domInteractive,
        domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: fcp ? fcp.startTime : null,
        entries: performance.getEntriesByType("resource").map((r) => [r.name.replace(location.origin, ""), Math.round(r.startTime), Math.round(r.responseStart), Math.round(r.responseEnd)]),
      };
    });
    // Let the event stream's first message arrive too: it is part of the first load.
    await page.waitForFunction(() => document.getElementById("live").dataset.state === "live", null, { timeout: 60000 });
    timing.live = await page.evaluate(() => performance.now());
    await page.waitForTimeout(500);
    const resources = [...bytes.entries()].map(([id, n]) => ({ url: (urls.get(id) || "").replace(origin, ""), bytes: n }));
    const total = resources.reduce((a, r) => a + r.bytes, 0);
    const fp = await page.evaluate(() => (performance.getEntriesByName("first-paint")[0] || {}).startTime);
    process.stdout.write(JSON.stringify({ bytes: total, requests: resources.length, latency: SLOW_3G.latency, ...timing, fp, resources }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
