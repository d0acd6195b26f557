/// The dashboard's one page: plain HTML, CSS and JavaScript in the binary, no framework, no build
/// step, nothing fetched from elsewhere. `/` lists jobs and charts; `/jobs/<id>` shows one job's
/// timeline. Both follow `/api/events` live and reload their list when the feed reconnects.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>golem-bridge</title>
<style>
:root { --bg:#f7f7f5; --fg:#1d1d1f; --muted:#6b6b70; --line:#dcdcd8; --ok:#1f7a3d; --bad:#b3261e; --run:#1c5fb8; --wait:#8a6d00; --cancel:#6b4fa0; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1.5rem; align-items:baseline; padding:.8rem 1.2rem; border-bottom:1px solid var(--line); background:#fff; }
header h1 { font-size:1.1rem; margin:0; } header a { color:inherit; text-decoration:none; }
.counts span { margin-right:1rem; color:var(--muted); } .counts b { color:var(--fg); }
main { padding:1rem 1.2rem; max-width:1200px; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(300px, 1fr)); gap:1rem; margin-bottom:1rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.6rem .8rem; }
.card h2 { font-size:.85rem; margin:0 0 .4rem; color:var(--muted); font-weight:600; } .peak { font-weight:400; }
svg { width:100%; height:90px; display:block; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid var(--line); white-space:nowrap; }
td.error, td.outcome { white-space:normal; max-width:28rem; } td.error { color:var(--bad); }
th { font-size:.8rem; color:var(--muted); font-weight:600; }
.phase { font-weight:600; }
.phase.succeeded { color:var(--ok); } .phase.failed { color:var(--bad); } .phase.running { color:var(--run); }
.phase.waiting { color:var(--wait); } .phase.canceled { color:var(--cancel); }
.filters { display:flex; gap:1rem; align-items:center; margin:.6rem 0; flex-wrap:wrap; }
.filters label { color:var(--muted); }
input[type=text], input[type=password] { padding:.25rem .4rem; border:1px solid var(--line); border-radius:4px; }
button { padding:.3rem .8rem; border-radius:4px; border:1px solid var(--bad); background:#fff; color:var(--bad); cursor:pointer; }
button:disabled { border-color:var(--line); color:var(--muted); cursor:not-allowed; }
.timeline { list-style:none; padding:0; margin:0; } .timeline li { padding:.3rem 0; border-bottom:1px dashed var(--line); }
.timeline time { color:var(--muted); margin-right:.8rem; font-variant-numeric:tabular-nums; }
.live { font-size:.8rem; color:var(--muted); } .live.on::before { content:"● "; color:var(--ok); }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:0; } dl.kv dt { color:var(--muted); }
#backend[hidden], #cancel-box[hidden] { display:none; }
</style>
</head>
<body>
<header>
  <h1><a href="/">golem-bridge</a></h1>
  <div class="counts" id="counts"></div>
  <span class="live" id="live">connecting</span>
</header>
<main id="main"></main>
<template id="list-view">
  <section class="charts">
    <div class="card"><h2>Jobs/s, last hour <span class="peak" id="chart-rate-peak"></span></h2><svg id="chart-rate" viewBox="0 0 600 90" preserveAspectRatio="none"></svg></div>
    <div class="card"><h2>Latency (mean, max), seconds <span class="peak" id="chart-latency-peak"></span></h2><svg id="chart-latency" viewBox="0 0 600 90" preserveAspectRatio="none"></svg></div>
    <div class="card"><h2>Errors and cancels per minute <span class="peak" id="chart-errors-peak"></span></h2><svg id="chart-errors" viewBox="0 0 600 90" preserveAspectRatio="none"></svg></div>
    <div class="card" id="backend" hidden><h2>Golem rental pool</h2><dl class="kv" id="backend-kv"></dl></div>
  </section>
  <div class="filters">
    <label>State
      <select id="filter-state">
        <option value="">all</option><option value="running,waiting">running + waiting</option>
        <option value="running">running</option><option value="waiting">waiting</option>
        <option value="succeeded">succeeded</option><option value="failed">failed</option><option value="canceled">canceled</option>
      </select></label>
    <label>Label <input type="text" id="filter-label" placeholder="key=value" size="18"></label>
  </div>
  <table><thead><tr><th>Job</th><th>State</th><th>Attempt</th><th>Provider</th><th>Duration</th><th>Outcome</th><th>Labels</th></tr></thead>
  <tbody id="jobs"></tbody></table>
