// The page's behaviour: pick or drop an image, POST it to /v1/restore with
// the chosen task, show the task and probabilities from the answer's
// headers, the two images under a before/after slider, and a download link.
// The state is on <main data-state>: idle, ready, working, done or error.
"use strict";

const TASKS = [ // in the API's order s b n j r h d
  ["sr", "Super-resolution (x4)"],
  ["blur", "Blur"],
  ["noise", "Noise"],
  ["jpeg", "JPEG artefacts"],
  ["rain", "Rain"],
  ["haze", "Haze"],
  ["dark", "Low light"],
];
const LABELS = Object.fromEntries(TASKS);
const EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"};

const $ = (id) => document.getElementById(id);
const app = $("app");
const fileInput = $("file");
const drop = $("drop");
const taskSelect = $("task");
const strengthSelect = $("strength");
const restoreButton = $("restore");
const statusLine = $("status");
const result = $("result");
const compare = $("compare");
const before = $("before");
const after = $("after");
const slider = $("slider");
const download = $("download");

let file = null;        // the chosen File
let beforeURL = null;   // object URLs, revoked when replaced
let afterURL = null;
let inflight = null;    // the AbortController of the request under way

function setState(state, message) {
  app.dataset.state = state;
  statusLine.textContent = message;
}

function choose(f) {
  if (!f) return;
  file = f;
  $("filename").textContent = `${f.name} (${(f.size / 1024).toFixed(0)} KiB)`;
  if (beforeURL) URL.revokeObjectURL(beforeURL);
  beforeURL = URL.createObjectURL(f);
  restoreButton.disabled = false;
  setState("ready", "Ready.");
  restore();
}

// restoredName is the upload's stem with "-restored" and the extension of
// the answer's format (the server, sent the bare file, does not know its
// name).
function restoredName(resp) {
  const stem = file.name.replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]/g, "_") || "image";
  return `${stem}-restored${EXTENSIONS[resp.headers.get("Content-Type")] || ".png"}`;
}

function parseProbabilities(header) {
  const probs = {};
  for (const part of (header || "").split(",")) {
    const [name, value] = part.split("=");
    if (name && value !== undefined) probs[name.trim()] = Number(value);
  }
  return probs;
}

function showTask(resp) {
  const task = resp.headers.get("X-Mioir-Task") || "";
  const auto = resp.headers.get("X-Mioir-Auto") === "true";
  const probs = parseProbabilities(resp.headers.get("X-Mioir-Probabilities"));
  const fallback = resp.headers.get("X-Mioir-Fallback");
  const detected = $("detected");
  detected.dataset.task = task;
  detected.textContent = task === "none" ? "none (image left unchanged)" : (LABELS[task] || task || "not applicable");
  let how = "as asked";
  if (auto && fallback) {
    how = task === "none" ? "the classifier's choice was refused" : "chosen by the guard's measurements";
  } else if (auto) {
    how = task in probs ? `chosen by the classifier (${(100 * probs[task]).toFixed(1)} %)` : "the classifier's choice was refused";
  }
  $("how").textContent = how;
  const strength = Number(resp.headers.get("X-Mioir-Strength") || "1");
  const predicted = strengthSelect.value === "0" && strength < 1;
  $("strength-used").textContent = `${Math.round(100 * strength)} %` + (predicted ? " (the model's estimate for this image)" : "");
  const fb = $("fallback");
  fb.hidden = !fallback;
  const verdict = task === "none" ? "the guard refused it" : `the guard used ${LABELS[task] || task} instead`;
  fb.textContent = fallback ? `The classifier chose ${fallback.replace(/^([\w ]+): /, "$1, but ")}; ${verdict}.` : "";

  const table = $("probs");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  table.hidden = Object.keys(probs).length === 0;
  for (const [name, label] of TASKS) {
    if (!(name in probs)) continue;
    const row = document.createElement("tr");
    row.dataset.task = name;
    if (name === task) row.className = "chosen";
    const th = document.createElement("td");
    th.textContent = label;
    const num = document.createElement("td");
    num.className = "num";
    num.textContent = `${(100 * probs[name]).toFixed(1)} %`;
    const barCell = document.createElement("td");
    barCell.className = "barcell";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${(100 * probs[name]).toFixed(1)}%`;
    barCell.append(bar);
    row.append(th, num, barCell);
    body.append(row);
  }
}

async function restore() {
  if (!file) return;
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  const task = taskSelect.value;
  const t0 = performance.now();
  setState("working", `Restoring ${file.name} (${taskSelect.selectedOptions[0].textContent})…`);
  try {
    const resp = await fetch(`v1/restore?task=${encodeURIComponent(task)}&strength=${encodeURIComponent(strengthSelect.value)}`, {
      method: "POST",
      body: file,
      headers: {"Content-Type": file.type || "application/octet-stream"},
      signal: controller.signal,
    });
    if (!resp.ok) {
      let message = `${resp.status} ${resp.statusText}`;
      try {
        const e = await resp.json();
        message = `${e.status} ${e.code}: ${e.message}`;
      } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    const blob = await resp.blob();
    if (afterURL) URL.revokeObjectURL(afterURL);
    afterURL = URL.createObjectURL(blob);
    showTask(resp);
    await Promise.all([load(before, beforeURL), load(after, afterURL)]);
    download.href = afterURL;
    download.download = restoredName(resp);
    download.textContent = `Download ${download.download}`;
    $("timing").textContent = `Restored in ${((performance.now() - t0) / 1000).toFixed(2)} s, ${resp.headers.get("X-Mioir-Tiles")} tile(s), ${(blob.size / 1024).toFixed(0)} KiB.`;
    result.hidden = false;
    setSlider(slider.value);
    setState("done", "Done.");
  } catch (err) {
    if (err.name === "AbortError") return;
    setState("error", `Could not restore ${file.name}: ${err.message}`);
  } finally {
    if (inflight === controller) inflight = null;
  }
}

// load sets an image's source and waits for it; a format the browser cannot
// show (TIFF) still leaves the download.
function load(img, url) {
  return new Promise((resolve) => {
    img.onload = () => resolve(true);
    img.onerror = () => {
      statusLine.textContent = "This browser cannot show the image's format; the download works.";
      resolve(false);
    };
    img.src = url;
  });
}

function setSlider(v) {
  compare.style.setProperty("--pos", `${v}%`);
  slider.setAttribute("aria-valuetext", `${v} % before, ${100 - v} % after`);
}

fileInput.addEventListener("change", () => choose(fileInput.files[0]));
restoreButton.addEventListener("click", restore);
taskSelect.addEventListener("change", () => { if (file) restore(); });
strengthSelect.addEventListener("change", () => { if (file) restore(); });
slider.addEventListener("input", () => setSlider(slider.value));

// Drag and drop anywhere on the drop zone.
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
}
for (const type of ["dragleave", "drop"]) {
  drop.addEventListener(type, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  choose(e.dataTransfer.files[0]);
});
// Clicking on the compared images moves the divider there.
compare.addEventListener("click", (e) => {
  const r = compare.getBoundingClientRect();
  slider.value = Math.round(100 * (e.clientX - r.left) / r.width);
  setSlider(slider.value);
});

// The model, from GET /v1/models.
fetch("v1/models").then((r) => r.json()).then((m) => {
  const model = m.models[0];
  $("model").textContent = `Model ${model.name}: ${model.config}, ${model.parameters.toLocaleString("en")} parameters, on ${model.device}; libtorch ${m.libtorch}, ${m.threads} threads; images up to ${(m.limits.max_pixels / 1e6).toFixed(0)} megapixels.`;
}).catch(() => { $("model").textContent = ""; });
