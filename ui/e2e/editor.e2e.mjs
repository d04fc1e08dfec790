// End-to-end: build the purchase-intent pipeline on the canvas in a real headless Chromium,
// see an invalid value's error inline, save, trigger, wait for success and read the AUC.
//
// Env: MLPLAT_URL (Airflow base URL), MLPLAT_TOKEN (a JWT of an Airflow user), MLPLAT_OUT
// (screenshots go here), CHROMIUM (default /usr/bin/chromium), MLPLAT_PIPELINE (the name).
// Prints one JSON line {"auc": ..., "state": ..., "run_id": ..., "inline_error": ...} on success.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.MLPLAT_URL;
const token = process.env.MLPLAT_TOKEN;
const out = process.env.MLPLAT_OUT ?? "test-output";
const name = process.env.MLPLAT_PIPELINE ?? "purchase_intent_canvas";
if (!base || !token) throw new Error("MLPLAT_URL and MLPLAT_TOKEN must be set");
mkdirSync(out, { recursive: true });

const FEATURES = "duration, freqs_rank, page_views, visit_days, compare_clicks, dealer_calls, price_views, image_views";
// [component, node id it gets, canvas x, y, {param: text typed into its field}]
const NODES = [
  ["synthetic_purchase_intent", "purchase_intent", 20, 20, { rows: "4000", partitions: "2" }],
  ["cast_columns", "cast", 20, 190, { columns: FEATURES, to_type: "double" }],
  ["fill_missing", "fill", 20, 360, { columns: FEATURES, strategy: "constant", value: "0" }],
  ["vector_assembler", "vector_assembler", 260, 20, { input_cols: FEATURES }],
  ["random_split", "random_split", 260, 190, { ratio: "0.85" }],
  ["gbdt_classifier", "gbdt", 500, 20, { max_iter: "0", max_depth: "3" }],
  ["predict", "predict", 500, 190, {}],
  ["binary_classification_evaluation", "evaluation", 500, 360, { plot_bins: "20" }],
];
const EDGES = [
  ["purchase_intent", "data", "cast", "data"],
  ["cast", "data", "fill", "data"],
  ["fill", "data", "vector_assembler", "data"],
  ["vector_assembler", "data", "random_split", "data"],
  ["random_split", "train", "gbdt", "data"],
  ["gbdt", "model", "predict", "model"],
  ["random_split", "test", "predict", "data"],
  ["predict", "data", "evaluation", "data"],
];

// A new, empty profile; the background-networking switches keep Chromium off the (closed) network.
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "mlplat-chromium-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1500, height: 900 },
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const log = (...args) => console.error("[e2e]", ...args);
try {
  await context.addCookies([{ name: "_token", value: token, url: base }]);
  const page = await context.newPage();
  page.on("pageerror", (e) => log("page error:", e.message));
  await page.goto(`${base}/mlplat/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  log("page loaded");

  const canvas = await page.locator("#canvas").boundingBox();
  for (const [component, id, x, y, params] of NODES) {
    await page.fill("#search", component);
    const item = page.locator(`#components li[data-component="${component}"]`);
    await item.scrollIntoViewIfNeeded();
    const from = await item.boundingBox();
    await page.mouse.move(from.x + 20, from.y + 10);
    await page.mouse.down();
    await page.mouse.move(canvas.x + x + 40, canvas.y + y + 20, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector(`.node[data-node="${id}"]`);
    for (const [param, text] of Object.entries(params)) {
      const input = page.locator(`#inspector [data-param="${param}"]`);
      if ((await input.evaluate((e) => e.tagName)) === "SELECT") await input.selectOption(text);
      else {
        await input.fill(text);
        await input.press("Tab");
      }
      await page.waitForTimeout(350); // the validation round trip re-renders the form
    }
  }
  log("nodes placed");

  for (const [src, out, dst, input] of EDGES) {
    const a = await page.locator(`.port.out[data-node="${src}"][data-out="${out}"]`).boundingBox();
    const b = await page.locator(`.port.in[data-node="${dst}"][data-in="${input}"]`).boundingBox();
    await page.mouse.move(a.x + a.width - 3, a.y + 8);
    await page.mouse.down();
    await page.mouse.move(b.x + 4, b.y + 8, { steps: 10 });
    await page.mouse.up();
  }
  await page.waitForTimeout(600);
  const edges = await page.locator("#edges path.edge").count();
  if (edges !== EDGES.length) throw new Error(`expected ${EDGES.length} edges on the canvas, found ${edges}`);
  log("edges connected");

  // The invalid max_iter=0 is reported on its field, with the validator's (the CLI's) message.
  await page.locator('.node[data-node="gbdt"] header').click();
  const error = page.locator('#inspector [data-error="params.max_iter"]');
  await error.waitFor({ timeout: 10000 });
  const inlineError = (await error.textContent()).trim();
  log("inline error:", inlineError);
  await page.screenshot({ path: join(out, "editor-invalid.png"), fullPage: true });
  await page.fill('#inspector [data-param="max_iter"]', "15");
  await page.press('#inspector [data-param="max_iter"]', "Tab");
  await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("valid"), null, { timeout: 10000 });

  await page.fill("#pipeline-name", name);
  await page.press("#pipeline-name", "Tab");
  await page.click("#save");
  await page.waitForFunction(() => /is ready/.test(document.querySelector("#status").textContent), null, { timeout: 120000 });
  log("saved; DAG ready");
  await page.screenshot({ path: join(out, "editor.png"), fullPage: true });

  await page.click("#trigger");
  await page.click("#trigger-run");
  await page.waitForSelector("#run-state", { timeout: 30000 });
  log("triggered");
  await page.waitForFunction(
    () => ["success", "failed"].includes(document.querySelector("#run-state")?.textContent),
    null,
    { timeout: 240000, polling: 1000 },
  );
  const state = await page.locator("#run-state").textContent();
  const runId = await page.locator("#run-id").textContent();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, "results.png"), fullPage: true });
  const auc = state === "success" ? Number(await page.locator('[data-metric="evaluation.auc_roc"] .value').textContent()) : null;
  const plots = await page.locator("#results img").count();
  console.log(JSON.stringify({ state, auc, run_id: runId, inline_error: inlineError, plots }));
} catch (error) {
  for (const page of context.pages()) await page.screenshot({ path: join(out, "failure.png"), fullPage: true });
  throw error;
} finally {
  await context.close();
}
