// The map page of `baresoil serve`: log in, draw an area, submit a job, watch it, see and download results.
"use strict";
const state = { token: null, job: null, overlay: null, drawing: null, area: null };
const $ = (id) => document.getElementById(id);
const map = L.map("map", { zoomControl: true }).setView([48, 10], 4);

function auth() { return { Authorization: "Bearer basic//" + state.token }; }
function say(text, isError) { $("status").textContent = text; $("status").className = isError ? "error" : ""; }

async function api(path, options) {
  const answer = await fetch(path, options);
  if (!answer.ok) {
    let message = answer.status + "";
    try { const body = await answer.json(); message = body.code + ": " + body.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return answer.status === 204 || answer.status === 201 || answer.status === 202 ? answer : answer.json();
}

async function showCollections() {
  const { collections } = await api("collections");
  const bounds = [];
  for (const c of collections) {
    $("collection").add(new Option(c.id, c.id));
    const [w, s, e, n] = c.extent.spatial.bbox[0];
    if (w > -180 || e < 180) {
      L.rectangle([[s, w], [n, e]], { color: "#555", weight: 1, fill: false, dashArray: "4" }).addTo(map)
        .bindTooltip(c.id);
      bounds.push([s, w], [n, e]);
    }
  }
  if (bounds.length) map.fitBounds(bounds);
}

function setArea(w, s, e, n) {
  $("west").value = w.toFixed(5); $("south").value = s.toFixed(5);
  $("east").value = e.toFixed(5); $("north").value = n.toFixed(5);
  drawArea();
}

function drawArea() {
  const [w, s, e, n] = ["west", "south", "east", "north"].map((k) => parseFloat($(k).value));
  if (state.area) { map.removeLayer(state.area); state.area = null; }
  if ([w, s, e, n].every(Number.isFinite) && w < e && s < n) {
    state.area = L.rectangle([[s, w], [n, e]], { color: "#d33", weight: 2, fillOpacity: 0.05 }).addTo(map);
  }
}

$("draw").onclick = () => { state.drawing = []; say("click two opposite corners on the map"); };
map.on("click", (event) => {
  if (!state.drawing) return;
  state.drawing.push(event.latlng);
  if (state.drawing.length === 2) {
    const [a, b] = state.drawing;
    state.drawing = null;
    setArea(Math.min(a.lng, b.lng), Math.min(a.lat, b.lat), Math.max(a.lng, b.lng), Math.max(a.lat, b.lat));
    say("area set");
  }
});
for (const k of ["west", "south", "east", "north"]) $(k).addEventListener("change", drawArea);

$("login-button").onclick = async () => {
  try {
    const basic = "Basic " + btoa($("user").value + ":" + $("password").value);
    const body = await api("credentials/basic", { headers: { Authorization: basic } });
    state.token = body.access_token;
    $("login-state").textContent = "logged in as " + $("user").value;
    $("login-state").className = "";
    $("submit").disabled = false;
  } catch (error) {
    $("login-state").textContent = error.message;
    $("login-state").className = "error";
  }
};

function nextDay(day) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function processGraph() {
  const extent = {};
  for (const k of ["west", "south", "east", "north"]) extent[k] = parseFloat($(k).value);
  const load = { process_id: "load_collection", arguments: {
    id: $("collection").value, spatial_extent: extent, temporal_extent: [$("start").value, nextDay($("end").value)] } };
  const product = $("product").value;
  let step;
  if (product === "soilsuite") {
    step = { process_id: "baresoil_soilsuite", arguments: { data: { from_node: "load" } } };
  } else {
    const reducer = { process_graph: { median: { process_id: "median",
      arguments: { data: { from_parameter: "data" } }, result: true } } };
    step = { process_id: "aggregate_temporal_period", arguments: {
      data: { from_node: "load" }, period: product === "composite-dekad" ? "dekad" : "month", reducer } };
  }
  const save = { process_id: "save_result", arguments: { data: { from_node: "step" }, format: "GTiff" }, result: true };
  return { load, step, save };
}

$("submit").onclick = async () => {
  try {
    const created = await api("jobs", { method: "POST", headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ title: "viewer: " + $("product").value, process: { process_graph: processGraph() } }) });
    state.job = created.headers.get("OpenEO-Identifier");
    await api("jobs/" + state.job + "/results", { method: "POST", headers: auth() });
    say("job " + state.job + " queued");
    poll(state.job);
  } catch (error) { say(error.message, true); }
};

async function poll(jobId) {
  try {
    const job = await api("jobs/" + jobId, { headers: auth() });
    $("progress").value = job.progress || 0;
    say("job " + jobId + ": " + job.status + (job.message ? " (" + job.message + ")" : ""), job.status === "error");
    if (job.status === "finished") return showResults(jobId);
    if (job.status === "queued" || job.status === "running") setTimeout(() => poll(jobId), 700);
  } catch (error) { say(error.message, true); }
}

async function showResults(jobId) {
  const results = await api("jobs/" + jobId + "/results", { headers: auth() });
  const names = Object.keys(results.assets).sort();
  $("layer").innerHTML = "";
  $("assets").innerHTML = "<b>Downloads</b>";
  for (const name of names) {
    const link = document.createElement("a");
    link.href = results.assets[name].href + "?token=" + encodeURIComponent("basic//" + state.token);
    link.textContent = name;
    link.download = name;
    $("assets").appendChild(link);
    if (name.endsWith(".tif")) $("layer").add(new Option(name.replace(/\.tif$/, ""), name));
  }
  const [w, s, e, n] = results.extent.spatial.bbox[0];
  map.fitBounds([[s, w], [n, e]]);
  showLayer();
}

async function showLayer() {
  const name = $("layer").value;
  if (!name || !state.job) return;
  const base = "jobs/" + state.job + "/results/";
  const token = "?token=" + encodeURIComponent("basic//" + state.token);
  if (state.overlay) map.removeLayer(state.overlay);
  state.overlay = L.tileLayer(base + "tiles/" + encodeURIComponent(name) + "/{z}/{x}/{y}.png" + token,
    { maxZoom: 22, opacity: 0.9 }).addTo(map);
  const lg = await api(base + "legend/" + encodeURIComponent(name) + token);
  const box = $("legend");
  box.innerHTML = "<b>" + lg.title + "</b>" + (lg.unit ? " (" + lg.unit + ")" : "");
  if (lg.classes) {
    for (const c of lg.classes) {
      box.insertAdjacentHTML("beforeend", '<div><span class="swatch" style="background:' + c.colour + '"></span>' +
        c.value + " " + c.label + "</div>");
    }
  } else if (lg.kind === "ramp") {
    box.insertAdjacentHTML("beforeend", '<div class="ramp" style="background:linear-gradient(to right,' +
      lg.colours.join(",") + ')"></div><div>' + lg.min.toPrecision(3) + " … " + lg.max.toPrecision(3) + "</div>");
  } else {
    box.insertAdjacentHTML("beforeend", "<div>true colour " + lg.bands.join(", ") + ", 0 … " + lg.max + "</div>");
  }
}
$("layer").addEventListener("change", showLayer);

showCollections().catch((error) => say(error.message, true));
