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
  // The page as users reach it: the "Visual modelling" entry of the Airflow UI's navigation,
  // which shows the plugin's page (/mlplat/) in a frame.
  await page.goto(`${base}/plugin/mlplat`);
  await page.waitForFunction(() => [...document.querySelectorAll("iframe")].some((f) => f.src.endsWith("/mlplat/")), null, { timeout: 60000 });
  let app;
  for (let i = 0; i < 120 && !app; i++) {
    app = page.frames().find((f) => f !== page.mainFrame() && f.url() === `${base}/mlplat/`);
    if (!app) await page.waitForTimeout(250);
  }
  if (!app) throw new Error("the Airflow UI did not open the plugin page /mlplat/ in a frame");
  await app.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  log("page loaded in the Airflow UI");

  const canvas = await app.locator("#canvas").boundingBox();
  for (const [component, id, x, y, params] of NODES) {
    await app.fill("#search", component);
    const item = app.locator(`#components li[data-component="${component}"]`);
    await item.scrollIntoViewIfNeeded();
    const from = await item.boundingBox();
    await page.mouse.move(from.x + 20, from.y + 10);
    await page.mouse.down();
    await page.mouse.move(canvas.x + x + 40, canvas.y + y + 20, { steps: 8 });
    await page.mouse.up();
    await app.waitForSelector(`.node[data-node="${id}"]`);
    for (const [param, text] of Object.entries(params)) {
      const input = app.locator(`#inspector [data-param="${param}"]`);
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
    const edge = `#edges path.edge[data-edge="${src}.${out}->${dst}.${input}"]`;
    // The canvas re-renders after each validation round trip: a port measured just before it is
    // replaced has no box, and a drag on a busy machine can be lost; measure and drag again.
    for (let attempt = 0; attempt < 5 && !(await app.locator(edge).count()); attempt++) {
      const a = await app.locator(`.port.out[data-node="${src}"][data-out="${out}"]`).boundingBox();
      const b = await app.locator(`.port.in[data-node="${dst}"][data-in="${input}"]`).boundingBox();
      if (!a || !b) {
        await page.waitForTimeout(300);
        continue;
      }
      await page.mouse.move(a.x + a.width - 3, a.y + 8);
      await page.mouse.down();
      await page.mouse.move(b.x + 4, b.y + 8, { steps: 10 });
      await page.mouse.up();
      await app.waitForSelector(edge, { timeout: 3000 }).catch(() => log(`edge ${src}.${out} -> ${dst}.${input} not drawn yet`));
    }
  }
  await page.waitForTimeout(600);
  const edges = await app.locator("#edges path.edge").count();
  if (edges !== EDGES.length) throw new Error(`expected ${EDGES.length} edges on the canvas, found ${edges}`);
  log("edges connected");

  // The invalid max_iter=0 is reported on its field, with the validator's (the CLI's) message.
  await app.locator('.node[data-node="gbdt"] header').click();
  const error = app.locator('#inspector [data-error="params.max_iter"]');
  await error.waitFor({ timeout: 10000 });
  const inlineError = (await error.textContent()).trim();
  log("inline error:", inlineError);
  await page.screenshot({ path: join(out, "editor-invalid.png"), fullPage: true });
  await app.fill('#inspector [data-param="max_iter"]', "15");
  await app.press('#inspector [data-param="max_iter"]', "Tab");
  await app.waitForFunction(() => document.querySelector("#status").textContent.startsWith("valid"), null, { timeout: 10000 });

  await app.fill("#pipeline-name", name);
  await app.press("#pipeline-name", "Tab");
  await app.click("#save");
  await app.waitForFunction(() => /is ready/.test(document.querySelector("#status").textContent), null, { timeout: 120000 });
  log("saved; DAG ready");
  await page.screenshot({ path: join(out, "editor.png"), fullPage: true });

  await app.click("#trigger");
  await app.click("#trigger-run");
  await app.waitForSelector("#run-state", { timeout: 30000 });
  log("triggered");
  await app.waitForFunction(
    () => ["success", "failed"].includes(document.querySelector("#run-state")?.textContent),
    null,
    { timeout: 240000, polling: 1000 },
  );
  const state = await app.locator("#run-state").textContent();
  const runId = await app.locator("#run-id").textContent();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, "results.png"), fullPage: true });
  const auc = state === "success" ? Number(await app.locator('[data-metric="evaluation.auc_roc"] .value').textContent()) : null;
  const plots = await app.locator("#results img").count();
  console.log(JSON.stringify({ state, auc, run_id: runId, inline_error: inlineError, plots }));
} catch (error) {
  for (const page of context.pages()) await page.screenshot({ path: join(out, "failure.png"), fullPage: true });
  throw error;
} finally {
  await context.close();
}
