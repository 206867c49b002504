// The supervisor dashboard: one EventSource on /api/events; every event carries one view's JSON and
// re-renders that section. Charts are plain inline SVG. No libraries, no outside resources.
// Memory stays bounded however long the page is open: every view is replaced (never appended to) by the
// server's bounded views, and the page keeps only the latest copy of each (`last`).
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const fmt = (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
const clock = (ms) => new Date(ms).toISOString().slice(11, 16);
const stamp = (ms) => new Date(ms).toISOString().slice(5, 16).replace("T", " ");  // MM-DD HH:MM
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const LABELS = ["negative", "neutral", "positive"];
const PALETTE = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#ad1457"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? "–"));
  return node;
}

// SVG is built as markup (every value escaped) and parsed by the HTML parser, which puts <svg> in its namespace.
function svg(markup) {
  const holder = document.createElement("div");
  holder.innerHTML = markup;
  return holder.firstElementChild;
}

function sentiment(score) {
  const cls = score > 0.2 ? "pos" : score < -0.2 ? "neg" : "neu";
  return el("span", { class: `badge ${cls}` }, fmt(score));
}

// Red (-1) through grey (0) to green (+1).
function heat(score) {
  const t = Math.max(-1, Math.min(1, score));
  const hue = t < 0 ? 0 : 130;
  return `hsl(${hue} ${Math.round(Math.abs(t) * 70)}% ${92 - Math.round(Math.abs(t) * 35)}%)`;
}

function rows(section, items, render) {
  const body = $(`#${section} tbody`);
  body.replaceChildren(...items.map(render));
}

// -- filters (queue, agent, channel), kept in the URL so a filtered view can be shared --------------------------
const FILTERS = { queue: "queue", agent: "agent_id", channel: "channel" };
const params = () => new URLSearchParams(location.search);
const filter = () => Object.fromEntries(Object.keys(FILTERS).map((k) => [k, params().get(k) || ""]));
const seen = { queue: new Set(), agent: new Set(), channel: new Set() };  // options, bounded below

function matches(row) {
  const f = filter();
  return Object.entries(FILTERS).every(([k, field]) => !f[k] || !(field in row) || row[field] === f[k]);
}

function learn(items) {
  for (const row of items) {
    for (const [k, field] of Object.entries(FILTERS)) {
      if (row[field] && seen[k].size < 500) seen[k].add(row[field]);
    }
  }
  const f = filter();
  for (const k of Object.keys(FILTERS)) {
    const select = $(`#filter-${k}`);
    const values = [...new Set([...seen[k], ...(f[k] ? [f[k]] : [])])].sort();
    if (select.options.length - 1 === values.length) { select.value = f[k]; continue; }
    select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
    select.value = f[k];
  }
}

function setParams(changes, push = false) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) (v ? p.set(k, v) : p.delete(k));
  const url = `${location.pathname}${p.toString() ? `?${p}` : ""}`;
  (push ? history.pushState : history.replaceState).call(history, null, "", url);
}

// -- charts ------------------------------------------------------------------------------------------------------
function sparkline(series, w = 180, h = 38) {
  const all = [...series.customer, ...series.agent];
  const turns = all.map((p) => p[0]).concat(series.markers.map((m) => m.turn));
  const lo = Math.min(...turns, 1), hi = Math.max(...turns, lo + 1);
  const x = (t) => (4 + ((t - lo) / (hi - lo)) * (w - 8)).toFixed(1);
  const y = (s) => (h / 2 - s * (h / 2 - 4)).toFixed(1);
  const line = (pts, cls) => (pts.length ? `<polyline class="${cls}" points="${pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" ")}"/>` +
    pts.map((p) => `<circle class="${cls}" cx="${x(p[0])}" cy="${y(p[1])}" r="1.8"/>`).join("") : "");
  const marks = series.markers.map((m) => (m.kind === "alert"
    ? `<path class="m-alert" d="M${x(m.turn)} 1 l4 7 h-8 z"><title>alert ${esc(m.label)} at turn ${m.turn}</title></path>`
    : `<rect class="m-esc" x="${x(m.turn) - 3.5}" y="${h - 8}" width="7" height="7" transform="rotate(45 ${x(m.turn)} ${h - 4.5})"><title>escalation at turn ${m.turn}</title></rect>`)).join("");
  const last = series.customer.length ? series.customer[series.customer.length - 1][0] : 0;
  return svg(`<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img"
    data-points="${series.customer.length}" data-last-turn="${last}" aria-label="customer sentiment per turn">
    <line class="zero" x1="0" x2="${w}" y1="${y(0)}" y2="${y(0)}"/>${line(series.agent, "s-agent")}${line(series.customer, "s-cust")}${marks}</svg>`);
}

