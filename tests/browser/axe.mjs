// Loads pages of the running portal in Debian's headless Chromium, runs axe-core on
// each with the WCAG 2.1 A and AA rules, and saves screenshots of the main pages.
//
// Usage: node axe.mjs BASE_URL PAGES_JSON ARTEFACTS_DIR
//   PAGES_JSON: [{"path": "/", "selector": "main h1", "status": 200, "screenshot": "home", "axe": true}, ...]
//   ("axe": false only loads the page: developer tools such as GraphiQL)
//   ("submit": true loads the page with status 200, then sends its form as it is, and
//   checks `status`, `selector` and axe on the page that answers: a form's errors)
//   (`screenshot` may be null). The browser is /usr/bin/chromium unless CHROMIUM says
//   otherwise. Exits 1 when a page fails to load, lacks its selector, asks another host
//   for anything, or has any axe violation; every problem is printed first.

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const [baseUrl, pagesJson, artefacts] = process.argv.slice(2);
if (!baseUrl || !pagesJson || !artefacts) {
  console.error("usage: node axe.mjs BASE_URL PAGES_JSON ARTEFACTS_DIR");
  process.exit(2);
}
const pages = JSON.parse(pagesJson);
mkdirSync(artefacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
// The portal's content security policy forbids every script, axe's included: the
// browser is told to let the injected checker run, nothing else changes.
const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
const problems = [];
for (const wanted of pages) {
  const page = await context.newPage();
  const foreign = [];
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(baseUrl) && !url.startsWith("data:")) foreign.push(url);
  });
  let response = await page.goto(baseUrl + wanted.path, { waitUntil: "load" });
  if (wanted.submit) {
    const loaded = response ? response.status() : 0;
    if (loaded !== 200) problems.push(`${wanted.path}: status ${loaded} before sending its form`);
    [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: "load" }),
      page.locator("main form button[type=submit]").click(),
    ]);
  }
  const status = response ? response.status() : 0;
  if (status !== wanted.status) {
    problems.push(`${wanted.path}: status ${status}, expected ${wanted.status}`);
  }
  if ((await page.locator(wanted.selector).count()) === 0) {
    problems.push(`${wanted.path}: nothing matches ${wanted.selector}`);
  }
  let summary = "loaded (a developer tool: axe not applied)";
  if (wanted.axe) {
    await page.evaluate(axeSource);
    const results = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
      WCAG_21_AA,
    );
    for (const violation of results.violations) {
      const targets = violation.nodes.map((node) => node.target.join(" ")).join(", ");
      problems.push(`${wanted.path}: ${violation.id} (${violation.impact}) ${violation.help}: ${targets}`);
    }
    summary = `${results.passes.length} rules passed, ${results.violations.length} violated`;
  }
  for (const url of foreign) problems.push(`${wanted.path}: asked another host for ${url}`);
  if (wanted.screenshot) {
    await page.screenshot({ path: path.join(artefacts, `${wanted.screenshot}.png`), fullPage: true });
  }
  console.log(`${wanted.path}: ${summary}`);
  await page.close();
}
await browser.close();
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(`axe: ${pages.filter((wanted) => wanted.axe).length} pages, no violation`);
