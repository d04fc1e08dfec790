// The visual pipeline editor: catalogue, canvas, generated parameter forms, save, trigger, results.
// Plain DOM and SVG, no runtime dependencies; served by the plugin at <airflow>/mlplat/.
// The plugin API lives at ./api/, Airflow's REST API at ../api/v2/ (the session cookie authenticates both).
import "./style.css";

const $ = (id) => document.getElementById(id);
const API = "api";
const AIRFLOW = "../api/v2";
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const state = {
  components: {}, // name -> form (from /api/catalogue)
  nodes: [], // {id, component, params, inputs: {port: "node.port"}, x, y, description; ranking_model: model, launcher}
  selected: null,
  problems: [], // placed problems of the last validation
  dagReady: false,
  validateTimer: null,
  run: null, // the results shown (GET /api/runs/...): their previews open from the canvas
  preview: undefined, // the opened pipeline's "preview" field, kept when it is saved again
};

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { ok: response.ok, status: response.status, data };
}

function status(text, error = false) {
  const el = $("status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// replaceChildren that accepts nested arrays and skips null, like el().
function fill(parent, ...children) {
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// ---------- catalogue ----------

async function loadCatalogue() {
  const { ok, data } = await call("GET", `${API}/catalogue`);
  if (!ok) return status(`catalogue: ${data?.detail ?? data}`, true);
  for (const form of data.components) state.components[form.name] = form;
  for (const category of data.categories)
    $("category").append(el("option", { value: category.name }, `${category.name} (${category.count})`));
  renderCatalogue();
}

function renderCatalogue() {
  const words = $("search").value.toLowerCase().split(/\s+/).filter(Boolean);
  const category = $("category").value;
  const list = $("components");
  list.replaceChildren();
  let last = null;
  for (const form of Object.values(state.components)) {
    if (category && form.category !== category) continue;
    const text = `${form.name} ${form.category} ${form.description}`.toLowerCase();
    if (!words.every((w) => text.includes(w))) continue;
    if (form.category !== last) list.append(el("li", { class: "cat" }, form.category));
    last = form.category;
    list.append(
      el(
        "li",
        { dataset: { component: form.name }, title: form.description, onmousedown: (e) => startPaletteDrag(e, form.name) },
        form.title ?? form.name,
        el("small", {}, form.summary),
      ),
    );
  }
}

// ---------- canvas: nodes, ports, edges ----------

// The catalogue entry a node was made from: its component's, or a ranking model's (ranking_model.MODEL).
function formOf(node) {
  return state.components[node.model ? `${node.component}.${node.model}` : node.component];
}

function uniqueId(component) {
  const base = component.replace(/^ranking_model\./, "").replace(/^(synthetic_|binary_classification_)/, "").replace(/_(classifier|columns|missing)$/, "");
  let id = IDENTIFIER.test(base) ? base : "node";
  for (let i = 2; state.nodes.some((n) => n.id === id); i++) id = `${base}_${i}`;
  return id;
}

function addNode(entry, x, y) {
  const form = state.components[entry];
  const component = form?.component ?? entry;
  const node = { id: uniqueId(entry), component, params: {}, inputs: {}, x: Math.max(0, x), y: Math.max(0, y) };
  if (form?.model) Object.assign(node, { model: form.model, launcher: {} });
  state.nodes.push(node);
  select(node.id);
  changed();
}

function nodeById(id) {
  return state.nodes.find((n) => n.id === id);
}

function problemsOf(nodeId) {
  return state.problems.filter((p) => p.node === nodeId);
}

function renderCanvas() {
  const canvas = $("canvas");
  canvas.querySelectorAll(".node").forEach((n) => n.remove());
  $("hint").hidden = state.nodes.length > 0;
  for (const node of state.nodes) {
    const form = formOf(node);
    const problems = problemsOf(node.id);
    const badInputs = new Set(problems.map((p) => p.field).filter((f) => f?.startsWith("inputs.")).map((f) => f.slice(7)));
    const inputs = (form?.inputs ?? []).map((port) =>
      el(
        "div",
        {
          class: `port in ${port.kind}${node.inputs[port.name] ? " connected" : ""}${badInputs.has(port.name) ? " bad" : ""}`,
          dataset: { node: node.id, in: port.name },
          title: `${port.kind}${port.optional ? ", optional" : ""}: ${port.help}`,
        },
        port.name,
      ),
    );
    const outputs = (form?.outputs ?? []).map((port) =>
      el(
        "div",
        {
          class: `port out ${port.kind}`,
          dataset: { node: node.id, out: port.name },
          title: `${port.kind}: ${port.help}`,
          onmousedown: (e) => startWire(e, node.id, port.name),
        },
        port.name,
      ),
    );
    const box = el(
      "div",
      {
        class: `node${state.selected === node.id ? " selected" : ""}${problems.length ? " invalid" : ""}${previewsOf(node.id).length ? " has-preview" : ""}`,
        dataset: { node: node.id },
        style: `left:${node.x}px;top:${node.y}px`,
        onmousedown: () => {
          select(node.id);
          if (previewsOf(node.id).length) showPreview(node.id);
        },
      },
      el("header", { onmousedown: (e) => startMove(e, node) }, node.id, el("span", { class: "kind" }, node.model ? `${node.component}: ${node.model}` : node.component)),
      el("div", { class: "ports" }, el("div", {}, inputs), el("div", {}, outputs)),
      problems.length ? el("div", { class: "badge" }, `${problems.length} problem${problems.length > 1 ? "s" : ""}`) : null,
      previewsOf(node.id).length ? el("div", { class: "preview-hint", title: "click to see the first rows and a profile" }, "▦ data") : null,
    );
    canvas.append(box);
  }
  renderEdges();
}

function portCenter(selector) {
  const port = document.querySelector(selector);
  if (!port) return null;
  const canvas = $("canvas");
  const c = canvas.getBoundingClientRect();
  const r = port.getBoundingClientRect();
  const x = port.classList.contains("in") ? r.left - 1 : r.right + 1;
  return { x: x - c.left + canvas.scrollLeft, y: r.top + 9 - c.top + canvas.scrollTop };
}

function curve(a, b) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  return `M${a.x},${a.y} C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
}

function renderEdges() {
  const svg = $("edges");
  svg.querySelectorAll("path.edge").forEach((p) => p.remove());
  for (const node of state.nodes) {
    for (const [port, ref] of Object.entries(node.inputs)) {
      if (typeof ref !== "string") continue;
      const [src, out] = ref.split(".");
      const a = portCenter(`.port.out[data-node="${src}"][data-out="${out}"]`);
      const b = portCenter(`.port.in[data-node="${node.id}"][data-in="${port}"]`);
      if (!a || !b) continue;
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("class", "edge");
      path.setAttribute("d", curve(a, b));
      path.dataset.edge = `${ref}->${node.id}.${port}`;
      svg.append(path);
    }
  }
}

function canvasPoint(event) {
  const canvas = $("canvas");
  const c = canvas.getBoundingClientRect();
  return { x: event.clientX - c.left + canvas.scrollLeft, y: event.clientY - c.top + canvas.scrollTop };
}

function drag(onMove, onUp) {
  const move = (e) => onMove(e);
  const up = (e) => {
    document.removeEventListener("mousemove", move);
    document.removeEventListener("mouseup", up);
    onUp(e);
  };
  document.addEventListener("mousemove", move);
  document.addEventListener("mouseup", up);
}

function startPaletteDrag(event, component) {
  event.preventDefault();
  const ghost = el("div", { class: "node", style: "pointer-events:none;opacity:.7;position:fixed" }, el("header", {}, component));
  document.body.append(ghost);
  const place = (e) => (ghost.style.cssText += `;left:${e.clientX - 20}px;top:${e.clientY - 10}px`);
  place(event);
  drag(place, (e) => {
    ghost.remove();
    const r = $("canvas").getBoundingClientRect();
    if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) return;
    const p = canvasPoint(e);
    addNode(component, p.x - 20, p.y - 10);
  });
}

function startMove(event, node) {
  event.preventDefault();
  const start = canvasPoint(event);
  const origin = { x: node.x, y: node.y };
  drag(
    (e) => {
      const p = canvasPoint(e);
      node.x = Math.max(0, origin.x + p.x - start.x);
      node.y = Math.max(0, origin.y + p.y - start.y);
      const box = document.querySelector(`.node[data-node="${node.id}"]`);
      box.style.left = `${node.x}px`;
      box.style.top = `${node.y}px`;
      renderEdges();
    },
    () => {},
  );
}

function startWire(event, nodeId, port) {
  event.preventDefault();
  event.stopPropagation();
  const a = portCenter(`.port.out[data-node="${nodeId}"][data-out="${port}"]`);
  const wire = $("wire");
  drag(
    (e) => wire.setAttribute("d", curve(a, canvasPoint(e))),
    (e) => {
      wire.setAttribute("d", "");
      const target = document.elementFromPoint(e.clientX, e.clientY)?.closest(".port.in");
      if (!target || target.dataset.node === nodeId) return;
      nodeById(target.dataset.node).inputs[target.dataset.in] = `${nodeId}.${port}`;
      changed();
    },
  );
}

// ---------- inspector: generated forms with inline errors ----------

function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  renderCanvas();
  renderInspector();
}

function shown(value) {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "object" && !Array.isArray(value) && "$param" in value) return `$${value.$param}`;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// What a field's text means: "" -> unset (the default applies), "$name" -> a pipeline param reference,
// "null" in a nullable field -> null (none, e.g. no prediction column);
// otherwise the widget's type. Text that does not parse stays text, so the validator names it.
function parsed(param, text) {
  const raw = text.trim();
  if (raw === "") return undefined;
  if (raw === "null" && param.nullable) return null;
  if (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) return { $param: raw.slice(1) };
  if (param.widget === "integer" || param.widget === "number") return raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (param.widget === "list") return raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (param.widget === "json") {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

// One generated field of a node's params (or, for a ranking model, its launcher settings).
function field(node, param, problems, section = "params") {
  const path = `${section}.${param.name}`;
  const errors = problems.filter((p) => p.field === path);
  const values = (node[section] ??= {});
  const current = values[param.name];
  const set = (value) => {
    if (value === undefined) delete values[param.name];
    else values[param.name] = value;
    changed(false);
  };
  const data = section === "params" ? { param: param.name } : { [section]: param.name };
  let input;
  if (param.widget === "select") {
    input = el("select", { dataset: data, onchange: (e) => set(e.target.value === "" ? undefined : e.target.value) });
    input.append(el("option", { value: "" }, `(default: ${shown(param.default)})`));
    for (const option of param.enum) input.append(el("option", { value: option, selected: current === option }, String(option)));
  } else if (param.widget === "checkbox") {
    input = el("input", {
      type: "checkbox",
      dataset: data,
      checked: (current ?? param.default) === true,
      onchange: (e) => set(e.target.checked === param.default ? undefined : e.target.checked),
    });
  } else {
    input = el("input", {
      type: "text",
      dataset: data,
      value: shown(current),
      placeholder: param.required ? "required" : `default: ${shown(param.default)}`,
      onchange: (e) => set(parsed(param, e.target.value)),
    });
  }
  const bounds = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"]
    .filter((k) => k in param)
    .map((k) => `${{ minimum: "≥", exclusiveMinimum: ">", maximum: "≤", exclusiveMaximum: "<" }[k]} ${param[k]}`)
    .join(", ");
  return el(
    "label",
    { class: `field${errors.length ? " has-error" : ""}`, dataset: { field: path } },
    el("span", {}, `${param.name}${param.required ? " *" : ""} `, el("span", { class: "help" }, `${param.type}${bounds ? `, ${bounds}` : ""}`)),
    input,
    el("div", { class: "help" }, param.help),
    errors.map((p) => el("div", { class: "error", dataset: { error: path } }, p.message)),
  );
}

function renderInspector() {
  const panel = $("inspector");
  const node = nodeById(state.selected);
  if (!node) return panel.replaceChildren(el("p", { class: "muted" }, "Select a node to edit its parameters."));
  const form = formOf(node);
  const problems = problemsOf(node.id);
  const placedFields = new Set([
    ...(form?.params ?? []).map((p) => `params.${p.name}`),
    ...(form?.launcher ?? []).map((p) => `launcher.${p.name}`),
  ]);
  const other = problems.filter((p) => !placedFields.has(p.field));
  const idInput = el("input", {
    type: "text",
    id: "node-id",
    value: node.id,
    onchange: (e) => renameNode(node, e.target.value.trim()),
  });
  fill(
    panel,
    el("h3", {}, `${node.id} `, el("span", { class: "muted" }, `(${node.model ? `${node.component}: ${node.model}` : node.component})`)),
    el("div", { class: "help" }, form?.summary ?? ""),
    el("label", {}, "Node id ", idInput),
    el(
      "div",
      {},
      el("h3", {}, "Inputs"),
      (form?.inputs ?? []).length
        ? form.inputs.map((port) =>
            el(
              "div",
              { class: "help", dataset: { input: port.name } },
              `${port.name} (${port.kind}): ${node.inputs[port.name] ?? (port.optional ? "not connected (optional)" : "not connected")} `,
              node.inputs[port.name]
                ? el("button", { type: "button", onclick: () => (delete node.inputs[port.name], changed()) }, "disconnect")
                : null,
            ),
          )
        : el("div", { class: "help" }, "none"),
    ),
    el("h3", {}, "Parameters"),
    (form?.params ?? []).map((param) => field(node, param, problems)),
    form?.launcher
      ? el("div", { id: "launcher" }, el("h3", {}, "Launcher"), form.launcher.map((param) => field(node, param, problems, "launcher")))
      : null,
    other.length ? el("ul", { class: "problems", id: "node-problems" }, other.map((p) => el("li", {}, p.text))) : null,
    el("button", { type: "button", id: "delete-node", onclick: () => deleteNode(node) }, "Delete node"),
  );
}

function renameNode(node, id) {
  if (!IDENTIFIER.test(id) || nodeById(id)) return status(`node id ${JSON.stringify(id)} is not a free identifier`, true);
  for (const other of state.nodes)
    for (const [port, ref] of Object.entries(other.inputs))
      if (typeof ref === "string" && ref.startsWith(`${node.id}.`)) other.inputs[port] = `${id}.${ref.split(".")[1]}`;
  node.id = id;
  state.selected = id;
  changed();
}

function deleteNode(node) {
  state.nodes = state.nodes.filter((n) => n !== node);
  for (const other of state.nodes)
    for (const [port, ref] of Object.entries(other.inputs))
      if (typeof ref === "string" && ref.startsWith(`${node.id}.`)) delete other.inputs[port];
  state.selected = null;
  changed();
}

// ---------- the document, validation, save ----------

// A settings textarea's JSON object; {} when empty, null when it is not JSON.
function jsonObject(id) {
  try {
    const value = JSON.parse($(id).value || "{}");
    return typeof value === "object" && value && !Array.isArray(value) ? value : {};
  } catch {
    return null;
  }
}

const pipelineParams = () => jsonObject("params");

function documentOf() {
  const doc = { name: $("pipeline-name").value.trim(), description: $("description").value };
  const params = pipelineParams();
  if (params && Object.keys(params).length) doc.params = params;
  const register = jsonObject("register");
  if (register && Object.keys(register).length) doc.register = register;
  if (state.preview !== undefined) doc.preview = state.preview;
  doc.nodes = state.nodes.map((n) => {
    const node = { id: n.id, component: n.component };
    if (n.model !== undefined) node.model = n.model;
    if (n.description) node.description = n.description;
    if (Object.keys(n.params).length) node.params = n.params;
    if (n.launcher && Object.keys(n.launcher).length) node.launcher = n.launcher;
    if (Object.keys(n.inputs).length) node.inputs = n.inputs;
    return node;
  });
  return doc;
}

function layoutOf() {
  return Object.fromEntries(state.nodes.map((n) => [n.id, { x: Math.round(n.x), y: Math.round(n.y) }]));
}

function changed(redrawInspector = true) {
  state.dagReady = false;
  $("trigger").disabled = true;
  renderCanvas();
  if (redrawInspector) renderInspector();
  clearTimeout(state.validateTimer);
  state.validateTimer = setTimeout(validate, 250);
}

function showProblems(problems) {
  state.problems = problems;
  const onNodes = new Set(state.nodes.map((n) => n.id));
  const general = problems.filter((p) => !p.node || !onNodes.has(p.node));
  $("pipeline-problems").replaceChildren(...general.map((p) => el("li", {}, p.text)));
  renderCanvas();
  renderInspector();
}

async function validate() {
  if (!state.nodes.length) return showProblems([]);
  for (const id of ["params", "register"])
    if (jsonObject(id) === null) return showProblems([{ where: id, message: "is not valid JSON", text: `${id}: is not valid JSON` }]);
  const { data } = await call("POST", `${API}/validate`, { pipeline: documentOf() });
  showProblems(data?.problems ?? []);
  if (data?.valid) status(`valid: ${state.nodes.length} nodes`);
  else if (data?.problems) status(`${data.problems.length} problem${data.problems.length > 1 ? "s" : ""}`, true);
}

async function save() {
  const doc = documentOf();
  if (!IDENTIFIER.test(doc.name)) return status("the pipeline name must be a Python identifier", true);
  status("saving…");
  const { ok, status: code, data } = await call("PUT", `${API}/pipelines/${doc.name}`, { pipeline: doc, layout: layoutOf() });
  if (code === 422) {
    showProblems(data.problems);
    return status(`not saved: ${data.problems.length} problem${data.problems.length > 1 ? "s" : ""}`, true);
  }
  if (!ok) return status(`not saved: ${data?.detail ?? code}`, true);
  showProblems([]);
  status(`saved ${data.file}; waiting for the DAG processor…`);
  await refreshPipelineList();
  await waitForDag(doc.name, data.saved_at);
}

async function waitForDag(dagId, savedAt) {
  const since = Date.parse(savedAt);
  for (let i = 0; i < 120; i++) {
    const { ok, data } = await call("GET", `${AIRFLOW}/dags/${dagId}`);
    if (ok && data.last_parsed_time && Date.parse(data.last_parsed_time) >= since) {
      state.dagReady = true;
      $("trigger").disabled = false;
      return status(`DAG ${dagId} is ready`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  status(`DAG ${dagId} did not appear within 2 minutes; see the DAG import errors in Airflow`, true);
}

// ---------- model upload ----------

// POST /api/models/upload as multipart form data (call() sends JSON); the answer or the problem is shown.
async function uploadModel(event) {
  event.preventDefault();
  const form = $("upload-form");
  const result = $("upload-result");
  const data = new FormData(form);
  if (!data.get("feature_map")?.name) data.delete("feature_map");
  $("upload-send").disabled = true;
  result.className = "";
  fill(result, el("p", { class: "muted" }, "Uploading and checking the model…"));
  try {
    const response = await fetch(`${API}/models/upload`, { method: "POST", credentials: "same-origin", body: data });
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (response.status === 201) {
      fill(
        result,
        el("p", { class: "state-success" }, `Registered ${body.name} version ${body.version} (${body.format})`),
        el("pre", {}, JSON.stringify(body.signature, null, 1)),
      );
    } else {
      result.className = "error";
      const message = body?.message ?? body?.detail ?? body ?? response.statusText;
      fill(result, el("p", {}, `Refused (${response.status}): ${typeof message === "string" ? message : JSON.stringify(message)}`));
    }
  } catch (error) {
    result.className = "error";
    fill(result, el("p", {}, `Upload failed: ${error}`));
  } finally {
    $("upload-send").disabled = false;
  }
}

// ---------- trigger and results ----------

function openTrigger() {
  const dagId = $("pipeline-name").value.trim();
  const params = pipelineParams() ?? {};
  $("trigger-dag").textContent = dagId;
  $("trigger-params").replaceChildren(
    ...(Object.keys(params).length
      ? Object.entries(params).map(([name, p]) =>
          el("label", {}, `${name} `, el("input", { type: "text", dataset: { runParam: name }, value: JSON.stringify(p.default ?? null) })),
        )
      : [el("p", { class: "muted" }, "This pipeline has no params.")]),
  );
  $("trigger-dialog").showModal();
}

async function trigger() {
  const dagId = $("pipeline-name").value.trim();
  const conf = {};
  for (const input of document.querySelectorAll("[data-run-param]")) {
    try {
      conf[input.dataset.runParam] = JSON.parse(input.value);
    } catch {
      conf[input.dataset.runParam] = input.value;
    }
  }
  await call("PATCH", `${AIRFLOW}/dags/${dagId}`, { is_paused: false });
  const { ok, data } = await call("POST", `${AIRFLOW}/dags/${dagId}/dagRuns`, { logical_date: null, conf });
  if (!ok) return status(`trigger failed: ${JSON.stringify(data?.detail ?? data)}`, true);
  status(`run ${data.dag_run_id} queued`);
  await followRun(dagId, data.dag_run_id);
}

async function followRun(dagId, runId) {
  const panel = $("results");
  panel.hidden = false;
  state.run = null;
  closePreview();
  state.selected = null; // the results take the side panel while the run is followed
  renderCanvas();
  renderInspector();
  $("side").scrollTop = 0;
  for (;;) {
    const { ok, data } = await call("GET", `${API}/runs/${dagId}/${encodeURIComponent(runId)}`);
    if (ok) {
      renderResults(data);
      if (["success", "failed"].includes(data.state)) return status(`run ${runId}: ${data.state}`, data.state !== "success");
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// The results API's URL of one artifact of a run (a plot or an executed notebook).
function artifactUrl(run, { task, node, index }) {
  return `${API}/runs/${run.dag_id}/${encodeURIComponent(run.run_id)}/artifacts/${task}/${node}/${index}`;
}

function renderResults(run) {
  const hadPreviews = JSON.stringify(state.run?.previews ?? []);
  state.run = run;
  if (JSON.stringify(run.previews ?? []) !== hadPreviews) renderCanvas(); // mark the nodes that have one
  const rows = [];
  for (const [node, metrics] of Object.entries(run.metrics ?? {}))
    for (const [name, value] of Object.entries(metrics ?? {}))
      if (typeof value === "number")
        rows.push(el("tr", { dataset: { metric: `${node}.${name}` } }, el("td", {}, node), el("td", {}, name), el("td", { class: "value" }, value.toFixed(4))));
  const failed = Object.values(run.reports ?? {})
    .flatMap((r) => Object.entries(r.nodes ?? {}))
    .filter(([, n]) => n.error)
    .map(([id, n]) => el("li", {}, `${id}: ${n.error}`));
  fill(
    $("results"),
    el("h3", {}, "Run results"),
    el("div", {}, el("span", { id: "run-id" }, run.run_id), ": ", el("span", { id: "run-state", class: `state-${run.state}` }, run.state)),
    failed.length ? el("ul", { class: "problems" }, failed) : null,
    Object.entries(run.reports ?? {}).map(([task, report]) => {
      const t = report.tracking;
      const source = el("span", { class: "help" }, `${task}: report from ${run.sources?.[task] ?? "run output"}`);
      if (!t?.run_id) return el("div", {}, source);
      const href = `${t.uri.replace(/\/$/, "")}/#/experiments/${t.experiment_id}/runs/${t.run_id}`;
      return el("div", {}, source, " · ", el("a", { href, target: "_blank", rel: "noopener" }, "MLflow run"));
    }),
    Object.entries(run.training ?? {}).map(([task, step]) =>
      el(
        "div",
        { class: "help", dataset: { training: task } },
        `${task}: trained model at ${step.output_path}`,
        step.registered
          ? el("span", { dataset: { registered: task } }, ` · registered ${step.registered.name} version ${step.registered.version}`)
          : null,
      ),
    ),
    rows.length
      ? el("table", { id: "metrics" }, el("tr", {}, el("th", {}, "node"), el("th", {}, "metric"), el("th", {}, "value")), rows)
      : el("p", { class: "muted" }, run.state === "success" ? "no metrics" : "waiting for metrics…"),
    (run.notebooks ?? []).map((n) =>
      el(
        "div",
        { class: "help", dataset: { notebook: n.task } },
        `${n.task}: executed notebook `,
        el("a", { href: artifactUrl(run, n), download: n.name }, n.name),
      ),
    ),
    (run.plots ?? []).map((p) =>
      el("figure", {}, el("img", {
        alt: `${p.node}: ${p.name}`,
        src: artifactUrl(run, p),
      }), el("figcaption", { class: "help" }, `${p.node}: ${p.name}`)),
    ),
    run.previews?.length ? el("p", { class: "help" }, "Click a node marked ▦ to see its first rows and a profile of its columns.") : null,
  );
}

