// The supervisor dashboard: one EventSource on /api/events; every event carries one view's JSON and
// re-renders that section. No libraries, no outside resources.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const fmt = (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? "–"));
  return node;
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

const render = {
  contacts(items) {
    $("#contacts-count").textContent = items.length;
    rows("contacts", items, (c) => el("tr", { "data-contact": c.contact_id },
      el("td", {}, c.contact_id), el("td", {}, c.agent_id), el("td", {}, c.queue), el("td", {}, c.channel),
      el("td", {}, c.journey_stage), el("td", {}, c.turn), el("td", {}, sentiment(c.customer_score)),
      el("td", {}, ...c.alerts.map((a) => el("span", { class: `alert ${a.severity}`, title: a.summary }, a.rule)))));
  },
  alerts() {},  // alerts show on their contact's row (the contacts event follows every alert)
  escalations(items) {
    $("#escalations ol").replaceChildren(...items.map((e) => el("li", { "data-contact": e.contact_id },
      el("strong", {}, `P${e.priority} ${e.contact_id}`), ` → ${e.target_queue}: ${e.reason}`,
      el("small", {}, ` (${e.agent_id ?? "no agent"}, ${e.rule})`))));
  },
  accounts(items) {
    rows("accounts", items, (a) => el("tr", { "data-account": a.account_id },
      el("td", {}, a.account_id), el("td", {}, el("span", { class: `band ${a.band}` }, `${pct(a.probability)} ${a.band}`)),
      el("td", {}, a.reasons.join("; ") || "–")));
  },
  agents(items) {
    rows("agents", items, (a) => el("tr", { "data-agent": a.agent_id },
      el("td", {}, a.agent_id), el("td", {}, a.contacts), el("td", {}, a.stressful_contacts),
      el("td", {}, pct(a.de_escalation_rate)), el("td", {}, sentiment(a.mean_customer_end_score ?? 0)),
      el("td", {}, fmt(a.mean_quality_score, 1)), el("td", { class: a.flagged_for_review ? "flag" : "" },
        a.flagged_for_review)));
  },
  journey(cells) {
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
  quality(items) {
    rows("quality", items.slice(0, 20), (q) => el("tr", { "data-contact": q.contact_id, class: q.review ? "review" : "" },
      el("td", {}, q.contact_id), el("td", {}, q.agent_id), el("td", {}, q.queue), el("td", {}, fmt(q.score, 1)),
      el("td", {}, q.review_reasons.join(", ") || "–")));
  },
};

function connect() {
  const status = $("#status");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { status.textContent = "live"; status.className = "status live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; status.className = "status down"; });
  source.addEventListener("snapshot", (event) => {
    const views = JSON.parse(event.data);
    for (const [name, data] of Object.entries(views)) render[name](data);
    document.body.dataset.updates = "0";
  });
  for (const name of Object.keys(render)) {
    source.addEventListener(name, (event) => {
      render[name](JSON.parse(event.data));
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    });
  }
}

connect();
