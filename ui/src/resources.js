// The resource page: polls ./api/resources (the plugin's API, the session cookie authenticates it) and
// shows each source's status, training jobs by state, Spark applications, prediction services and GPUs.
// Every figure is the API's; one it did not report shows as "—". Plain DOM, no dependencies.
import "./resources.css";

const $ = (id) => document.getElementById(id);
const API = "api/resources";
const STATES = ["running", "queued", "pending", "unknown", "failed", "succeeded"];
let timer = null;
let refreshSeconds = 3;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const missing = () => el("span", { class: "muted", title: "not reported by the source" }, "—");
const known = (value) => value !== null && value !== undefined;

function bytes(value) {
  if (!known(value)) return missing();
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const number = (value, digits = 1, unit = "") => (known(value) ? `${Number(value).toFixed(digits)}${unit}` : missing());

// A cell whose raw value the browser tests read (data-field, data-value).
function cell(field, value, shown, cls = "num") {
  return el("td", { class: cls, dataset: { field, value: known(value) ? String(value) : "" } }, shown);
}

function stateChip(state) {
  return el("span", { class: `chip ${state}` }, state);
}

function table(headers, rows, empty) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el(
    "table",
    { class: "grid" },
    el("thead", {}, el("tr", {}, headers.map(([label, num]) => el("th", { class: num ? "num" : "" }, label)))),
    el("tbody", {}, rows),
  );
}

function renderSources(sources) {
  const body = $("sources").querySelector("tbody");
  body.replaceChildren(
    ...sources.map((s) =>
      el(
        "tr",
        { dataset: { source: s.id, state: s.state } },
        el("td", {}, s.label),
        el("td", {}, stateChip(s.state)),
        el("td", { class: "message" }, s.message || ""),
        el("td", { class: "num" }, String(s.took_ms)),
      ),
    ),
  );
}

function requested(job) {
  const r = job.requested;
  if (!r) return missing();
  const gpus = Object.entries(r.gpus || {}).map(([kind, n]) => `${n} ${kind} GPU`);
  return [`${r.cpu} cpu`, bytes(r.memory_bytes), ...gpus].flatMap((part, i) => (i ? [" · ", part] : [part]));
}

function gpuText(gpus) {
  if (!gpus || !gpus.length) return "";
  return gpus.map((g) => `GPU ${g.index} ${g.type}: ${g.memory_bytes === null ? "?" : (g.memory_bytes / 2 ** 20).toFixed(0)} MiB`).join(", ");
}

function renderTraining(jobs) {
  const groups = STATES.concat([...new Set(jobs.map((j) => j.state))].filter((s) => !STATES.includes(s)));
  const parts = [];
  for (const state of groups) {
    const mine = jobs.filter((j) => j.state === state);
    if (!mine.length) continue;
    const rows = [];
    for (const job of mine) {
      rows.push(
        el(
          "tr",
          { class: "job", dataset: { job: job.name, state: job.state, backend: job.backend } },
          el("td", {}, el("strong", {}, job.name), job.namespace ? ` (${job.namespace})` : ""),
          el("td", {}, job.backend, job.framework ? ` · ${job.framework}` : ""),
          el("td", {}, stateChip(job.state)),
          el("td", {}, requested(job)),
          cell("cpu", job.cpu_percent, number(job.cpu_percent, 1, " %")),
          cell("memory", job.memory_bytes, bytes(job.memory_bytes)),
          el("td", { class: "message" }, job.message || ""),
        ),
      );
      for (const r of job.replicas) {
        rows.push(
          el(
            "tr",
            { class: "replica", dataset: { job: job.name, replica: r.name, state: r.state } },
            el("td", { class: "indent" }, r.name),
            el("td", { class: "muted" }, r.pod || (r.pids && r.pids.length ? `pid ${r.pids.join(", ")}` : "")),
            el("td", {}, r.state),
            el("td", {}, r.restarts ? `${r.restarts} restart(s)` : ""),
            cell("cpu", r.cpu_percent, number(r.cpu_percent, 1, " %")),
            cell("memory", r.memory_bytes, bytes(r.memory_bytes)),
            el("td", { class: "message" }, [gpuText(r.gpus), r.note || ""].filter(Boolean).join("; ")),
          ),
        );
      }
    }
    parts.push(el("h3", {}, `${state} (${mine.length})`));
    parts.push(
      table(
        [["Job / replica"], ["Backend"], ["State"], ["Requested"], ["CPU", true], ["Memory", true], ["Message"]],
        rows,
        "",
      ),
    );
  }
  $("training").replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" }, "No training jobs.")]));
}

