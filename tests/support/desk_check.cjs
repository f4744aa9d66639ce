// Drives the live desk in Debian's chromium through playwright-core, as a
// delegate's phone would: a 360-px-wide touch screen. Every request to a host
// other than the desk is refused and recorded. Takes screenshots, runs
// axe-core on the sign-in page and the desk, and prints JSON of what it saw.
// Used by tests/desk_browser.rs.
//
//   node desk_check.cjs PLAN.json
//
// PLAN: { link, shots, point, pause, snippet, photo?, not_photo?, photo_point?,
// alt? } — the printed sign-in link, the folder for screenshots, the text to
// post, an account to pause and resume, a snippet's label, and (optionally) a
// photo to post with a point and its alt text, and a file that is no photo. NODE_PATH must hold playwright-core and axe-core
// (`scripts/peers playwright`).
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const { axe } = require("./axe.cjs");

const WAIT = 30000;

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const origin = new URL(plan.link).origin;
  const shot = (name) => path.join(plan.shots, name);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const out = { outside: [], errors: [], console: [], axe: {}, messages: {}, seen: {} };
  try {
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      ignoreHTTPSErrors: true,
      userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
    });
    context.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith("data:")) out.outside.push(u);
    });
    await context.route("**/*", (route) => {
      const u = route.request().url();
      return u.startsWith(origin) ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => out.errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") out.console.push(m.text()); });
    page.on("dialog", (d) => d.accept());

    // Sign in through the printed link.
    await page.goto(plan.link, { waitUntil: "load" });
    await page.waitForURL(origin + "/", { timeout: WAIT });
    await page.waitForSelector("#compose", { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("live").dataset.state === "live", null, { timeout: WAIT });
    out.seen.url_after_signin = page.url();
    out.seen.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, secure: c.secure }));
    out.seen.page_has_cookie_value = await (async () => {
      const html = await page.content();
      return (await context.cookies()).some((c) => c.value && html.includes(c.value));
    })();
    await page.screenshot({ path: shot("desk-1-signed-in.png") });
    out.axe.desk = await axe(page);

    // Type a point: each network's count against its limit, and where it splits.
    await page.locator("#text").tap();
    await page.locator("#text").fill(plan.point);
    const pattern = plan.count_pattern || "/ 300";
    await page.waitForFunction((p) => document.getElementById("counts").textContent.includes(p) && /[1-9]\d* \//.test(document.getElementById("counts").textContent), pattern, { timeout: WAIT });
    out.seen.counts = (await page.locator("#counts").innerText()).trim();
    await page.locator("#text").fill(plan.point + " " + "Long enough to split on every network. ".repeat(14));
    await page.waitForFunction(() => /splits into/.test(document.getElementById("counts").textContent), null, { timeout: WAIT });
    out.seen.counts_long = (await page.locator("#counts").innerText()).trim();
    await page.screenshot({ path: shot("desk-2-typing.png") });
    await page.locator("#text").fill(plan.point);
    await page.waitForFunction(() => !/splits into/.test(document.getElementById("counts").textContent), null, { timeout: WAIT });
    out.seen.thread = await page.locator("#thread").inputValue();

    // Post.
    await page.locator("#compose button[type=submit]").tap();
    await page.waitForFunction(() => /saying it now/.test(document.getElementById("status").textContent), null, { timeout: WAIT });
    out.messages.post = (await page.locator("#status").innerText()).trim();
    out.seen.text_after_post = await page.locator("#text").inputValue();
    // It shows among the session's posts once it went out on both networks, with its links.
    await page.waitForFunction((p) => {
      const items = [...document.querySelectorAll("#sessions .posts > li")].filter((li) => li.textContent.includes(p.point));
      return items.length === 1 && items[0].querySelectorAll("a.share").length === p.networks;
    }, { point: plan.point, networks: plan.networks || 2 }, { timeout: WAIT });
    out.seen.shares = await page.$$eval("#sessions .posts a.share", (as) => as.map((a) => a.getAttribute("href")));
    await page.locator("#sessions .posts").first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot("desk-3-posted.png") });

    // Shift the current session by +15 minutes.
    await page.locator('#sessions article:first-of-type button[data-action="shift"][data-by="900"]').tap();
    await page.waitForFunction(() => /moved \d+ pending jobs/.test(document.getElementById("status").textContent), null, { timeout: WAIT });
    out.messages.shift = (await page.locator("#status").innerText()).trim();
    await page.waitForFunction(() => /moved by \+15m/.test(document.getElementById("sessions").textContent), null, { timeout: WAIT });

    // Pause an account, see it paused, resume it.
    await page.locator(`button[data-action="pause"][data-account="${plan.pause}"]`).tap();
    await page.waitForFunction(() => /^\W*paused /.test(document.getElementById("status").textContent), null, { timeout: WAIT });
    out.messages.pause = (await page.locator("#status").innerText()).trim();
    await page.waitForSelector(`button[data-action="resume"][data-account="${plan.pause}"]`, { timeout: WAIT });
    out.seen.attention = (await page.locator("#attention").innerText()).trim();
    await page.locator("#attention").scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot("desk-4-paused.png") });
    out.axe.desk_paused = await axe(page);
    await page.locator(`button[data-action="resume"][data-account="${plan.pause}"]`).tap();
    await page.waitForFunction(() => /resumed /.test(document.getElementById("status").textContent), null, { timeout: WAIT });
    out.messages.resume = (await page.locator("#status").innerText()).trim();
    await page.waitForSelector(`button[data-action="pause"][data-account="${plan.pause}"]`, { timeout: WAIT });

    // A snippet, in one tap.
    await page.locator(`button[data-action="snippet"][data-label="${plan.snippet}"]`).tap();
    await page.waitForFunction(() => /saying it now/.test(document.getElementById("status").textContent), null, { timeout: WAIT });
    out.messages.snippet = (await page.locator("#status").innerText()).trim();
    await page.waitForTimeout(300);
    await page.screenshot({ path: shot("desk-5-snippet.png") });
    await page.screenshot({ path: shot("desk-5-full-page.png"), fullPage: true });

    // A point with a photo: a file that is no photo is refused as it is chosen; Post without
    // alt text is refused on the page; with it, the point goes out with its photo.
    if (plan.photo) {
      await page.locator("#text").tap();
      await page.locator("#text").fill(plan.photo_point);
      await page.locator("#photo").setInputFiles(plan.not_photo);
      await page.waitForFunction(() => /not an image/.test(document.getElementById("photo-status").textContent), null, { timeout: WAIT });
      out.seen.photo_refused = (await page.locator("#photo-status").innerText()).trim();
      out.seen.photo_refused_invalid = await page.locator("#photo").getAttribute("aria-invalid");
      await page.locator("#photo").setInputFiles(plan.photo);
      await page.waitForFunction(() => /photo ready/.test(document.getElementById("photo-status").textContent), null, { timeout: WAIT });
      out.seen.photo_ready = (await page.locator("#photo-status").innerText()).trim();
      out.seen.alt_label = (await page.locator('label[for="alt"]').innerText()).trim();
      await page.locator("#compose button[type=submit]").tap();
      await page.waitForFunction(() => /Describe the photo first/.test(document.getElementById("status").textContent), null, { timeout: WAIT });
      out.messages.photo_no_alt = (await page.locator("#status").innerText()).trim();
      out.seen.alt_focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
      await page.locator("#alt").fill(plan.alt);
      // Described: the refusal no longer stands on the page.
      out.seen.refusal_after_alt = (await page.locator("#status").innerText()).trim();
      await page.locator("#photo-parts").scrollIntoViewIfNeeded();
      await page.screenshot({ path: shot("desk-8-photo.png") });
      out.axe.desk_photo = await axe(page);
      await page.locator("#compose button[type=submit]").tap();
      await page.waitForFunction(() => /saying it now/.test(document.getElementById("status").textContent), null, { timeout: WAIT });
      out.messages.photo_post = (await page.locator("#status").innerText()).trim();
      out.seen.photo_after_post = await page.evaluate(() => ({
        hidden: document.getElementById("photo-parts").hidden,
        files: document.getElementById("photo").files.length,
        alt: document.getElementById("alt").value,
      }));
    }

    // 200 % zoom on the same phone: half the CSS width (a page opened anew, signed in);
    // nothing may need sideways scrolling.
    const state = await context.storageState();
    const zoomed = await browser.newContext({ viewport: { width: 180, height: 370 }, deviceScaleFactor: 4, isMobile: true, hasTouch: true, ignoreHTTPSErrors: true, storageState: state });
    await zoomed.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    const z = await zoomed.newPage();
    await z.goto(origin + "/", { waitUntil: "load" });
    await z.waitForSelector("#compose", { timeout: WAIT });
    // With the photo's alt text field open too.
    await z.evaluate(() => { document.getElementById("photo-parts").hidden = false; });
    out.seen.zoom = await z.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    await z.screenshot({ path: shot("desk-6-zoom-200.png") });
    await zoomed.close();
    // A laptop.
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.waitForTimeout(200);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: shot("desk-7-laptop.png") });

    // The sign-in page, as a fresh browser sees it, is held to the same.
    const other = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, ignoreHTTPSErrors: true });
    await other.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    const fresh = await other.newPage();
    await fresh.goto(origin + "/", { waitUntil: "load" });
    out.seen.fresh_url = fresh.url();
    await fresh.screenshot({ path: shot("desk-0-signin.png") });
    out.axe.signin = await axe(fresh);
    await other.close();
  } catch (e) {
    out.failed = String(e && e.stack ? e.stack : e);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