</template>
<template id="job-view">
  <p><a href="/">← all jobs</a></p>
  <div class="card"><h2 id="job-title"></h2><dl class="kv" id="job-kv"></dl></div>
  <div class="card" id="cancel-box" style="margin-top:1rem">
    <h2>Cancel</h2>
    <input type="password" id="token" placeholder="dashboard token" size="30">
    <button id="cancel" disabled>Cancel job</button> <span id="cancel-result"></span>
  </div>
  <div class="card" style="margin-top:1rem"><h2>Timeline</h2><ol class="timeline" id="timeline"></ol></div>
</template>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; };
const fmtDuration = (s) => s < 1 ? (s * 1000).toFixed(0) + " ms" : s < 120 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
const fmtTime = (t) => new Date(t).toLocaleTimeString();
// GLM to 6 significant digits: enough to see a debit note move, no binary-float tail.
const fmtGLM = (v) => String(Number(v.toPrecision(6)));
const jobPath = location.pathname.startsWith("/jobs/") ? decodeURIComponent(location.pathname.slice(6)) : null;
let canCancel = false;

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
  return r.json();
}

function showCounts(counts) {
  const box = $("counts"); box.replaceChildren();
  for (const [k, v] of Object.entries(counts)) { const s = el("span", k + " "); s.append(el("b", String(v))); s.dataset.phase = k; box.append(s); }
}

// ---------- list ----------
function filterQuery() {
  const q = new URLSearchParams();
  const st = $("filter-state").value, lb = $("filter-label").value.trim();
  if (st) q.set("state", st);
  if (lb.includes("=")) q.set("label", lb);
  return q;
}
function matchesFilter(job) {
  const st = $("filter-state").value, lb = $("filter-label").value.trim();
  if (st && !st.split(",").includes(job.phase)) return false;
  if (lb.includes("=")) { const i = lb.indexOf("="); if (job.labels[lb.slice(0, i)] !== lb.slice(i + 1)) return false; }
  return true;
}
function row(job) {
  const tr = el("tr"); tr.dataset.jobId = job.jobId; tr.dataset.phase = job.phase;
  if (!job.endedAt) tr.dataset.since = String(Date.now() - job.duration * 1000);
  const a = el("a", job.jobId); a.href = "/jobs/" + encodeURIComponent(job.jobId);
  const id = el("td"); id.append(a); tr.append(id);
  tr.append(el("td", job.phase, "phase " + job.phase), el("td", String(job.attempt)), el("td", job.provider || "–"),
            el("td", fmtDuration(job.duration), "duration"), el("td", job.error || (job.phase === "succeeded" ? "success" : ""), job.error ? "error" : "outcome"),
            el("td", Object.entries(job.labels).map(([k, v]) => k + "=" + v).join(" ")));
  return tr;
}
function upsertRow(job) {
  const body = $("jobs"); if (!body) return;
  const old = body.querySelector(`tr[data-job-id="${CSS.escape(job.jobId)}"]`);
  if (!matchesFilter(job)) { if (old) old.remove(); return; }
  if (old) old.replaceWith(row(job)); else body.prepend(row(job));
}
async function loadList() {
  const data = await getJSON("/api/jobs?" + filterQuery());
  canCancel = data.canCancel; showCounts(data.counts);
  $("jobs").replaceChildren(...data.jobs.map(row));
}
function chart(svg, series, colors) {
  const max = Math.max(0, ...series.flat());
  // Text goes beside the SVG, which is stretched to the card's width.
  $(svg.id + "-peak").textContent = max === 0 ? "· none ended" : "· peak " + Number(max.toPrecision(3));
  if (max === 0) { svg.replaceChildren(); return; }
  const n = series[0].length, w = 600 / n;
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  series.forEach((values, si) => values.forEach((v, i) => {
    if (v <= 0) return;
    const r = document.createElementNS(ns, "rect");
    const h = Math.max(1, v / max * 80);
    r.setAttribute("x", i * w + si * w / series.length); r.setAttribute("width", Math.max(2, w / series.length - 1));
    r.setAttribute("y", 88 - h); r.setAttribute("height", h); r.setAttribute("fill", colors[si]);
    const t = document.createElementNS(ns, "title"); t.textContent = v.toFixed(3); r.append(t);
    svg.append(r);
  }));
}
async function loadStats() {
  const s = await getJSON("/api/stats");
  showCounts(s.counts);
  const m = s.minutes;
  chart($("chart-rate"), [m.map(b => b.jobsPerSecond)], ["#1c5fb8"]);
  chart($("chart-latency"), [m.map(b => b.latencyMean), m.map(b => b.latencyMax)], ["#1f7a3d", "#9ac9a8"]);
  chart($("chart-errors"), [m.map(b => b.failed), m.map(b => b.canceled)], ["#b3261e", "#6b4fa0"]);
  if (s.backend) {
    const b = s.backend, kv = $("backend-kv"); $("backend").hidden = false; kv.replaceChildren();
    const rows = [["idle", b.idle], ["lent", b.lent], ["being created", b.creating], ["agreements", b.agreements],
                  ["GLM budget", fmtGLM(b.budget)], ["GLM reserved", fmtGLM(b.reserved)],
                  ["GLM spent", b.spent == null ? "–" : fmtGLM(b.spent) + " of " + fmtGLM(b.budget)]];
    for (const [k, v] of rows) kv.append(el("dt", k), el("dd", String(v)));
  }
}