function renderSpark(apps) {
  const rows = apps.map((a) =>
    el(
      "tr",
      { dataset: { app: a.id, state: a.state } },
      el("td", {}, el("strong", {}, a.name || ""), el("div", { class: "muted" }, a.id)),
      el("td", {}, stateChip(a.state)),
      cell("executors", a.executors, known(a.executors) ? String(a.executors) : missing()),
      cell("cores", a.cores, known(a.cores) ? String(a.cores) : missing()),
      el(
        "td",
        { class: "num" },
        known(a.memory_max_bytes)
          ? [bytes(a.memory_used_bytes), " / ", bytes(a.memory_max_bytes), el("div", { class: "muted" }, "storage used / max")]
          : known(a.memory_per_executor_bytes)
            ? [bytes(a.memory_per_executor_bytes), el("div", { class: "muted" }, "per executor")]
            : missing(),
      ),
      el("td", {}, a.started ? new Date(a.started * 1000).toLocaleString() : missing()),
      el("td", { class: "num" }, number(a.duration_s, 0, " s")),
      el("td", { class: "muted" }, a.source),
    ),
  );
  $("spark").replaceChildren(
    table(
      [["Application"], ["State"], ["Executors", true], ["Cores", true], ["Memory", true], ["Started"], ["Duration", true], ["Read from"]],
      rows,
      "No Spark applications reported (see the Spark source above).",
    ),
  );
}

function renderServices(services) {
  const rows = services.map((s) =>
    el(
      "tr",
      { dataset: { service: s.name, state: s.state, backend: s.backend } },
      el("td", {}, el("strong", {}, s.name), s.namespace ? ` (${s.namespace})` : "", el("div", { class: "muted" }, s.url || "")),
      el("td", {}, stateChip(s.state)),
      cell("replicas", s.ready, `${s.ready}/${s.replicas}`),
      cell("rps", s.rps, number(s.rps, 2)),
      cell("latency", s.latency_mean_ms, number(s.latency_mean_ms, 2, " ms")),
      cell("p95", s.latency_p95_ms, number(s.latency_p95_ms, 2, " ms")),
      cell("cpu", s.cpu_percent, number(s.cpu_percent, 1, " %")),
      cell("memory", s.memory_bytes, bytes(s.memory_bytes)),
      el(
        "td",
        { class: "message" },
        [
          s.versions ? Object.entries(s.versions).map(([slot, v]) => `${slot}: v${v}`).join(", ") : "",
          gpuText(s.gpus),
          s.message || "",
        ].filter(Boolean).join("; "),
      ),
    ),
  );
  $("services").replaceChildren(
    table(
      [["Service"], ["State"], ["Ready", true], ["Requests/s", true], ["Latency (mean)", true], ["p95", true], ["CPU", true], ["Memory", true], ["Versions / message"]],
      rows,
      "No prediction services.",
    ),
  );
}

function renderGpus(gpus) {
  const byType = new Map();
  for (const g of gpus) {
    const t = byType.get(g.type) || { count: 0, used: 0, total: 0, util: [], sources: new Set() };
    t.count += g.source === "kubernetes" ? g.capacity : 1;
    if (known(g.memory_used_bytes)) t.used += g.memory_used_bytes;
    if (known(g.memory_total_bytes)) t.total += g.memory_total_bytes;
    if (known(g.utilization_percent)) t.util.push(g.utilization_percent);
    t.sources.add(g.source === "kubernetes" ? `node ${g.node} (${g.allocatable} allocatable)` : `${g.source} #${g.index}`);
    byType.set(g.type, t);
  }
  const rows = [...byType.entries()].map(([type, t]) =>
    el(
      "tr",
      { dataset: { gpuType: type } },
      el("td", {}, type),
      cell("count", t.count, String(t.count)),
      el("td", { class: "num" }, t.total ? [bytes(t.used), " / ", bytes(t.total)] : missing()),
      el("td", { class: "num" }, t.util.length ? `${(t.util.reduce((a, b) => a + b, 0) / t.util.length).toFixed(0)} %` : missing()),
      el("td", { class: "muted" }, [...t.sources].join(", ")),
    ),
  );
  $("gpus").replaceChildren(
    table([["Type"], ["GPUs", true], ["Memory used", true], ["Utilisation", true], ["Where"]], rows, "No GPUs reported (see the GPU sources above)."),
  );
}

function render(data) {
  refreshSeconds = data.refresh_seconds || refreshSeconds;
  renderSources(data.sources);
  renderTraining(data.training);
  renderSpark(data.spark);
  renderServices(data.services);
  renderGpus(data.gpus);
  const at = new Date(data.generated_at).toLocaleTimeString();
  $("updated").textContent = `updated ${at} (${data.took_ms} ms)`;
  $("updated").className = "";
  document.body.dataset.generatedAt = data.generated_at;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch(API, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${API}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
    render(await response.json());
  } catch (error) {
    $("updated").textContent = `could not refresh: ${error.message} (the figures below are from the last answer)`;
    $("updated").className = "error";
  }
  if (!$("pause").checked) timer = setTimeout(refresh, refreshSeconds * 1000);
}

$("pause").addEventListener("change", () => {
  if (!$("pause").checked) refresh();
  else clearTimeout(timer);
});
refresh();
