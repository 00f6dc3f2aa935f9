// storyline web page: plain JavaScript over the JSON API, no framework and no build step.
// Every text from the store goes through textContent (el()), never innerHTML.
"use strict";

const app = document.getElementById("app");
const popover = document.getElementById("popover");
const qInput = document.getElementById("q");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// A private server wants its key: asked once, kept for this browser session only.
const KEY = "storyline-key";
async function api(path) {
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY);
    if (key) headers.Authorization = `Bearer ${key}`;
    const res = await fetch(path, { headers });
    let body = null;
    try { body = await res.json(); } catch (_) { /* non-JSON error page */ }
    if (res.status === 401 && attempt < 2) {
      const given = window.prompt("This storyline is private. Its key:");
      if (given) { sessionStorage.setItem(KEY, given.trim()); continue; }
    }
    if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
    return body;
  }
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

const day = (t) => (t ? t.slice(0, 10) : "undated");
// Where an article is from: its source's name, else the site of its address.
const origin = (a) => {
  if (a.source) return a.source;
  try { return new URL(a.url).hostname.replace(/^www\./, ""); } catch { return "unknown source"; }
};
function span(first, last) {
  if (!first && !last) return "undated";
  return day(first) === day(last) ? day(first) : `${day(first)} – ${day(last)}`;
}

function showError(e) {
  app.replaceChildren(el("p", { class: "error", id: "error" }, e.message || String(e)));
}

// ------------------------------------------------------------------ routing