// ---------- one job ----------
let job = null;
function showJob(j) {
  job = j;
  $("job-title").textContent = "Job " + j.jobId;
  const kv = $("job-kv"); kv.replaceChildren();
  const rows = [["state", j.phase], ["contract state", j.state], ["attempt", j.attempt], ["provider", j.provider || "–"],
                ["duration", fmtDuration(j.duration)], ["outcome", j.error || (j.phase === "succeeded" ? "success" : "–")],
                ["labels", Object.entries(j.labels).map(([k, v]) => k + "=" + v).join(" ") || "–"]];
  for (const [k, v] of rows) { kv.append(el("dt", k)); const dd = el("dd", String(v)); if (k === "state") { dd.className = "phase " + j.phase; dd.id = "job-phase"; } kv.append(dd); }
  $("cancel-box").hidden = !canCancel;
  $("cancel").disabled = !canCancel || ["succeeded", "failed", "canceled"].includes(j.phase);
}
function addStep(step) {
  const li = el("li"); li.dataset.kind = step.kind;
  li.append(el("time", fmtTime(step.time)), el("b", step.kind), document.createTextNode(" attempt " + step.attempt + (step.detail ? " · " + step.detail : "")));
  $("timeline").append(li);
}
async function loadJob() {
  const stats = await getJSON("/api/stats"); canCancel = stats.canCancel; showCounts(stats.counts);
  try {
    const j = await getJSON("/api/jobs/" + encodeURIComponent(jobPath));
    showJob(j); $("timeline").replaceChildren(); j.timeline.forEach(addStep);
  } catch (e) { $("job-title").textContent = e.message; }
}
async function cancelJob() {
  const token = $("token").value; sessionStorage.setItem("golem-bridge-token", token);
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch("/api/jobs/" + encodeURIComponent(jobPath) + "/cancel", { method: "POST", headers });
  const body = await r.json().catch(() => ({}));
  $("cancel-result").textContent = r.ok ? "cancel requested" : r.status + ": " + (body.error || r.statusText);
  $("cancel-result").dataset.status = r.status;
}

// Counts and charts follow the feed too, at most once a second.
let statsPending = false;
function refreshStatsSoon() {
  if (statsPending) return;
  statsPending = true;
  setTimeout(() => { statsPending = false; (jobPath ? getJSON("/api/stats").then(s => showCounts(s.counts)) : loadStats()).catch(console.error); }, 1000);
}

// ---------- live feed ----------
function follow() {
  const src = new EventSource("/api/events" + (jobPath ? "?job=" + encodeURIComponent(jobPath) : ""));
  // Each (re)connect reloads, so nothing missed while away stays missing.
  src.addEventListener("hello", () => { $("live").textContent = "live"; $("live").className = "live on"; (jobPath ? loadJob() : loadList()).catch(console.error); });
  src.addEventListener("job", (e) => {
    const u = JSON.parse(e.data);
    refreshStatsSoon();
    if (jobPath) { if (u.job.jobId === jobPath) { showJob(Object.assign(job || {}, u.job)); addStep(u.step); } }
    else { upsertRow(u.job); }
  });
  src.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "live"; };
}

if (jobPath) {
  $("main").append($("job-view").content.cloneNode(true));
  $("token").value = sessionStorage.getItem("golem-bridge-token") || "";
  $("cancel").addEventListener("click", cancelJob);
} else {
  $("main").append($("list-view").content.cloneNode(true));
  $("filter-state").addEventListener("change", () => loadList().catch(console.error));
  $("filter-label").addEventListener("change", () => loadList().catch(console.error));
  loadStats().catch(console.error);
  setInterval(() => loadStats().catch(console.error), 5000);
  // Jobs not ended yet: their duration runs on.
  setInterval(() => {
    for (const tr of document.querySelectorAll("#jobs tr[data-since]")) tr.querySelector("td.duration").textContent = fmtDuration((Date.now() - Number(tr.dataset.since)) / 1000);
  }, 1000);
}
follow();
</script>
</body>
</html>
"""#
}