function lineChart(lines, valueAt, { min, max, ticks, format }, start, end, w = 420, h = 170) {
  const left = 40, right = 10, top = 10, bottom = 22;
  const x = (t) => (left + ((t - start) / Math.max(1, end - start)) * (w - left - right)).toFixed(1);
  const y = (v) => (top + (1 - (v - min) / (max - min)) * (h - top - bottom)).toFixed(1);
  const grid = ticks.map((v) => `<line class="grid" x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}"/>` +
    `<text class="tick" x="${left - 4}" y="${Number(y(v)) + 3}" text-anchor="end">${format(v)}</text>`).join("");
  const when = end - start > 2 * 3600000 ? stamp : clock;
  const axis = `<text class="tick" x="${left}" y="${h - 6}">${when(start)}</text>` +
    `<text class="tick" x="${w - right}" y="${h - 6}" text-anchor="end">${when(end)}</text>`;
  const names = Object.keys(lines);
  const paths = names.map((name, i) => {
    const pts = lines[name];
    const color = PALETTE[i % PALETTE.length];
    const d = pts.map((p, j) => `${j ? "L" : "M"}${x(p[0])} ${y(valueAt(p))}`).join(" ");
    return `<g class="series" data-series="${esc(name)}" data-points="${pts.length}"><path d="${d}" stroke="${color}"/>` +
      pts.map((p) => `<circle cx="${x(p[0])}" cy="${y(valueAt(p))}" r="2.2" fill="${color}"><title>${esc(name)} ` +
        `${clock(p[0])}: ${format(valueAt(p))} (${p[3]} turns)</title></circle>`).join("") + "</g>";
  }).join("");
  const legend = names.map((name, i) => `<span class="lg"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(name)}</span>`).join("");
  const empty = names.length ? "" : `<text class="tick" x="${w / 2}" y="${h / 2}" text-anchor="middle">no turns in this window</text>`;
  const chart = svg(`<div><svg class="chart" viewBox="0 0 ${w} ${h}" role="img">${grid}${axis}${paths}${empty}</svg>` +
    `<div class="legend">${legend}</div></div>`);
  return chart;
}

function barChart(counts, w = 420, h = 170) {
  const bands = Object.keys(counts), top = Math.max(1, ...Object.values(counts));
  const bw = (w - 40) / bands.length;
  const bars = bands.map((b, i) => {
    const bh = ((h - 40) * counts[b]) / top, bx = 20 + i * bw + 8;
    return `<rect class="band-${esc(b)}" data-band="${esc(b)}" data-count="${counts[b]}" x="${bx}" y="${h - 22 - bh}" ` +
      `width="${bw - 16}" height="${bh}"/><text class="tick" x="${bx + (bw - 16) / 2}" y="${h - 8}" text-anchor="middle">${esc(b)}</text>` +
      `<text class="val" x="${bx + (bw - 16) / 2}" y="${h - 26 - bh}" text-anchor="middle">${counts[b]}</text>`;
  }).join("");
  return svg(`<svg class="chart" viewBox="0 0 ${w} ${h}" role="img">${bars}</svg>`);
}

// -- views -------------------------------------------------------------------------------------------------------
const last = {};  // the latest body of each view, re-rendered when the filter changes

