// What both browser tests do on the page: start Chromium, place nodes, draw edges, type into a form,
// save, trigger and wait for the run's end. Each test script keeps its own pipeline and checks.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const log = (...args) => console.error("[e2e]", ...args);

// MLPLAT_URL (Airflow base URL), MLPLAT_TOKEN (a JWT of an Airflow user), MLPLAT_OUT (screenshots).
export function settings() {
  const base = process.env.MLPLAT_URL;
  const token = process.env.MLPLAT_TOKEN;
  const out = process.env.MLPLAT_OUT ?? "test-output";
  if (!base || !token) throw new Error("MLPLAT_URL and MLPLAT_TOKEN must be set");
  mkdirSync(out, { recursive: true });
  return { base, token, out };
}

// A new, empty profile; the background-networking switches keep Chromium off the (closed) network.
// Runs body(page) with the user's token cookie set; on failure every page is screenshot to failure.png.
export async function withBrowser({ base, token, out }, viewport, body) {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "mlplat-chromium-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    await context.addCookies([{ name: "_token", value: token, url: base }]);
    const page = await context.newPage();
    page.on("pageerror", (e) => log("page error:", e.message));
    await body(page);
  } catch (error) {
    for (const page of context.pages()) await page.screenshot({ path: join(out, "failure.png"), fullPage: true });
    throw error;
  } finally {
    await context.close();
  }
}

export async function type(app, page, selector, text) {
  const input = app.locator(selector);
  if ((await input.evaluate((e) => e.tagName)) === "SELECT") await input.selectOption(text);
  else {
    await input.fill(text);
    await input.press("Tab");
  }
  await page.waitForTimeout(350); // the validation round trip re-renders the form
}

// nodes: [catalogue entry, node id it gets, canvas x, y, {param: text}, {launcher setting: text}?]
export async function placeNodes(app, page, nodes) {
  const canvas = await app.locator("#canvas").boundingBox();
  for (const [entry, id, x, y, params, launcher = {}] of nodes) {
    await app.fill("#search", entry.replace(/^ranking_model\./, ""));
    const item = app.locator(`#components li[data-component="${entry}"]`);
    await item.scrollIntoViewIfNeeded();
    const from = await item.boundingBox();
    await page.mouse.move(from.x + 20, from.y + 10);
    await page.mouse.down();
    await page.mouse.move(canvas.x + x + 40, canvas.y + y + 20, { steps: 8 });
    await page.mouse.up();
    await app.waitForSelector(`.node[data-node="${id}"]`);
    for (const [param, text] of Object.entries(params)) await type(app, page, `#inspector [data-param="${param}"]`, text);
    for (const [setting, text] of Object.entries(launcher)) await type(app, page, `#inspector [data-launcher="${setting}"]`, text);
  }
  log("nodes placed");
}

// edges: [source node, its output, target node, its input]
export async function connectEdges(app, page, edges) {
  for (const [src, port, dst, input] of edges) {
    const edge = `#edges path.edge[data-edge="${src}.${port}->${dst}.${input}"]`;
    // The canvas re-renders after each validation round trip: a port measured just before it is
    // replaced has no box, and a drag on a busy machine can be lost; measure and drag again.
    for (let attempt = 0; attempt < 5 && !(await app.locator(edge).count()); attempt++) {
      const a = await app.locator(`.port.out[data-node="${src}"][data-out="${port}"]`).boundingBox();
      const b = await app.locator(`.port.in[data-node="${dst}"][data-in="${input}"]`).boundingBox();
      if (!a || !b) {
        await page.waitForTimeout(300);
        continue;
      }
      await page.mouse.move(a.x + a.width - 3, a.y + 8);
      await page.mouse.down();
      await page.mouse.move(b.x + 4, b.y + 8, { steps: 10 });
      await page.mouse.up();
      await app.waitForSelector(edge, { timeout: 3000 }).catch(() => log(`edge ${src}.${port} -> ${dst}.${input} not drawn yet`));
    }
  }
  await page.waitForTimeout(600);
  const drawn = await app.locator("#edges path.edge").count();
  if (drawn !== edges.length) throw new Error(`expected ${edges.length} edges on the canvas, found ${drawn}`);
  log("edges connected");
}

// Save (the DAG file), screenshot editor.png, trigger, and wait until the run succeeded or failed.
export async function saveTriggerAndWait(app, page, out, { timeout, polling }) {
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
    { timeout, polling },
  );
  const state = await app.locator("#run-state").textContent();
  const runId = await app.locator("#run-id").textContent();
  log("run", runId, state);
  return { state, runId };
}

// After a run: click node NODE_ID on the canvas (marked as having a preview) and read the table preview
// the panel shows: {node, port, rows_total, rows_shown, profile: {column: {type, missing, distinct, min,
// max, mean (as shown), bars: [histogram counts]}}}. PORT picks one of the node's table outputs.
export async function readPreview(app, nodeId, port) {
  await app.locator(`.node.has-preview[data-node="${nodeId}"] header`).click();
  await app.waitForSelector(`#preview[data-node="${nodeId}"][data-rows-total]`, { timeout: 15000 });
  if (port && (await app.locator("#preview").getAttribute("data-port")) !== port) {
    await app.click(`#preview [data-preview-port="${port}"]`);
    await app.waitForSelector(`#preview[data-node="${nodeId}"][data-port="${port}"][data-rows-total]`, { timeout: 15000 });
  }
  return app.locator("#preview").evaluate((panel) => ({
    node: panel.dataset.node,
    port: panel.dataset.port,
    rows_total: Number(panel.dataset.rowsTotal),
    rows_shown: panel.querySelectorAll("#preview-rows tbody tr").length,
    profile: Object.fromEntries(
      [...panel.querySelectorAll("#preview-profile tbody tr")].map((tr) => [
        tr.dataset.column,
        {
          ...Object.fromEntries([...tr.querySelectorAll("td[data-stat]")].map((td) => [td.dataset.stat, td.textContent])),
          bars: [...tr.querySelectorAll("svg.histogram rect")].map((rect) => Number(rect.dataset.count)),
        },
      ]),
    ),
  }));
}
