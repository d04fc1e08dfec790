// End-to-end: build a click-through-rate pipeline with a deep step on the canvas in a real headless
// Chromium: read a parquet table, split, encode the features, train DeepFM with 2 workers, evaluate its
// test predictions, register the model; see a launcher setting's error inline, save, trigger, wait for
// success, read the AUC and see the training curve on the results page.
//
// Env: MLPLAT_URL (Airflow base URL), MLPLAT_TOKEN (a JWT of an Airflow user), MLPLAT_OUT
// (screenshots go here), CHROMIUM (default /usr/bin/chromium), MLPLAT_PIPELINE (the name),
// MLPLAT_TABLE (the parquet file the pipeline reads).
// Prints one JSON line {"state", "auc", "test_auc", "run_id", "inline_error", "ranking_entries", "curve_width",
// "deep_metrics", "registered", "reopened"} on success.
import { join } from "node:path";
import { connectEdges, log, placeNodes, saveTriggerAndWait, settings, type, withBrowser } from "./canvas.mjs";

const { base, token, out } = settings();
const name = process.env.MLPLAT_PIPELINE ?? "ctr_deepfm_canvas";
const table = process.env.MLPLAT_TABLE;
if (!table) throw new Error("MLPLAT_TABLE must be set");

// [catalogue entry, node id it gets, canvas x, y, {param: text}, {launcher setting: text}]
const NODES = [
  ["read_table", "read_table", 20, 20, { path: table, format: "parquet" }],
  ["random_split", "random_split", 20, 200, { ratio: "0.8", seed: "1" }],
  ["random_split", "random_split_2", 20, 380, { ratio: "0.5", seed: "2" }],
  ["ctr_feature_encoder", "ctr_feature_encoder", 240, 20, {
    categorical_cols: "item, c01, c02, c03, c04", numeric_cols: "n1", bucketize_cols: "n2", label_cols: "label", min_count: "2",
  }],
  ["predict", "predict", 240, 200, {}],
  ["predict", "predict_2", 240, 380, {}],
  ["ranking_model.deepfm", "deepfm", 470, 20,
    { embedding_dim: "8", hidden_units: "[32, 16]", batch_size: "256", epochs: "3", learning_rate: "0.01" },
    { workers: "0", cpu: "1", memory: "2Gi", timeout: "600" }],
  ["binary_classification_evaluation", "evaluation", 470, 330,
    { label_col: "label", probability_col: "p_label", prediction_col: "null", plot_bins: "20" }],
];
const EDGES = [
  ["read_table", "data", "random_split", "data"],
  ["random_split", "test", "random_split_2", "data"],
  ["random_split", "train", "ctr_feature_encoder", "data"],
  ["ctr_feature_encoder", "model", "predict", "model"],
  ["random_split_2", "train", "predict", "data"],
  ["ctr_feature_encoder", "model", "predict_2", "model"],
  ["random_split_2", "test", "predict_2", "data"],
  ["ctr_feature_encoder", "data", "deepfm", "train"],
  ["predict", "data", "deepfm", "validation"],
  ["ctr_feature_encoder", "model", "deepfm", "feature_map"],
  ["predict_2", "data", "deepfm", "test"],
  ["deepfm", "predictions", "evaluation", "data"],
];

await withBrowser({ base, token, out }, { width: 1500, height: 1000 }, async (page) => {
  await page.goto(`${base}/mlplat/`);
  const app = page.mainFrame();
  await app.waitForSelector("body[data-ready=true]", { timeout: 60000 });
  log("page loaded");

  // The category filter shows the ranking models, one entry per model.
  await app.selectOption("#category", "ranking models");
  const rankingEntries = await app.locator('#components li[data-component^="ranking_model."]').count();
  const others = await app.locator("#components li[data-component]:not([data-component^='ranking_model.'])").count();
  if (others) throw new Error(`the ranking models category lists ${others} other components`);
  await app.selectOption("#category", "");

  await placeNodes(app, page, NODES);
  await connectEdges(app, page, EDGES);

  // workers=0 is reported on the launcher's field, with the validator's (the CLI's) message.
  await app.locator('.node[data-node="deepfm"] header').click();
  const error = app.locator('#inspector [data-error="launcher.workers"]');
  await error.waitFor({ timeout: 10000 });
  const inlineError = (await error.textContent()).trim();
  log("inline error:", inlineError);
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(out, "editor-invalid.png"), fullPage: true });
  await type(app, page, '#inspector [data-launcher="workers"]', "2");

  await app.fill("#register", JSON.stringify({ name, model: "deepfm.model" }));
  await app.press("#register", "Tab");
  await app.fill("#pipeline-name", name);
  await app.press("#pipeline-name", "Tab");
  await app.waitForFunction(() => document.querySelector("#status").textContent.startsWith("valid"), null, { timeout: 10000 });
  const { state, runId } = await saveTriggerAndWait(app, page, out, { timeout: 540000, polling: 2000 });
  let auc = null;
  let testAuc = null;
  let curveWidth = 0;
  let deepMetrics = [];
  let registered = null;
  if (state === "success") {
    auc = Number(await app.locator('[data-metric="evaluation.auc_roc"] .value').textContent());
    testAuc = Number(await app.locator('[data-metric="deepfm.test_auc_label"] .value').textContent());
    const curve = app.locator('#results img[alt="deepfm: training_curve.png"]');
    await curve.waitFor({ timeout: 10000 });
    await app.waitForFunction((img) => img.complete, await curve.elementHandle(), { timeout: 10000 });
    curveWidth = await curve.evaluate((img) => img.naturalWidth);
    deepMetrics = await app.locator('#results [data-metric^="deepfm."]').evaluateAll((rows) => rows.map((r) => r.dataset.metric));
    registered = (await app.locator('[data-registered="deepfm"]').textContent()).trim();
  }
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, "results.png"), fullPage: true });
  if (curveWidth) {
    await app.locator('#results img[alt="deepfm: training_curve.png"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(out, "training-curve.png"), fullPage: true });
  }

  // Loading the saved pipeline shows the deep node's model, params and launcher settings again.
  await page.goto(`${base}/mlplat/?pipeline=${name}`);
  await app.waitForSelector('.node[data-node="deepfm"]', { timeout: 30000 });
  await app.locator('.node[data-node="deepfm"] header').click();
  const reopened = {
    kind: (await app.locator('.node[data-node="deepfm"] .kind').textContent()).trim(),
    hidden_units: await app.inputValue('#inspector [data-param="hidden_units"]'),
    workers: await app.inputValue('#inspector [data-launcher="workers"]'),
    memory: await app.inputValue('#inspector [data-launcher="memory"]'),
    register: await app.inputValue("#register"),
  };
  console.log(JSON.stringify({
    state, auc, test_auc: testAuc, run_id: runId, inline_error: inlineError, ranking_entries: rankingEntries,
    curve_width: curveWidth, deep_metrics: deepMetrics, registered, reopened,
  }));
});