const render = {
  contacts(all) {
    learn(all);
    const items = all.filter(matches);
    $("#contacts-count").textContent = items.length;
    rows("contacts", items, (c) => el("tr", { "data-contact": c.contact_id, class: "clickable",
                                             onclick: () => openContact(c.contact_id) },
      el("td", {}, c.contact_id), el("td", {}, c.agent_id), el("td", {}, c.queue), el("td", {}, c.channel),
      el("td", {}, c.journey_stage), el("td", {}, c.turn), el("td", {}, sentiment(c.customer_score)),
      el("td", { class: "timeline" }, sparkline(c.series || { customer: [], agent: [], markers: [] })),
      el("td", {}, ...c.alerts.map((a) => el("span", { class: `alert ${a.severity}`, title: a.summary }, a.rule)))));
    if (drill.id && drill.live) drill.refresh();
  },
  alerts() {},  // alerts show on their contact's row (the contacts event follows every alert)
  escalations(all) {
    learn(all);
    $("#escalations ol").replaceChildren(...all.filter(matches).map((e) => el("li", { "data-contact": e.contact_id,
                                                                                  class: "clickable", onclick: () => openContact(e.contact_id) },
      el("strong", {}, `P${e.priority} ${e.contact_id}`), ` → ${e.target_queue}: ${e.reason}`,
      el("small", {}, ` (${e.agent_id ?? "no agent"}, ${e.rule})`))));
  },
  accounts(all) {
    rows("accounts", all.filter(matches), (a) => el("tr", { "data-account": a.account_id },
      el("td", {}, a.account_id), el("td", {}, el("span", { class: `band ${a.band}` }, `${pct(a.probability)} ${a.band}`)),
      el("td", {}, a.reasons.join("; ") || "–")));
  },
  agents(all) {
    rows("agents", all.filter(matches), (a) => el("tr", { "data-agent": a.agent_id },
      el("td", {}, a.agent_id), el("td", {}, a.contacts), el("td", {}, a.stressful_contacts),
      el("td", {}, pct(a.de_escalation_rate)), el("td", {}, sentiment(a.mean_customer_end_score ?? 0)),
      el("td", {}, fmt(a.mean_quality_score, 1)), el("td", { class: a.flagged_for_review ? "flag" : "" },
        a.flagged_for_review)));
  },
  journey(all) {
    const cells = all.filter(matches);
    const stages = [...new Set(cells.map((c) => c.stage))].sort();
    const channels = [...new Set(cells.map((c) => c.channel))].sort();
    const byKey = new Map(cells.map((c) => [`${c.stage}|${c.channel}`, c]));
    $("#journey thead").replaceChildren(el("tr", {}, el("th", {}, "stage \\ channel"),
      ...channels.map((ch) => el("th", {}, ch))));
    $("#journey tbody").replaceChildren(...stages.map((stage) => el("tr", {}, el("th", {}, stage),
      ...channels.map((ch) => {
        const c = byKey.get(`${stage}|${ch}`);
        if (!c) return el("td", { class: "empty" }, "");
        const td = el("td", { "data-cell": `${stage}|${ch}`, title: `mean ${fmt(c.mean_score)}; ` +
          `neg ${c.distribution.negative} / neu ${c.distribution.neutral} / pos ${c.distribution.positive}` },
          el("b", {}, `drop ${pct(c.drop_off)}`), el("br"), `${c.contacts} contacts`);
        td.style.background = heat(c.mean_score);
        return td;
      }))));
  },
  quality(all) {
    learn(all);
    rows("quality", all.filter(matches).slice(0, 20), (q) => el("tr", { "data-contact": q.contact_id,
                                                                       class: `clickable ${q.review ? "review" : ""}`,
                                                                       onclick: () => openContact(q.contact_id) },
      el("td", {}, q.contact_id), el("td", {}, q.agent_id), el("td", {}, q.queue), el("td", {}, fmt(q.score, 1)),
      el("td", {}, q.review_reasons.join(", ") || "–")));
  },
  trends() { trends.soon(); },
};

