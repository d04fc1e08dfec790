// End-to-end: build the purchase-intent pipeline on the canvas in a real headless Chromium,
// see an invalid value's error inline, save, trigger, wait for success, read the AUC and open the
// table previews of three nodes (the generated data, the cast table, both parts of the split).
//
// Env: MLPLAT_URL (Airflow base URL), MLPLAT_TOKEN (a JWT of an Airflow user), MLPLAT_OUT
// (screenshots go here), CHROMIUM (default /usr/bin/chromium), MLPLAT_PIPELINE (the name).
// Prints one JSON line {"auc", "state", "run_id", "inline_error", "plots", "previews"} on success.
import { join } from "node:path";
import { connectEdges, log, placeNodes, readPreview, saveTriggerAndWait, settings, withBrowser } from "./canvas.mjs";

const { base, token, out } = settings();
const name = process.env.MLPLAT_PIPELINE ?? "purchase_intent_canvas";

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

await withBrowser({ base, token, out }, { width: 1500, height: 900 }, async (page) => {
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

  await placeNodes(app, page, NODES);
  await connectEdges(app, page, EDGES);

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
  const { state, runId } = await saveTriggerAndWait(app, page, out, { timeout: 240000, polling: 1000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, "results.png"), fullPage: true });
  const auc = state === "success" ? Number(await app.locator('[data-metric="evaluation.auc_roc"] .value').textContent()) : null;
  const plots = await app.locator("#results img").count();
  const previews = {};
  if (state === "success") {
    previews.generated = await readPreview(app, "purchase_intent");
    previews.cast = await readPreview(app, "cast");
    previews.train = await readPreview(app, "random_split", "train");
    previews.test = await readPreview(app, "random_split", "test");
    await page.screenshot({ path: join(out, "preview.png"), fullPage: true });
    log("previews read");
  }
  console.log(JSON.stringify({ state, auc, run_id: runId, inline_error: inlineError, plots, previews }));
});