function route() {
  hidePopover();
  const hash = location.hash || "";
  renderLive();
  if (hash === "#/feeds") return showFeeds();
  const pathStory = location.pathname.match(/^\/story\/(\d+)$/);
  let m;
  if ((m = hash.match(/^#\/story\/(\d+)$/)) || (!hash && pathStory)) {
    return showStory((m || pathStory)[1]);
  }
  if ((m = hash.match(/^#\/search\/(.*)$/))) {
    const q = decodeURIComponent(m[1]);
    qInput.value = q;
    return showSearch(q);
  }
  return showList();
}
window.addEventListener("hashchange", route);
document.getElementById("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = qInput.value.trim();
  location.hash = q ? `#/search/${encodeURIComponent(q)}` : "#/";
});

// ------------------------------------------------------------------ story list and search

function storyCard(s) {
  return el("article", { class: "card story-item", "data-story": s.id },
    el("h3", {}, freshMark(s.id), el("a", { href: `#/story/${s.id}`, class: "story-link" }, s.headline || `Story ${s.id}`)),
    el("div", { class: "muted" },
      `${span(s.first_published, s.last_published)} · ${s.n_articles} article${s.n_articles === 1 ? "" : "s"}` +
      ` · ${s.n_events} event${s.n_events === 1 ? "" : "s"}`));
}

// Stories per request (the API allows 1–100); `?page=N` on the page's URL overrides it.
const PAGE = Math.min(100, Math.max(1,
  parseInt(new URLSearchParams(location.search).get("page"), 10) || 50));

async function showList() {
  app.replaceChildren(el("p", { class: "muted" }, "Loading stories…"));
  try {
    const first = await api(`/api/stories?limit=${PAGE}`);
    const list = el("div", { id: "stories" });
    const status = el("p", { class: "muted", id: "stories-count" });
    const more = el("button", { type: "button", id: "more-stories", class: "more" }, "More stories");
    // Offset paging over a list ordered by activity: an ingest in between can shift a story
    // onto the next page, so ids already shown are skipped rather than listed twice.
    const seen = new Set();
    let offset = 0;
    const add = (page) => {
      offset += page.stories.length;
      for (const s of page.stories) {
        if (!seen.has(s.id)) { seen.add(s.id); list.append(storyCard(s)); }
      }
      status.textContent = `${seen.size} of ${page.total} stories, most recently active first.`;
      more.hidden = offset >= page.total || page.stories.length === 0;
    };
    more.addEventListener("click", async () => {
      more.disabled = true;
      try { add(await api(`/api/stories?limit=${PAGE}&offset=${offset}`)); }
      catch (e) { showError(e); }
      finally { more.disabled = false; }
    });
    add(first);
    app.replaceChildren(el("h1", {}, "Stories"), status, list, more);
  } catch (e) { showError(e); }
}

async function showSearch(q) {
  app.replaceChildren(el("p", { class: "muted" }, "Searching…"));
  try {
    const r = await api(`/api/search?limit=30&q=${encodeURIComponent(q)}`);
    const stories = r.stories.map((s) => el("article", { class: "card search-story" },
      el("h3", {}, el("a", { href: `#/story/${s.story}`, class: "story-link" }, s.headline || s.top_title || `Story ${s.story}`)),
      el("div", { class: "muted" }, `Story ${s.story} · ${plural(s.hits, "matching article")}`)));
    const articles = r.articles.map((h) => el("article", { class: "card search-article" },
      el("h3", {}, el("a", { href: `#/story/${h.article.story}` }, h.article.title || h.article.id)),
      el("div", { class: "muted" }, `${origin(h.article)} · ${day(h.article.published)}`),
      el("p", {}, h.snippet.map((p) => (p.hit ? el("mark", {}, p.text) : p.text)))));
    app.replaceChildren(
      el("h1", {}, `Search: ${q}`),
      el("h2", {}, `Stories (${stories.length})`),
      stories.length ? el("div", { id: "search-stories" }, stories) : el("p", { class: "muted" }, "No story matches."),
      el("h2", {}, `Articles (${articles.length})`),
      el("div", { id: "search-articles" }, articles));
  } catch (e) { showError(e); }
}

// ------------------------------------------------------------------ story page

let current = null; // the story report on screen
const articleCache = new Map();

function citations(nums, claim) {
  return nums.map((n) => el("button", {
    class: "cite", type: "button", "data-n": n, "aria-label": `source ${n}`,
    onclick: (ev) => { ev.stopPropagation(); showCitation(ev.currentTarget, n, claim); },
    onmouseenter: (ev) => { if (matchMedia("(hover: hover)").matches) showCitation(ev.currentTarget, n, claim); },
  }, `[${n}]`));
}

function claimNode(claim, tag) {
  return el(tag || "span", { class: "claim" }, claim.text, " ", citations(claim.citations || [], claim));
}

function words(s) { return new Set((s.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).filter((w) => w.length > 2)); }

// The sentence of article `id` closest to `text` (word overlap): how a reader checks what a
// citation of another source supports.
async function closestSentence(id, text) {
  if (!articleCache.has(id)) articleCache.set(id, api(`/api/articles/${encodeURIComponent(id)}`));
  const art = await articleCache.get(id);
  const want = words(text);
  let best = null, bestScore = -1;
  for (const s of art.sentences) {
    const w = words(s.text);
    let shared = 0;
    for (const x of w) if (want.has(x)) shared++;
    const score = shared / Math.sqrt(Math.max(1, w.size) * Math.max(1, want.size));
    if (score > bestScore) { best = s; bestScore = score; }
  }
  return best ? best.text : "";
}

// Source number `n` of the story on screen: from the pages of sources loaded, else from the
// sources the report cites (a big story's list comes a page at a time).
function sourceOf(report, n) {
  return (report.sources || []).find((s) => s.n === n) || (report.cited || []).find((s) => s.n === n);
}

async function showCitation(anchor, n, claim) {
  if (!current) return;
  const src = sourceOf(current, n);
  if (!src) return;
  document.querySelectorAll(".cite.active").forEach((c) => c.classList.remove("active"));
  anchor.classList.add("active");
  const same = src.id === claim.article;
  const quote = el("blockquote", { id: "popover-sentence" }, same ? claim.text : "…");
  popover.replaceChildren(...[
    el("button", { class: "close", type: "button", "aria-label": "close", onclick: hidePopover }, "×"),
    el("div", { class: "src", id: "popover-source" }, `[${n}] ${src.title || src.id}`),
    el("div", { class: "muted" }, `${origin(src)} · ${day(src.published)}`),
    el("div", { class: "muted" }, same ? "The sentence, as this source wrote it:" : "Closest sentence in this source:"),
    quote,
    src.url ? el("a", { href: src.url, rel: "noopener noreferrer", target: "_blank" }, "Open the article") : null,
  ].filter(Boolean));
  popover.hidden = false;
  const r = anchor.getBoundingClientRect();
  const width = popover.offsetWidth;
  const left = Math.max(8, Math.min(window.scrollX + r.left - 20, window.scrollX + document.documentElement.clientWidth - width - 8));
  popover.style.left = `${left}px`;
  popover.style.top = `${window.scrollY + r.bottom + 6}px`;
  if (!same) {
    try { quote.textContent = (await closestSentence(src.id, claim.text)) || "(no text)"; }
    catch (e) { quote.textContent = `Could not load the article: ${e.message}`; }
  }
}

function hidePopover() {
  popover.hidden = true;
  document.querySelectorAll(".cite.active").forEach((c) => c.classList.remove("active"));
}
document.addEventListener("click", (ev) => { if (!popover.contains(ev.target)) hidePopover(); });
window.addEventListener("resize", hidePopover); // its position was for the old layout
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") hidePopover(); });

// Articles per day as bars, timeline entries as dots: inline SVG, no chart library.
function timelineChart(report) {
  const perDay = new Map();
  for (const s of report.sources) if (s.published) perDay.set(day(s.published), (perDay.get(day(s.published)) || 0) + 1);
  const entries = (report.timeline.dated || []).map((e) => e.date);
  const days = [...new Set([...perDay.keys(), ...entries])].sort();
  if (!days.length) return el("p", { class: "muted" }, "No dated articles.");
  const t = (d) => Date.parse(`${d}T00:00:00Z`);
  const t0 = t(days[0]), t1 = t(days[days.length - 1]);
  const W = 640, H = 150, L = 30, R = 14, top = 14, base = 110;
  const bw = Math.max(4, Math.min(24, (W - L - R) / Math.max(1, (t1 - t0) / 864e5 + 1) * 0.7));
  // Inset by half a bar so the first and last bars sit inside the axis.
  const x0 = L + bw / 2 + 4, x1 = W - R - bw / 2;
  const x = (d) => (t1 === t0 ? (x0 + x1) / 2 : x0 + ((t(d) - t0) / (t1 - t0)) * (x1 - x0));
  const maxN = Math.max(1, ...perDay.values());
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const s = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("id", "timeline-chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Articles per day; dots mark timeline entries");
  s("line", { x1: L, y1: base, x2: W - R, y2: base, stroke: "#9aa5b1" });
  s("text", { x: 4, y: top + 4 }, String(maxN));
  s("text", { x: 4, y: base }, "0");
  for (const [d, n] of perDay) {
    const h = ((base - top) * n) / maxN;
    s("rect", { class: "bar", x: x(d) - bw / 2, y: base - h, width: bw, height: h }).append(
      Object.assign(document.createElementNS(NS, "title"), { textContent: `${d}: ${n} article${n === 1 ? "" : "s"}` }));
  }
  for (const d of entries) s("circle", { class: "entry", cx: x(d), cy: base + 10, r: 5 });
  s("text", { x: x(days[0]), y: H - 8, "text-anchor": days.length > 1 ? "start" : "middle" }, days[0]);
  if (days.length > 1) s("text", { x: W - R, y: H - 8, "text-anchor": "end" }, days[days.length - 1]);
  return svg;
}

function factList(groups, cls, title, empty) {
  const items = groups.map((g) => el("li", {},
    el("span", {}, `${g.subject}${g.unit ? ` (${g.unit})` : ""}: `),
    g.values.map((v, i) => el("span", {},
      i ? (cls === "conflicts" ? " vs " : "; ") : "",
      el("span", { class: "value", title: (v.quotes || []).map((q) => q.text).join("\n") }, v.text),
      " ", citations(v.sources || [], (v.quotes && v.quotes[0]) || { text: v.text, article: null })))));
  return el("section", { class: cls },
    el("h3", {}, `${title} (${groups.length})`),
    items.length ? el("ul", {}, items) : el("p", { class: "muted" }, empty));
}

// An undated timeline entry: its bound from evidence, if any ("undated, after 2024-03-21",
// with the reasons as a tooltip), citing its own article, and naming the dated sources that
// say much the same as such, so that no date is lent to it by a citation.
function undatedEntry(report, c) {
  const p = (report.placements || []).find((x) => x.article === c.article);
  let label = "undated";
  if (p && p.after && p.before) label = `undated, between ${p.after} and ${p.before}`;
  else if (p && p.after) label = `undated, after ${p.after}`;
  else if (p && p.before) label = `undated, before ${p.before}`;
  const dated = (n) => Boolean(sourceOf(report, n) && sourceOf(report, n).published);
  const own = (c.citations || []).filter((n) => !dated(n));
  const others = (c.citations || []).filter(dated);
  const why = p ? p.evidence.map((b) => b.reason).join("\n") : "";
  return el("li", { class: "undated" }, el("time", { title: why }, label),
    el("div", { class: "claim" }, c.text, " ", citations(own, c),
      others.length ? el("span", { class: "muted" }, " — dated sources say much the same: ", citations(others, c)) : null));
}

function statementsView(report) {
  const items = [];
  let single = 0;
  for (const ev of report.statements || []) {
    single += ev.n_single_source;
    for (const st of ev.agreed) {
      items.push(el("li", {},
        el("span", { class: "value", title: st.quotes.map((q) => `[${q.citations[0]}] ${q.text}`).join("\n") }, st.text),
        " ", st.sources.flatMap((n) => citations([n], st.quotes.find((q) => q.citations[0] === n) || st.quotes[0]))));
    }
  }
  // Statements the sources tell differently: a place, a day, a person, yes against no.
  const differ = [];
  for (const ev of report.statements || []) {
    for (const d of ev.differ || []) {
      differ.push(el("li", {}, el("span", {}, `${d.slot}: `),
        d.values.map((v, i) => el("span", {}, i ? " vs " : "",
          el("span", { class: "value", title: v.quote.text }, v.value), " ", citations(v.quote.citations, v.quote)))));
    }
  }
  return el("section", { class: "agreed", id: "statements" },
    el("h3", {}, `Said by two or more independent sources (${items.length})`),
    items.length ? el("ul", {}, items) : el("p", { class: "muted" }, "Nothing said by two independent sources."),
    differ.length ? el("h3", {}, `Told differently (${differ.length})`) : null,
    differ.length ? el("ul", { class: "conflicts" }, differ) : null,
    el("p", { class: "muted" }, `${single} statements rest on a single source.`));
}

function factsView(report) {
  const all = { agreed: [], single_source: [], conflicts: [] };
  for (const ev of report.facts || []) for (const k of Object.keys(all)) all[k].push(...(ev[k] || []));
  return el("div", { class: "facts", id: "facts" },
    factList(all.agreed, "agreed", "Sources agree", "No figure given by two independent sources."),
    factList(all.conflicts, "conflicts", "Sources conflict", "No conflicting figures."),
    factList(all.single_source.slice(0, 12), "single", "Single source", "None."));
}

// Sources and dated timeline entries asked for at a time: a story of 50,000 articles is
// read a page at a time, each "more" button asking for the next one.
const STORY_PAGE = 100;

function sourceItem(s) {
  return el("li", { id: `source-${s.n}` },
    s.url ? el("a", { href: s.url, rel: "noopener noreferrer", target: "_blank" }, s.title || s.id) : (s.title || s.id),
    el("span", { class: "muted" }, ` — ${origin(s)}, ${day(s.published)}`),
    s.copy_of ? el("span", { class: "copy" }, ` (copy of [${s.copy_of}])`) : null);
}

function datedItem(e) {
  return el("li", {}, el("time", {}, e.date), el("div", {}, e.sentences.map((c) => claimNode(c, "div"))));
}

// A "more" button under a paged list: `load(offset)` asks for the page from `offset` and
// returns how many items it added; hidden once `total` are shown.
function moreButton(id, label, shown, total, load) {
  const button = el("button", { type: "button", class: "more", id }, label);
  let offset = shown;
  const update = () => {
    button.hidden = offset >= total;
    button.textContent = `${label} (${offset} of ${total} shown)`;
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const added = await load(offset);
      offset += added;
      if (added === 0) offset = total;
    } catch (e) { showError(e); }
    button.disabled = false;
    update();
  });
  update();
  return button;
}

async function showStory(id) {
  app.replaceChildren(el("p", { class: "muted" }, "Loading story…"));
  try {
    const r = await api(`/api/stories/${id}?limit=${STORY_PAGE}`);
    current = r;
    document.title = `${r.headline} · storyline`;
    const undated = (r.timeline.undated || []).map((c) => undatedEntry(r, c));
    const timelineList = el("ol", { class: "timeline", id: "timeline" },
      [...(r.timeline.dated || []).map(datedItem), ...undated]);
    const moreTimeline = moreButton("more-timeline", "More of the timeline",
      (r.timeline.dated || []).length, r.timeline_total || 0, async (offset) => {
        const page = await api(`/api/stories/${id}?offset=${offset}&limit=${STORY_PAGE}`);
        const dated = page.timeline.dated || [];
        // Dated entries before the undated ones, as on the first page.
        for (const e of dated) timelineList.insertBefore(datedItem(e), undated[0] || null);
        return dated.length;
      });
    const sourceList = el("ol", { class: "sources", id: "sources" }, r.sources.map(sourceItem));
    const moreSources = moreButton("more-sources", "More sources", r.sources.length,
      r.sources_total || r.sources.length, async (offset) => {
        const page = await api(`/api/stories/${id}?offset=${offset}&limit=${STORY_PAGE}`);
        current.sources.push(...page.sources);
        for (const s of page.sources) sourceList.append(sourceItem(s));
        return page.sources.length;
      });
    app.replaceChildren(
      el("p", {}, el("a", { href: "#/" }, "← all stories")),
      el("h1", { id: "headline" }, r.headline),
      el("p", { class: "muted" },
        `${span(r.first_published, r.last_published)} · ${plural(r.n_articles, "article")} · ${plural(r.n_events, "event")}`),
      el("h2", {}, "Summary"),
      el("div", { class: "summary", id: "summary" }, r.summary.map((c) => claimNode(c, "p"))),
      el("h2", {}, "Timeline"),
      timelineChart(r),
      timelineList,
      moreTimeline,
      el("h2", {}, "People, organisations, places"),
      el("div", { class: "chips", id: "entities" }, r.entities.map((e) =>
        el("a", { class: `chip ${e.kind}`, title: [e.kind, ...(e.aliases || [])].join(" · "),
                  href: `#/search/${encodeURIComponent(`"${e.name}"`)}` },
          e.name, " ", el("small", {}, String(e.mentions))))),
      el("h2", {}, "What the sources say"),
      statementsView(r),
      el("h2", {}, "Figures"),
      factsView(r),
      el("h2", {}, "Sources"),
      sourceList,
      moreSources);
    window.scrollTo(0, 0);
  } catch (e) { showError(e); }
}

// ------------------------------------------------------------------ live: news as it is stored

// The server announces each stored batch on /api/live (server-sent events). It is read with
// fetch rather than EventSource, which cannot send the key a private server wants; when the
// stream fails the page polls /api/updates instead and tries the stream again later.
const SEEN = "storyline-seen"; // the newest article id this browser has shown
const LIVE_KEEP = 12; // articles listed under "Just in"
const POLL_MS = 15000;
const live = {
  cursor: null, // the newest article id announced to this page
  articles: [], // newest first, each with `kind`: "visit" (since the last visit) or "live"
  sinceVisit: 0, // articles stored between the last visit and this one
  arrived: 0, // articles stored while this page was open
  fresh: new Map(), // story id → revision, for stories touched since the last visit
  status: "connecting…",
};
const liveBox = document.getElementById("live");
const liveStatus = document.getElementById("live-status");

const onListView = () => !location.hash.replace(/^#\/?/, "") && !/^\/story\/\d+$/.test(location.pathname);

function freshMark(storyId) {
  return live.fresh.has(storyId) ? el("span", { class: "badge fresh", title: "New articles since your last visit" }, "new") : null;
}

function liveQuery() {
  const seen = parseInt(localStorage.getItem(SEEN), 10);
  const after = live.cursor !== null ? live.cursor : (Number.isFinite(seen) ? seen : null);
  return after === null ? "limit=20" : `after=${after}&limit=20`;
}

function setLiveStatus(status) {
  live.status = status;
  liveStatus.textContent = status;
  liveStatus.className = `live-status ${status === "live" ? "on" : "off"}`;
}

function renderLive() {
  liveBox.hidden = !live.articles.length || !onListView();
  if (liveBox.hidden) return;
  const counts = [];
  if (live.sinceVisit) counts.push(`${plural(live.sinceVisit, "new article")} since your last visit`);
  if (live.arrived) counts.push(`${live.arrived} arrived while you were here`);
  liveBox.replaceChildren(
    el("h2", {}, "Just in"),
    el("p", { class: "muted", id: "live-count" }, counts.join(" · ")),
    el("ul", { id: "live-articles" }, live.articles.map((a) => el("li", { class: `live-item kind-${a.kind}` },
      el("span", { class: "badge" }, a.kind === "visit" ? "since last visit" : "new"), " ",
      el("a", { href: `#/story/${a.story}` }, a.title || a.id),
      el("span", { class: "muted" }, ` — ${origin(a)}, ${day(a.published)}`)))));
}

// Shown is seen: the next visit marks only what comes after. A page in a hidden tab has
// shown nothing yet.
function markSeen() {
  if (live.cursor !== null && document.visibilityState === "visible") localStorage.setItem(SEEN, String(live.cursor));
}
document.addEventListener("visibilitychange", markSeen);

// One answer of /api/live or /api/updates: what was stored after our cursor.
function applyBatch(b, kind) {
  if (live.cursor !== null && b.last <= live.cursor) return;
  live.cursor = b.last;
  if (b.n_articles > 0) {
    const ids = new Set(b.articles.map((a) => a.id));
    const items = b.articles.map((a) => ({ ...a, kind }));
    live.articles = [...items, ...live.articles.filter((a) => !ids.has(a.id))].slice(0, LIVE_KEEP);
    if (kind === "visit") live.sinceVisit += b.n_articles; else live.arrived += b.n_articles;
    for (const s of b.stories) live.fresh.set(s.id, s.revision);
  }
  markSeen();
  renderLive();
  if (b.n_articles > 0) onNews(b).catch(() => { /* the next batch tries again */ });
}

// Brings the view on screen up to date with a batch, without reloading it.
async function onNews(b) {
  const touched = new Set(b.stories.map((s) => s.id));
  const list = document.getElementById("stories");
  if (list && onListView()) {
    const page = await api(`/api/stories?limit=${PAGE}`);
    const cards = page.stories.filter((s) => touched.has(s.id)).map(storyCard);
    for (const c of cards) list.querySelector(`[data-story="${c.dataset.story}"]`)?.remove();
    list.prepend(...cards);
    const count = document.getElementById("stories-count");
    if (count) count.textContent = `${list.children.length} of ${page.total} stories, most recently active first.`;
    return;
  }
  if (location.hash === "#/feeds") return showFeeds();
  const m = location.hash.match(/^#\/story\/(\d+)$/) || location.pathname.match(/^\/story\/(\d+)$/);
  if (m && touched.has(Number(m[1])) && !document.getElementById("story-updated")) {
    app.prepend(el("p", { class: "notice", id: "story-updated" }, "This story has new articles. ",
      el("button", { type: "button", onclick: () => showStory(m[1]) }, "Show them")));
  }
}

function keyHeaders(accept) {
  const headers = { Accept: accept };
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

// Like api(), but never asks for the key: the page's own requests do, once.
async function liveApi(path) {
  const res = await fetch(path, { headers: keyHeaders("application/json"), cache: "no-store" });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

// Reads the event stream until it ends or fails.
async function liveStream(first) {
  const res = await fetch(`/api/live?${liveQuery()}`, { headers: keyHeaders("text/event-stream"), cache: "no-store" });
  if (!res.ok || !res.body) throw new Error(`live stream: ${res.status}`);
  setLiveStatus("live");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        const i = line.indexOf(":");
        if (i === 0) continue; // a keep-alive comment
        const field = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") name = v;
        else if (field === "data") data.push(v);
      }
      if (data.length && (name === "hello" || name === "batch")) {
        applyBatch(JSON.parse(data.join("\n")), first && name === "hello" ? "visit" : "live");
      }
    }
  }
}

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

async function followLive() {
  let first = true;
  let failures = 0;
  for (;;) {
    try {
      await liveStream(first);
      failures = 0;
    } catch (_) {
      failures++;
    }
    first = live.cursor === null;
    // Polls, more of them after each failure in a row, then tries the stream again.
    setLiveStatus("polling");
    if (!failures) await pause(1000); // the stream ended cleanly: reopen it, but not in a spin
    for (let i = 0; i < Math.min(8, failures); i++) {
      try {
        applyBatch(await liveApi(`/api/updates?${liveQuery()}`), first ? "visit" : "live");
        first = false;
      } catch (_) { setLiveStatus("offline"); }
      await pause(POLL_MS);
    }
  }
}

// ------------------------------------------------------------------ feeds

const when = (t) => (t ? `${t.slice(0, 10)} ${t.slice(11, 16)}` : "—");

async function showFeeds() {
  if (!document.getElementById("feeds")) app.replaceChildren(el("p", { class: "muted" }, "Loading feeds…"));
  try {
    const feeds = await api("/api/feeds");
    document.title = "Feeds · storyline";
    const rows = feeds.map((f) => el("tr", { class: f.failures ? "failing" : "healthy" },
      el("td", {}, el("div", { class: "feed-title" }, f.title || f.url), el("div", { class: "muted" }, f.url)),
      el("td", {}, when(f.last_fetch)),
      el("td", {}, when(f.last_new_item)),
      el("td", {}, when(f.next_check)),
      el("td", { class: "num" }, String(f.failures)),
      el("td", { class: "feed-error" }, f.last_error || "—"),
      el("td", { class: "num" }, String(f.items))));
    app.replaceChildren(
      el("p", {}, el("a", { href: "#/" }, "← all stories")),
      el("h1", {}, "Feeds"),
      el("p", { class: "muted" }, `${plural(feeds.length, "feed")} followed; times in UTC.`),
      feeds.length
        ? el("div", { class: "table-wrap" }, el("table", { class: "feeds", id: "feeds" },
            el("thead", {}, el("tr", {}, ["Feed", "Last fetch", "Last new item", "Next check",
              "Failures in a row", "Last error", "Items"].map((h) => el("th", {}, h)))),
            el("tbody", {}, rows)))
        : el("p", { class: "muted" }, "No feed is followed: storyline feeds add URL."));
  } catch (e) { showError(e); }
}

route();
followLive();
