// Runs axe-core (from npm, beside playwright-core) on a page and returns its
// violations, WCAG 2.0/2.1/2.2 A and AA and best practices, as
// [{id, impact, help, nodes: [html…]}]. The script is evaluated through the
// browser's debugging protocol, so the page's own Content-Security-Policy
// stays in force while it runs.
const fs = require("fs");

const source = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

async function axe(page) {
  await page.evaluate(source);
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"],
    }),
  );
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.html),
  }));
}

module.exports = { axe };
