// End-to-end: the resource page, opened from the Airflow UI's "Resources" entry in a real headless
// Chromium, shows a running training job and a prediction service with their CPU (and the service's
// requests per second), then drops them once they end, refreshing by itself (no reload).
//
// Env: MLPLAT_URL, MLPLAT_TOKEN, MLPLAT_OUT (screenshots), CHROMIUM, MLPLAT_JOB (the job's name),
// MLPLAT_SERVICE (the service's name), MLPLAT_HANDSHAKE (a folder: the script writes `seen` there once
// both rows showed, and the test ends the job and the service).
// Prints one JSON line of what the page showed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { log, settings, withBrowser } from "./canvas.mjs";

const { base, token, out } = settings();
const job = process.env.MLPLAT_JOB;
const service = process.env.MLPLAT_SERVICE;
const handshake = process.env.MLPLAT_HANDSHAKE;
if (!job || !service || !handshake) throw new Error("MLPLAT_JOB, MLPLAT_SERVICE and MLPLAT_HANDSHAKE must be set");

await withBrowser({ base, token, out }, { width: 1500, height: 1000 }, async (page) => {
  await page.goto(`${base}/plugin/mlplat-resources`);
  let app;
  for (let i = 0; i < 240 && !app; i++) {
    app = page.frames().find((f) => f !== page.mainFrame() && f.url() === `${base}/mlplat/resources`);
    if (!app) await page.waitForTimeout(250);
  }
  if (!app) throw new Error("the Airflow UI did not open /mlplat/resources in a frame");
  await app.waitForSelector("body[data-generated-at]", { timeout: 60000 });
  const firstAnswer = await app.evaluate(() => document.body.dataset.generatedAt);
  log("page loaded in the Airflow UI");

  // Both rows, with CPU above zero (the service's also with requests per second), without a reload.
  const seen = await app.waitForFunction(
    ({ job, service }) => {
      // The raw value of a row's cell (data-value), as a number; null when the page shows none.
      const read = (row, field) => {
        const cell = row.querySelector(`[data-field="${field}"]`);
        return cell && cell.dataset.value !== "" ? Number(cell.dataset.value) : null;
      };
      const jobRow = document.querySelector(`tr.job[data-job="${job}"]`);
      const replica = document.querySelector(`tr.replica[data-job="${job}"][data-replica="worker-0"]`);
      const svc = document.querySelector(`tr[data-service="${service}"]`);
      if (!jobRow || !replica || !svc) return null;
      const out = {
        job_state: jobRow.dataset.state,
        job_cpu: read(jobRow, "cpu"),
        replica_cpu: read(replica, "cpu"),
        replica_memory: read(replica, "memory"),
        service_state: svc.dataset.state,
        service_cpu: read(svc, "cpu"),
        service_memory: read(svc, "memory"),
        rps: read(svc, "rps"),
        latency_ms: read(svc, "latency"),
        ready: read(svc, "replicas"),
        sources: Object.fromEntries([...document.querySelectorAll("#sources tr[data-source]")].map((r) => [r.dataset.source, r.dataset.state])),
      };
      return out.job_state === "running" && out.replica_cpu > 0 && out.service_cpu > 0 && out.rps > 0 ? out : null;
    },
    { job, service },
    { timeout: 120000, polling: 500 },
  );
  const shown = await seen.jsonValue();
  log("rows shown:", JSON.stringify(shown));
  await page.screenshot({ path: join(out, "resources.png"), fullPage: true });
  writeFileSync(join(handshake, "seen"), JSON.stringify(shown));

  // The test ends the job and stops the service: the page drops both rows by itself.
  await app.waitForFunction(
    ({ job, service }) => !document.querySelector(`tr[data-job="${job}"]`) && !document.querySelector(`tr[data-service="${service}"]`),
    { job, service },
    { timeout: 120000, polling: 500 },
  );
  const lastAnswer = await app.evaluate(() => document.body.dataset.generatedAt);
  log("rows gone");
  await page.screenshot({ path: join(out, "resources-ended.png"), fullPage: true });
  console.log(JSON.stringify({ ...shown, refreshed: lastAnswer !== firstAnswer, gone: true }));
});