// ---------- table previews: first rows and column profile of a node's table outputs ----------

// [{task, node, port}] of the shown run's previews of this node (none unless a run's results are shown).
function previewsOf(nodeId) {
  if (!state.run || $("results").hidden) return [];
  return (state.run.previews ?? []).filter((p) => p.node === nodeId);
}

function closePreview() {
  $("preview")?.remove();
}

// A profile or row value as text: numbers shortened, null as empty.
function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

// A histogram {edges, counts} as small inline SVG bars, each with its range and count as a tooltip.
function histogramSvg(histogram) {
  const SVG = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(SVG, "svg");
  const width = 120;
  const height = 28;
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "histogram");
  const counts = histogram?.counts ?? [];
  const top = Math.max(1, ...counts);
  const bar = width / Math.max(1, counts.length);
  counts.forEach((count, i) => {
    const rect = document.createElementNS(SVG, "rect");
    const h = count ? Math.max(1, (count / top) * height) : 0;
    rect.setAttribute("x", (i * bar + 0.5).toFixed(1));
    rect.setAttribute("y", (height - h).toFixed(1));
    rect.setAttribute("width", Math.max(1, bar - 1).toFixed(1));
    rect.setAttribute("height", h.toFixed(1));
    rect.dataset.count = count;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${cell(histogram.edges[i])} – ${cell(histogram.edges[i + 1])}: ${count}`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

const STATS = ["type", "missing", "distinct", "min", "max", "mean"];

async function showPreview(nodeId, port) {
  const choices = previewsOf(nodeId);
  const chosen = choices.find((p) => p.port === port) ?? choices[0];
  if (!chosen) return;
  let panel = $("preview");
  if (!panel) {
    panel = el("section", { id: "preview" });
    document.body.append(panel);
  }
  const run = state.run;
  const url = `${API}/runs/${run.dag_id}/${encodeURIComponent(run.run_id)}/previews/${chosen.task}/${chosen.node}/${chosen.port}`;
  fill(panel, el("p", { class: "muted" }, `Loading the preview of ${nodeId}.${chosen.port}…`));
  panel.dataset.node = nodeId;
  panel.dataset.port = chosen.port;
  delete panel.dataset.rowsTotal;
  const { ok, data } = await call("GET", url);
  if (panel.dataset.node !== nodeId || panel.dataset.port !== chosen.port) return; // another node was clicked meanwhile
  if (!ok) return fill(panel, el("p", { class: "error" }, `No preview of ${nodeId}.${chosen.port}: ${data?.detail ?? data}`));
  panel.dataset.rowsTotal = data.rows_total;
  const columns = data.columns ?? [];
  const shownColumns = data.columns_total > columns.length ? `, the first ${columns.length} of ${data.columns_total} columns` : "";
  fill(
    panel,
    el(
      "div",
      { class: "preview-bar" },
      el("strong", {}, `${nodeId}.${chosen.port}`),
      ` ${cell(data.rows_total)} rows; the first ${(data.rows ?? []).length} shown${shownColumns}`,
      choices.length > 1
        ? choices.map((p) =>
            el("button", { type: "button", class: p.port === chosen.port ? "primary" : "", dataset: { previewPort: p.port }, onclick: () => showPreview(nodeId, p.port) }, p.port),
          )
        : null,
      el("button", { type: "button", id: "preview-close", onclick: closePreview }, "Close"),
    ),
    el(
      "table",
      { id: "preview-profile" },
      el("thead", {}, el("tr", {}, el("th", {}, "column"), STATS.map((s) => el("th", {}, s)), el("th", {}, "histogram"))),
      el(
        "tbody",
        {},
        (data.profile ?? []).map((c) =>
          el(
            "tr",
            { dataset: { column: c.name } },
            el("th", {}, c.name),
            STATS.map((s) => el("td", { dataset: { stat: s }, title: s === "missing" && c.nan ? `${c.nan} NaN` : null }, cell(c[s]))),
            el("td", { class: "hist" }, c.histogram ? histogramSvg(c.histogram) : null),
          ),
        ),
      ),
    ),
    el("p", { class: "help" }, data.approximate ?? ""),
    el(
      "table",
      { id: "preview-rows" },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { title: c.type }, c.name)))),
      el("tbody", {}, (data.rows ?? []).map((row) => el("tr", {}, row.map((v) => el("td", { class: typeof v === "number" ? "num" : "" }, cell(v)))))),
    ),
  );
}

// ---------- opening pipelines ----------

async function refreshPipelineList() {
  const { ok, data } = await call("GET", `${API}/pipelines`);
  if (!ok) return;
  $("open-pipeline").replaceChildren(
    el("option", { value: "" }, "Open…"),
    ...data.pipelines.map((p) => el("option", { value: p.name }, `${p.name}${p.problems.length ? " (invalid)" : ""}`)),
  );
}

function autoLayout(doc) {
  const depth = {};
  const visit = (n) => {
    if (n.id in depth) return depth[n.id];
    depth[n.id] = 0;
    const parents = Object.values(n.inputs ?? {}).filter((r) => typeof r === "string").map((r) => doc.nodes.find((m) => m.id === r.split(".")[0])).filter(Boolean);
    depth[n.id] = parents.length ? 1 + Math.max(...parents.map(visit)) : 0;
    return depth[n.id];
  };
  const rows = {};
  const layout = {};
  for (const n of doc.nodes) {
    const d = visit(n);
    rows[d] = (rows[d] ?? 0) + 1;
    layout[n.id] = { x: 20 + d * 220, y: 20 + (rows[d] - 1) * 130 };
  }
  return layout;
}

async function openPipeline(name) {
  const { ok, data } = await call("GET", `${API}/pipelines/${name}`);
  if (!ok) return status(`cannot open ${name}: ${data?.detail}`, true);
  const doc = data.pipeline;
  const layout = { ...autoLayout(doc), ...(data.layout ?? {}) };
  $("pipeline-name").value = doc.name;
  $("description").value = doc.description ?? "";
  $("params").value = JSON.stringify(doc.params ?? {}, null, 1);
  $("register").value = doc.register ? JSON.stringify(doc.register) : "";
  state.preview = doc.preview;
  state.nodes = doc.nodes.map((n) => ({
    ...n,
    params: { ...(n.params ?? {}) },
    inputs: { ...(n.inputs ?? {}) },
    ...(n.launcher ? { launcher: { ...n.launcher } } : {}),
    ...layout[n.id],
  }));
  state.selected = null;
  $("results").hidden = true;
  state.run = null;
  closePreview();
  changed();
}

function newPipeline() {
  state.nodes = [];
  state.selected = null;
  $("pipeline-name").value = "my_pipeline";
  $("description").value = "";
  $("params").value = "{}";
  $("register").value = "";
  state.preview = undefined;
  $("results").hidden = true;
  state.run = null;
  closePreview();
  changed();
}

// ---------- wiring ----------

$("search").addEventListener("input", renderCatalogue);
$("category").addEventListener("change", renderCatalogue);
$("save").addEventListener("click", save);
$("new").addEventListener("click", newPipeline);
$("trigger").addEventListener("click", openTrigger);
$("trigger-run").addEventListener("click", () => setTimeout(trigger));
$("upload-model").addEventListener("click", () => $("upload-dialog").showModal());
$("upload-close").addEventListener("click", () => $("upload-dialog").close());
$("upload-form").addEventListener("submit", uploadModel);
$("open-pipeline").addEventListener("change", (e) => e.target.value && openPipeline(e.target.value));
$("pipeline-name").addEventListener("change", () => changed(false));
$("description").addEventListener("change", () => changed(false));
$("params").addEventListener("change", () => changed(false));
$("register").addEventListener("change", () => changed(false));
$("canvas").addEventListener("keydown", (e) => {
  if ((e.key === "Delete" || e.key === "Backspace") && state.selected && e.target === $("canvas")) deleteNode(nodeById(state.selected));
});
$("canvas").addEventListener("scroll", renderEdges);
window.addEventListener("resize", renderEdges);

loadCatalogue().then(refreshPipelineList).then(() => {
  document.body.dataset.ready = "true";
  const name = new URLSearchParams(location.search).get("pipeline");
  if (name) openPipeline(name);
});