// -- trends: fetched (they depend on the window and the filter), at most every 2 s while turns arrive ------------
const trends = {
  timer: null,
  soon() { if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.load(); }, 2000); },
  async load() {
    const p = new URLSearchParams({ window: $("#trend-window").value });
    for (const [k, v] of Object.entries(filter())) if (v) p.set(k, v);
    const response = await fetch(`/api/trends?${p}`);
    if (!response.ok) return;
    const t = await response.json();
    $("#trends-range").textContent = `${stamp(t.start)} – ${stamp(t.end)} UTC, ${t.bucket_ms / 60000}-minute buckets`;
    const score = { min: -1, max: 1, ticks: [-1, 0, 1], format: (v) => fmt(v, 1) };
    const share = { min: 0, max: 1, ticks: [0, 0.5, 1], format: pct };
    const put = (name, node) => $(`[data-chart="${name}"]`).replaceChildren(node);
    put("sentiment-queue", lineChart(t.queue, (p) => p[1], score, t.start, t.end));
    put("negative-queue", lineChart(t.queue, (p) => p[2], share, t.start, t.end));
    put("sentiment-channel", lineChart(t.channel, (p) => p[1], score, t.start, t.end));
    put("negative-channel", lineChart(t.channel, (p) => p[2], share, t.start, t.end));
    put("churn-bands", barChart(t.churn_bands));
    document.body.dataset.trendsLoaded = String(Number(document.body.dataset.trendsLoaded || 0) + 1);
  },
};

// -- drill-down: a contact's transcript, turn by turn ------------------------------------------------------------
const drill = {
  id: null, live: false, timer: null, saved: {},  // saved: turn -> the last save message, kept across refreshes
  refresh() { if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.load(); }, 1000); },
  async load() {
    const id = this.id;
    if (!id) return;
    const response = await fetch(`/api/contacts/${encodeURIComponent(id)}`);
    if (id !== this.id) return;
    $("#drill").hidden = false;
    $("#drill-id").textContent = id;
    if (!response.ok) {
      $("#drill-meta").textContent = response.status === 404 ? "not known (yet, or no longer remembered)" : `error ${response.status}`;
      $("#transcript").replaceChildren();
      return;
    }
    const c = await response.json();
    this.live = c.status === "live";
    $("#drill-meta").textContent = `${c.status} · agent ${c.agent_id ?? "–"} · ${c.queue ?? "–"} · ${c.channel} · ` +
      `account ${c.account_id ?? "–"}`;
    $("#drill").dataset.status = c.status;
    $("#drill-quality").replaceChildren(...qualityBox(c.quality));
    $("#drill-churn").replaceChildren(...churnBox(c.churn));
    $("#drill-events").replaceChildren(el("h3", {}, "Alerts and escalations"), el("ul", {},
      ...c.alerts.map((a) => el("li", { class: "alert-line" }, el("span", { class: `alert ${a.severity}` }, a.rule), ` ${a.summary ?? ""} (turn ${a.turn ?? "–"})`)),
      ...c.escalations.map((e) => el("li", { class: "esc-line" }, el("strong", {}, `P${e.priority} → ${e.target_queue}`), ` ${e.reason} (turn ${e.turn ?? "–"})`)),
      ...(c.alerts.length + c.escalations.length ? [] : [el("li", { class: "muted" }, "none")])));
    $("#transcript").replaceChildren(...c.turns.map((t) => turnItem(c, t)));
  },
};

function qualityBox(q) {
  if (!q) return [el("h3", {}, "Quality"), el("p", { class: "muted" }, "scored when the contact ends")];
  return [el("h3", {}, "Quality ", el("b", { class: q.review ? "flag" : "" }, fmt(q.score, 1)), " / 100"),
    el("table", { class: "criteria" }, el("tbody", {}, ...q.criteria.map((k) => el("tr", {},
      el("td", {}, k.name), el("td", {}, `${fmt(k.points, 1)} / ${fmt(k.weight, 0)}`), el("td", {}, k.detail))))),
    el("p", { class: "muted" }, q.review_reasons.length ? `review: ${q.review_reasons.join(", ")}` : "not flagged")];
}

function churnBox(r) {
  if (!r) return [el("h3", {}, "Churn risk"), el("p", { class: "muted" }, "no score for this account")];
  return [el("h3", {}, "Churn risk ", el("span", { class: `band ${r.band}` }, `${pct(r.probability)} ${r.band}`)),
    el("ul", {}, ...(r.reasons.length ? r.reasons : ["no reasons given"]).map((x) => el("li", {}, x)))];
}

