// The page for policy staff: screens through the JSON API and shows why. Listing text is only
// ever put on the page as text (never as HTML). The API key, when one is needed, stays in
// this tab: in memory, and in sessionStorage if the user ticks "remember".
"use strict";

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
  const MESSAGES = JSON.parse($("#messages").textContent);
  const CONFIG = JSON.parse($("#config").textContent);
  const KEY_ITEM = "akar-gate-key";
  const LANG_ITEM = "akar-gate-lang";
  const DECISIONS = ["block", "review", "allow"];

  let lang = localStorage.getItem(LANG_ITEM) === "en" ? "en" : CONFIG.lang;
  let key = sessionStorage.getItem(KEY_ITEM) || "";
  let policy = null;
  let model = null;
  let single = null; // {listing, result} of the one-listing form
  let rows = []; // batch: {n, listing, result, p_import, p_block}
  let sort = { key: "n", dir: 1 };
  let batchSeconds = null;

  // --- text
  function t(name, ...args) {
    const s = MESSAGES[lang][name] ?? MESSAGES.id[name] ?? name;
    return s.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
  }
  const label = (prefix, value) => (MESSAGES[lang][prefix + value] ? t(prefix + value) : value);
  const pct = (p) => (p === null || p === undefined ? "–" : (100 * p).toFixed(1) + "%");
  const num = (p) => (p === null || p === undefined ? "" : p.toFixed(4));
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function translate(root = document) {
    $$("[data-i18n]", root).forEach((n) => { n.textContent = t(n.dataset.i18n); });
    $$("[data-i18n-placeholder]", root).forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
    $$("[data-i18n-label]", root).forEach((n) => n.setAttribute("aria-label", t(n.dataset.i18nLabel)));
  }

  function setLanguage(code) {
    lang = code;
    localStorage.setItem(LANG_ITEM, code);
    document.documentElement.lang = code;
    $("#lang-button").lang = code === "id" ? "en" : "id";
    translate();
    renderMeta();
    if (single) renderDetail($("#single-result"), single.listing, single.result);
    if (rows.length) renderBatch();
  }

  // --- API
  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && body.detail !== undefined ? body.detail : body;
      super(typeof detail === "string" ? detail : JSON.stringify(detail));
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers.Authorization = "Bearer " + key;
    const response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401 || response.status === 403) askKey(response.status);
      throw new ApiError(response.status, data);
    }
    return data;
  }

  // A model file as a URL the page can use: with a key it is fetched and held as a blob.
  async function fileUrl(name) {
    const path = "ui/model/" + encodeURIComponent(name);
    if (!key) return path;
    const response = await fetch(path, { headers: { Authorization: "Bearer " + key } });
    if (!response.ok) throw new ApiError(response.status, null);
    return URL.createObjectURL(await response.blob());
  }

  function showError(node, error) {
    node.replaceChildren();
    const details = error.body && Array.isArray(error.body.detail) ? error.body.detail : null;
    if (details) {
      for (const d of details.slice(0, 20)) {
        const loc = (d.loc || []).filter((p) => p !== "body");
        const text = loc.join(".") + ": " + d.msg;
        // ["listings", 3, "title"] is row 4 of the input
        node.append(el("p", {}, loc[0] === "listings" ? t("row_error", loc[1] + 1, loc.slice(2).join(".") + ": " + d.msg) : text));
      }
    } else node.append(el("p", {}, error.status ? t("error", error.status, error.message) : String(error.message || error)));
    node.hidden = false;
  }

  // --- decisions
  function pProtected(result) {
    if (!result.cluster || !policy) return null;
    return policy.protected_clusters.reduce((s, c) => s + (result.cluster.scores[c] || 0), 0);
  }
  function pBlock(result) {
    const p = pProtected(result);
    return p === null || !result.origin ? null : p * result.origin.import_probability;
  }

  function evidence(result) {
    const out = { cluster: result.cluster ? result.cluster.evidence : [], origin: [], fields: [] };
    for (const e of result.origin ? result.origin.evidence : []) {
      const term = /^title: '(.*)'$/.exec(e);
      if (term) out.origin.push(term[1]);
      else if (e.startsWith("title_marker: ")) out.origin.push(e.slice("title_marker: ".length));
      else out.fields.push(e);
    }
    return out;
  }

  // Marks every whole-word occurrence of the evidence terms in the title, as text nodes;
  // overlapping terms of one kind share one mark ("tas rajut" + "rajut handmade").
  function highlight(node, title, terms) {
    const spans = [];
    for (const { term, kind } of terms) {
      const body = term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
      const before = /^[\p{L}\p{N}]/u.test(term) ? "(?<![\\p{L}\\p{N}])" : "";
      const after = /[\p{L}\p{N}]$/u.test(term) ? "(?![\\p{L}\\p{N}])" : "";
      for (const m of title.matchAll(new RegExp(before + body + after, "giu"))) {
        spans.push({ start: m.index, end: m.index + m[0].length, terms: [term], kind });
      }
    }
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const marks = [];
    for (const s of spans) {
      const last = marks[marks.length - 1];
      if (last && s.start < last.end) {
        if (s.kind === last.kind) {
          last.end = Math.max(last.end, s.end);
          last.terms.push(...s.terms);
          continue;
        }
        if (s.end <= last.end) continue;
        s.start = last.end;
      }
      marks.push(s);
    }
    node.replaceChildren();
    let at = 0;
    for (const s of marks) {
      node.append(title.slice(at, s.start));
      node.append(el("mark", { className: "ev-" + s.kind, dataset: { terms: s.terms.join("|") } }, title.slice(s.start, s.end)));
      at = s.end;
    }
    node.append(title.slice(at));
  }

  function gauge(name, value, zones) {
    const th = policy.thresholds;
    const track = el("div", { className: "track" + (zones ? " zoned" : "") });
    if (zones) {
      track.append(
        el("span", { className: "zone allow" }), el("span", { className: "zone review" }),
        el("span", { className: "zone block" }));
      track.children[0].style.width = 100 * th.allow + "%";
      track.children[1].style.width = 100 * (th.block - th.allow) + "%";
      track.children[2].style.width = 100 * (1 - th.block) + "%";
    }
    for (const [which, at] of [["allow", th.allow], ["block", th.block]]) {
      const line = el("span", { className: "line line-" + which, dataset: { value: at }, title: which + " " + at });
      line.style.left = 100 * at + "%";
      track.append(line);
    }
    if (value !== null) {
      const marker = el("span", { className: "marker", dataset: { value } });
      marker.style.left = 100 * value + "%";
      track.append(marker);
    }
    return el("div", { className: "gauge", dataset: { gauge: name } },
      el("span", { className: "gauge-label" }, t(name)), track,
      el("span", { className: "gauge-value" }, value === null ? "" : value.toFixed(3)));
  }

  function renderDetail(container, listing, result) {
    const view = $("#detail-tpl").content.firstElementChild.cloneNode(true);
    translate(view);
    const f = (name) => $(`[data-f="${name}"]`, view);
    const decision = result.decision;
    f("verdict").classList.add("d-" + decision);
    f("verdict").dataset.decision = decision;
    f("decision").textContent = label("decision_", decision);
    for (const r of result.reasons) f("reasons").append(el("li", { dataset: { reason: r }, title: r }, label("reason_", r)));
    if (result.shadow_decision) {
      f("shadow").textContent = t("shadow_note", label("decision_", result.shadow_decision));
      f("shadow").hidden = false;
    }
    const ev = evidence(result);
    highlight(f("title"), listing.title.trim(), [
      ...ev.origin.map((term) => ({ term, kind: "origin" })),
      ...ev.cluster.map((term) => ({ term, kind: "cluster" })),
    ]);
    if (!result.cluster || !result.origin) {
      f("formula").textContent = t("no_model_result");
      container.replaceChildren(view);
      return;
    }
    const best = result.cluster.label;
    for (const [c, p] of Object.entries(result.cluster.scores)) {
      const bar = el("span", { className: "fill" });
      bar.style.width = 100 * p + "%";
      const isProtected = policy && policy.protected_clusters.includes(c);
      f("bars").append(el("li", { className: c === best ? "best" : "", dataset: { cluster: c, value: p } },
        el("span", { className: "bar-label" }, label("cluster_", c),
          isProtected ? el("small", {}, " · " + t("protected")) : null),
        el("span", { className: "bar" }, bar), el("span", { className: "bar-value" }, pct(p))));
    }
    if (policy) {
      f("gauges").append(
        gauge("p_protected", pProtected(result), false),
        gauge("p_import", result.origin.import_probability, false),
        gauge("p_block", pBlock(result), true));
      f("formula").textContent = t("p_block_formula", policy.thresholds.allow, policy.thresholds.block);
    }
    f("origin").textContent = `${label("origin_", result.origin.label)} (${pct(result.origin.import_probability)} ${t("p_import")})`;
    for (const field of ev.fields) {
      const [name, value] = field.split("=");
      f("fields").append(el("li", { dataset: { field } }, el("span", {}, label("field_", name) + ": "), el("code", {}, value ?? "")));
    }
    if (!ev.fields.length) f("fields").append(el("li", { className: "muted" }, t("origin_fields_none")));
    const chips = [...ev.origin.map((x) => ["origin", x]), ...ev.cluster.map((x) => ["cluster", x])];
    for (const [kind, term] of chips) f("terms").append(el("mark", { className: "ev-" + kind }, term), " ");
    if (!chips.length) f("terms").append(el("span", { className: "muted" }, t("evidence_none")));
    container.replaceChildren(view);
  }

  // --- one listing
  function formListing(form) {
    const data = new FormData(form);
    const text = (name) => String(data.get(name) || "").trim();
    const listing = { title: text("title") };
    if (text("category")) listing.category = text("category");
    if (text("description")) listing.description = text("description");
    const seller = {};
    if (text("seller_country")) seller.country = text("seller_country").toUpperCase();
    if (data.get("cross_border")) seller.cross_border = true;
    if (Object.keys(seller).length) listing.seller = seller;
    if (text("ship_from_country")) listing.ship_from = { country: text("ship_from_country").toUpperCase() };
    return listing;
  }

  async function screenOne(event) {
    event.preventDefault();
    const form = event.target;
    const error = $("#single-error");
    error.hidden = true;
    const listing = formListing(form);
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      if (!policy) await loadMeta();
      const result = await api("v1/screen", listing);
      single = { listing, result };
      renderDetail($("#single-result"), listing, result);
    } catch (e) {
      showError(error, e);
    } finally {
      button.disabled = false;
    }
  }

  // --- many listings
  async function screenMany(event) {
    event.preventDefault();
    const error = $("#batch-error");
    const status = $("#batch-status");
    error.hidden = true;
    delete status.dataset.seconds;
    const listings = AkarCsv.listings($("#batch-text").value);
    if (!listings.length) return showError(error, new Error(t("no_rows")));
    if (listings.length > CONFIG.maxBatch) {
      return showError(error, new Error(t("too_many", CONFIG.maxBatch, listings.length)));
    }
    status.textContent = t("screening");
    const started = performance.now();
    try {
      if (!policy) await loadMeta();
      const answer = await api("v1/screen/batch", { listings });
      rows = answer.results.map((result, i) => ({
        n: i + 1, listing: listings[i], result,
        p_import: result.origin ? result.origin.import_probability : null, p_block: pBlock(result),
      }));
      renderBatch();
      batchSeconds = (performance.now() - started) / 1000;
      status.textContent = t("screened", rows.length, batchSeconds.toFixed(2));
      status.dataset.seconds = batchSeconds;
    } catch (e) {
      status.textContent = "";
      showError(error, e);
    }
  }

  function options(select, values, labelOf) {
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, t("filter_all")),
      ...values.map((v) => el("option", { value: v }, labelOf(v))));
    select.value = values.includes(current) ? current : "";
  }

  const sortValue = {
    n: (r) => r.n, listing_id: (r) => r.result.listing_id || "", title: (r) => r.listing.title.toLowerCase(),
    decision: (r) => DECISIONS.indexOf(r.result.decision), cluster: (r) => (r.result.cluster ? r.result.cluster.label : ""),
    p_import: (r) => r.p_import ?? -1, p_block: (r) => r.p_block ?? -1,
  };

  function visibleRows() {
    const d = $("#f-decision").value, c = $("#f-cluster").value, reason = $("#f-reason").value;
    const by = sortValue[sort.key];
    return rows.filter((r) => (!d || r.result.decision === d)
        && (!c || (r.result.cluster && r.result.cluster.label === c))
        && (!reason || r.result.reasons.includes(reason)))
      .sort((a, b) => (by(a) < by(b) ? -1 : by(a) > by(b) ? 1 : a.n - b.n) * sort.dir);
  }

  function renderBatch() {
    $("#batch-results").hidden = false;
    const present = (f) => [...new Set(rows.map(f).filter(Boolean))].sort();
    options($("#f-decision"), DECISIONS.filter((d) => rows.some((r) => r.result.decision === d)), (v) => label("decision_", v));
    options($("#f-cluster"), present((r) => r.result.cluster && r.result.cluster.label), (v) => label("cluster_", v));
    options($("#f-reason"), [...new Set(rows.flatMap((r) => r.result.reasons))].sort(), (v) => label("reason_", v));
    renderTable();
  }

  function renderTable() {
    const shown = visibleRows();
    const body = document.createDocumentFragment();
    for (const r of shown) {
      const res = r.result;
      body.append(el("tr", { dataset: { n: r.n, decision: res.decision } },
        el("td", {}, String(r.n)), el("td", {}, res.listing_id || ""),
        el("td", {}, el("button", { type: "button", className: "link", dataset: { n: r.n } }, r.listing.title)),
        el("td", {}, el("span", { className: "badge d-" + res.decision }, label("decision_", res.decision))),
        el("td", { dataset: { cluster: res.cluster ? res.cluster.label : "" } }, res.cluster ? label("cluster_", res.cluster.label) : ""),
        el("td", { className: "num" }, num(r.p_import)), el("td", { className: "num" }, num(r.p_block)),
        el("td", {}, res.reasons.map((x) => label("reason_", x)).join("; "))));
    }
    $("#results tbody").replaceChildren(body);
    $("#shown").textContent = t("shown", shown.length, rows.length);
    $$("#results th").forEach((th) => th.removeAttribute("aria-sort"));
    const th = $(`#results button[data-sort="${sort.key}"]`).closest("th");
    th.setAttribute("aria-sort", sort.dir > 0 ? "ascending" : "descending");
  }

  function downloadCsv() {
    const header = ["row", "listing_id", "title", "decision", "shadow_decision", "cluster", "cluster_confidence",
      "origin", "import_probability", "p_block", "reasons", "origin_evidence", "cluster_evidence",
      "model_version", "policy_version"];
    const out = visibleRows().map(({ n, listing, result: r, p_block }) => [n, r.listing_id, listing.title, r.decision,
      r.shadow_decision, r.cluster && r.cluster.label, r.cluster && r.cluster.confidence, r.origin && r.origin.label,
      r.origin && r.origin.import_probability, p_block === null ? "" : p_block.toFixed(6), r.reasons.join(";"),
      r.origin ? r.origin.evidence.join(";") : "", r.cluster ? r.cluster.evidence.join(";") : "",
      r.model_version, r.policy_version]);
    const url = URL.createObjectURL(new Blob([AkarCsv.format(header, out)], { type: "text/csv;charset=utf-8" }));
    const a = el("a", { href: url, download: "akar-decisions.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function openDetail(n) {
    const r = rows[n - 1];
    renderDetail($("#detail-body"), r.listing, r.result);
    $("#detail-dialog").showModal();
  }

  // --- policy and model
  async function loadMeta() {
    try {
      [policy, model] = await Promise.all([api("v1/policy"), api("v1/model")]);
      $("#banner").hidden = true;
    } catch (e) {
      if (e.status === 503) {
        $("#banner").textContent = t("not_ready", e.message);
        $("#banner").hidden = false;
      }
      throw e;
    }
    renderMeta();
  }

  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function table(node, header, body) {
    node.replaceChildren(el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...body.map((cells) => el("tr", {}, ...cells.map((c, k) => el(k ? "td" : "th", k ? {} : { scope: "row" }, c))))));
  }

  function renderMeta() {
    if (!policy || !model) return;
    $("#serving").textContent = t("serving", model.version, policy.version, policy.mode);
    facts($("#policy"), [
      [t("policy_version"), policy.version], [t("policy_mode"), t("mode_" + policy.mode)],
      [t("protected_clusters"), policy.protected_clusters.map((c) => label("cluster_", c)).join(", ")],
      [t("threshold_allow"), String(policy.thresholds.allow)], [t("threshold_block"), String(policy.thresholds.block)],
    ]);
    $("#policy-gauge").replaceChildren(gauge("p_block", null, true),
      el("p", { className: "formula" }, t("p_block_formula", policy.thresholds.allow, policy.thresholds.block)));
    facts($("#model"), [
      [t("model_version"), model.version], [t("model_created"), model.created_at], [t("sklearn"), model.sklearn_version],
    ]);
    const sets = ["hand_checked", "dev", "shop_holdout"].filter((s) => model.metrics[s]);
    const figure = {
      m_n: (m) => m.n, m_accuracy: (m) => m.cluster.accuracy, m_macro_f1: (m) => m.cluster.macro_f1,
      m_handicraft_f1: (m) => m.cluster.classes.handicraft.f1, m_ece: (m) => m.cluster.ece,
      m_import_f1: (m) => m.origin.classes.import.f1, m_false_block_rate: (m) => pct(m.decision.false_block_rate),
      m_block_recall: (m) => pct(m.decision.block_recall), m_review_rate: (m) => pct(m.decision.review_rate),
    };
    const safe = (f, m) => { try { const v = f(m); return typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v ?? "–"); } catch { return "–"; } };
    table($("#figures"), ["", ...sets.map((s) => t("set_" + s))],
      Object.entries(figure).map(([name, f]) => [t(name), ...sets.map((s) => safe(f, model.metrics[s]))]));
    const cm = model.metrics.hand_checked && model.metrics.hand_checked.confusion;
    const labels = model.cluster_labels;
    if (cm) {
      table($("#confusion"), ["", ...labels.map((c) => label("cluster_", c))], cm.map((r, i) => [label("cluster_", labels[i]), ...r.map(String)]));
      const max = Math.max(...cm.flat());
      $$("#confusion tbody td").forEach((td) => { td.style.setProperty("--heat", Number(td.textContent) / max); });
    } else $("#confusion").replaceChildren();
    table($("#sources"), [t("source"), t("rows"), "sha256"],
      model.data_sources.map((s) => [s.name, s.rows.toLocaleString(lang), s.sha256.slice(0, 12) + "…"]));
    renderModelFiles();
  }

  let filesShown = null;
  async function renderModelFiles() {
    if (filesShown === lang) return;
    filesShown = lang;
    const names = { "report.html": "report", "MODEL_CARD.md": "model_card" };
    const links = $("#model-links");
    const images = $("#model-images");
    links.replaceChildren();
    images.replaceChildren();
    for (const name of CONFIG.modelFiles) {
      try {
        const url = await fileUrl(name);
        if (name.endsWith(".png")) {
          const what = t(name.startsWith("confusion") ? "img_confusion" : "img_reliability");
          images.append(el("figure", {}, el("img", { src: url, alt: what, loading: "lazy" }), el("figcaption", {}, what)));
        } else links.append(el("a", { href: url, target: "_blank", rel: "noopener", id: "link-" + name.split(".")[0] }, t(names[name])), " ");
      } catch { /* a missing file is simply not shown */ }
    }
  }

  // --- key
  function askKey(status) {
    const dialog = $("#key-dialog");
    $("#key-error").textContent = status === 403 ? t("key_wrong") : t("key_needed");
    $("#key-error").hidden = !status;
    $("#key-button").hidden = false;
    if (!dialog.open) dialog.showModal();
  }

  async function useKey(event) {
    event.preventDefault();
    const form = event.target;
    key = form.elements.key.value.trim();
    if (!key) return askKey(401);
    try {
      await loadMeta();
    } catch {
      return; // askKey has said why
    }
    if (form.elements.remember.checked) sessionStorage.setItem(KEY_ITEM, key);
    else sessionStorage.removeItem(KEY_ITEM);
    form.elements.key.value = "";
    filesShown = null;
    renderModelFiles();
    $("#key-dialog").close();
  }

  function forgetKey() {
    key = "";
    sessionStorage.removeItem(KEY_ITEM);
    $("#key-input").value = "";
  }

  // --- views
  function showView(name, focus) {
    for (const tab of $$("[role=tab]")) {
      const on = tab.dataset.view === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $("#" + tab.getAttribute("aria-controls")).hidden = !on;
      if (on && focus) tab.focus();
    }
    if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  }

  function tabKeys(event) {
    const tabs = $$("[role=tab]");
    const i = tabs.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (i < 0 || !step) return;
    event.preventDefault();
    showView(tabs[(i + step + tabs.length) % tabs.length].dataset.view, true);
  }

  async function readFile(event) {
    const file = event.target.files[0];
    if (!file) return;
    $("#batch-text").value = await file.text();
    $("#batch-status").textContent = t("batch_rows", AkarCsv.listings($("#batch-text").value).length);
  }

  function start() {
    $$("[role=tab]").forEach((tab) => tab.addEventListener("click", () => showView(tab.dataset.view)));
    $(".tabs").addEventListener("keydown", tabKeys);
    $("#lang-button").addEventListener("click", () => setLanguage(lang === "id" ? "en" : "id"));
    $("#single-form").addEventListener("submit", screenOne);
    $("#batch-form").addEventListener("submit", screenMany);
    $("#batch-file").addEventListener("change", readFile);
    ["#f-decision", "#f-cluster", "#f-reason"].forEach((s) => $(s).addEventListener("change", renderTable));
    $("#results thead").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-sort]");
      if (!b) return;
      sort = { key: b.dataset.sort, dir: sort.key === b.dataset.sort ? -sort.dir : b.dataset.sort.startsWith("p_") ? -1 : 1 };
      renderTable();
    });
    $("#results tbody").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-n]");
      if (b) openDetail(Number(b.dataset.n));
    });
    $("#download").addEventListener("click", downloadCsv);
    $("#detail-dialog .close").addEventListener("click", () => $("#detail-dialog").close());
    $("#key-form").addEventListener("submit", useKey);
    $("#key-forget").addEventListener("click", forgetKey);
    $("#key-button").addEventListener("click", () => askKey(0));
    const view = location.hash.slice(1);
    showView(["single", "batch", "about"].includes(view) ? view : "single");
    if (lang !== CONFIG.lang) setLanguage(lang);
    if (CONFIG.authRequired) $("#key-button").hidden = false;
    if (CONFIG.authRequired && !key) askKey(0);
    else loadMeta().catch(() => {});
  }

  start();
})();