function turnItem(c, t) {
  const label = el("span", { class: `badge ${t.label === "negative" ? "neg" : t.label === "positive" ? "pos" : "neu"}` },
    `${t.label} ${fmt(t.score)}`);
  const choose = el("select", { class: "correct-label", "aria-label": `right label for turn ${t.turn}` },
    ...LABELS.filter((l) => l !== t.label).map((l) => el("option", { value: l }, l)));
  const result = el("span", { class: `correct-result ${drill.saved[t.turn] ? "ok" : ""}` }, drill.saved[t.turn] ?? "");
  const button = el("button", { type: "button", class: "correct", onclick: async () => {
    button.disabled = true;
    result.textContent = "saving…";
    const response = await fetch("/api/corrections", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ contact_id: c.contact_id, turn: t.turn, label: choose.value }) });
    const body = await response.json().catch(() => ({}));
    button.disabled = false;
    result.textContent = response.ok ? `saved: ${body.corrected_label} (by ${body.corrected_by})` : `not saved: ${body.error ?? response.status}`;
    result.className = `correct-result ${response.ok ? "ok" : "failed"}`;
    if (response.ok) { drill.saved[t.turn] = result.textContent; drill.refresh(); }
  } }, "label is wrong");
  const extras = [
    ...t.guidance.map((g) => el("div", { class: "guidance" }, el("b", {}, "guidance shown: "),
      `${g.tone.join(", ")}${g.phrases.length ? ` — “${g.phrases.join("” / “")}”` : ""}`)),
    ...t.alerts.map((a) => el("div", { class: "turn-event" }, el("span", { class: `alert ${a.severity}` }, a.rule), ` ${a.summary ?? ""}`)),
    ...t.escalations.map((e) => el("div", { class: "turn-event" }, el("span", { class: "alert esc" }, "escalated"), ` → ${e.target_queue}: ${e.reason}`)),
    ...t.corrections.map((k) => el("div", { class: "corrected" }, `corrected to ${k.corrected_label} by ${k.corrected_by} at ${clock(k.event_time)}`)),
  ];
  return el("li", { class: `turn ${t.speaker}`, "data-turn": t.turn },
    el("div", { class: "turn-head" }, el("b", {}, `${t.turn} · ${t.speaker}`), label,
      el("span", { class: "emotions" }, ...t.emotions.map((e) => el("span", { class: "emo" }, `${e.name} ${fmt(e.score)}`))),
      el("small", { class: "muted" }, `${clock(t.event_time)} · model ${t.model_version ?? "–"}`)),
    el("p", { class: "text" }, t.text), ...extras,
    el("div", { class: "correct-box" }, choose, button, result));
}

function openContact(id, push = true) {
  if (drill.id !== id) drill.saved = {};
  drill.id = id;
  if (push) setParams({ contact: id }, true);
  drill.load();
  $("#drill").scrollIntoView({ block: "start" });
}

function closeContact() {
  drill.id = null;
  $("#drill").hidden = true;
  setParams({ contact: "" }, true);
}

// -- wiring ------------------------------------------------------------------------------------------------------
function applyFilter() {
  for (const [name, body] of Object.entries(last)) if (name !== "trends") render[name](body);
  trends.load();
}

function connect() {
  const status = $("#status");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { status.textContent = "live"; status.className = "status live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; status.className = "status down"; });
  source.addEventListener("snapshot", (event) => {
    const views = JSON.parse(event.data);
    for (const [name, data] of Object.entries(views)) { last[name] = data; render[name](data); }
    document.body.dataset.updates = "0";
  });
  for (const name of Object.keys(render)) {
    source.addEventListener(name, (event) => {
      last[name] = JSON.parse(event.data);
      render[name](last[name]);
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    });
  }
}

for (const k of Object.keys(FILTERS)) {
  $(`#filter-${k}`).addEventListener("change", (event) => { setParams({ [k]: event.target.value }); applyFilter(); });
}
$("#filter-clear").addEventListener("click", () => { setParams({ queue: "", agent: "", channel: "" }); applyFilter(); });
$("#trend-window").addEventListener("change", (event) => { setParams({ window: event.target.value }); trends.load(); });
$("#drill-close").addEventListener("click", closeContact);
window.addEventListener("popstate", () => {
  const id = params().get("contact");
  if (id) openContact(id, false); else { drill.id = null; $("#drill").hidden = true; }
  applyFilter();
});
$("#trend-window").value = params().get("window") === "day" ? "day" : "hour";
learn([]);
if (params().get("contact")) openContact(params().get("contact"), false);
trends.load();
connect();
