// fieldbook default theme: full-text search in the browser, over the index the build writes into
// search/ (see src/search/ in fieldbook: the tokenizer, query parsing and scoring here mirror it rule
// for rule). No dependencies, no server. Everything from the index is put into the page with
// textContent, never as HTML.
(function () {
  "use strict";

  var form = document.querySelector("form.site-search");
  var pageRoot = document.getElementById("search-page");
  if (!form && !pageRoot) return;
  var BASE = ((form || pageRoot).getAttribute("data-base") || "/").replace(/\/?$/, "/");

  // ---- Tokenizer (src/search/tokenize.rs) ----------------------------------------------------
  var WORD = /[\p{Alphabetic}\p{N}]/u;
  var MAX_WORD_BYTES = 40;
  var STOP = new Set();

  function isCjk(cp) {
    return (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3040 && cp <= 0x30ff) ||
      (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af) ||
      (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x323af);
  }
  function isApostrophe(ch) { return ch === "'" || ch === "\u2019"; }

  // Words and CJK runs of a text, each {cjk, text, start, end} (UTF-16 offsets).
  function pieces(text) {
    var out = [];
    var state = 0; // 0 none, 1 word, 2 cjk
    var start = 0;
    var i = 0;
    function finish(end) {
      if (state === 1) {
        var w = text.slice(start, end);
        var trimmed = w.replace(/['\u2019]+$/, "");
        if (trimmed) out.push({ cjk: false, text: trimmed, start: start, end: start + trimmed.length });
      } else if (state === 2) {
        out.push({ cjk: true, text: text.slice(start, end), start: start, end: end });
      }
    }
    for (var ch of text) {
      var cp = ch.codePointAt(0);
      var next = isCjk(cp) ? 2 : (WORD.test(ch) || (state === 1 && isApostrophe(ch))) ? 1 : 0;
      if (next !== state) {
        finish(i);
        start = i;
        state = next;
      }
      i += ch.length;
    }
    finish(text.length);
    return out;
  }

  function utf8Length(s) {
    var n = 0;
    for (var ch of s) {
      var cp = ch.codePointAt(0);
      n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
    return n;
  }

  function stem(w) {
    if (!/^[a-z]+$/.test(w)) return w;
    var n = w.length;
    if (n >= 5 && w.endsWith("ies")) return w.slice(0, -3) + "y";
    if (n >= 5 && /(sses|ches|shes|xes|zes)$/.test(w)) return w.slice(0, -2);
    if (n >= 4 && w.endsWith("s") && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
    return w;
  }

  // The index term of a word, or null when it is not indexed.
  function normalizeWord(word) {
    var w = word.toLowerCase();
    if (w.length > 2 && (w.endsWith("'s") || w.endsWith("\u2019s"))) w = w.slice(0, -2);
    w = w.replace(/['\u2019]/g, "");
    if (!w || utf8Length(w) > MAX_WORD_BYTES || STOP.has(w)) return null;
    return stem(w);
  }

  function cjkQueryTerms(run) {
    var chars = Array.from(run);
    if (chars.length === 1) return [run];
    var out = [];
    for (var i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
    return out;
  }

  // ---- Queries (src/search/query.rs) ---------------------------------------------------------
  var PREFIX_FACTOR = 0.8;
  var MAX_EXPANSIONS = 64;
  var MIN_PREFIX_CHARS = 2;
  var MAX_PREFIX_SHARDS = 3;
  var SCALE = 20;

  function normalizePhrase(text) {
    return pieces(text).map(function (p) { return p.text.toLowerCase(); }).join(" ");
  }

  function parse(text, typing) {
    var q = { groups: [], phrases: [] };
    var segments = text.split(/["\u201C\u201D]/);
    var closed = segments.length % 2 === 1;
    var lastSeg = segments.length - 1;
    segments.forEach(function (seg, i) {
      var phrase = i % 2 === 1 && (closed || i < lastSeg);
      if (phrase) {
        var p = normalizePhrase(seg);
        if (p) q.phrases.push(p);
      }
      var ps = pieces(seg);
      ps.forEach(function (piece, n) {
        if (piece.cjk) {
          cjkQueryTerms(piece.text).forEach(function (t) { q.groups.push({ exact: t, prefix: null, phrase: phrase }); });
          return;
        }
        var exact = normalizeWord(piece.text);
        var isLast = i === lastSeg && n + 1 === ps.length;
        var prefix = null;
        if (typing && !phrase && isLast && !/\s$/.test(text)) {
          prefix = piece.text.toLowerCase().replace(/['\u2019]/g, "");
          if (Array.from(prefix).length < MIN_PREFIX_CHARS) prefix = null;
        }
        if (exact !== null || prefix !== null) q.groups.push({ exact: exact, prefix: prefix, phrase: phrase });
      });
    });
    return q;
  }

  function idf(n, df) { return Math.log(1 + (n - df + 0.5) / (df + 0.5)); }

  // ---- Shards (src/search/shards.rs) ---------------------------------------------------------
  function shardFor(bounds, term) {
    var lo = 0, hi = bounds.length; // count of bounds <= term
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (bounds[mid] <= term) lo = mid + 1; else hi = mid;
    }
    return Math.max(0, lo - 1);
  }
  function shardsForPrefix(bounds, prefix) {
    var first = shardFor(bounds, prefix);
    var last = first;
    while (last + 1 < bounds.length && bounds[last + 1].startsWith(prefix)) last++;
    return [first, Math.min(last, first + MAX_PREFIX_SHARDS - 1)];
  }

  // ---- Loading -------------------------------------------------------------------------------
  var cache = new Map();
  function fetchJson(path, version) {
    var url = BASE + path + (version ? "?v=" + version : "");
    if (cache.has(url)) return cache.get(url);
    var p = fetch(url).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status + " for " + url);
      return res.arrayBuffer();
    }).then(function (buf) {
      var bytes = new Uint8Array(buf);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot inflate the index");
        var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        return new Response(stream).text();
      }
      return new TextDecoder().decode(bytes);
    }).then(JSON.parse);
    p.catch(function () { cache.delete(url); });
    cache.set(url, p);
    return p;
  }
  var manifestPromise = null;
  function manifest() {
    if (!manifestPromise) {
      manifestPromise = fetchJson("search/manifest.json").then(function (m) {
        m.stop.forEach(function (w) { STOP.add(w); });
        // Document files hold 5 to 12 documents each, one base-36 digit per file: where each starts.
        m.starts = [0];
        for (var i = 0; i < m.groups.length; i++) {
          m.starts.push(m.starts[i] + parseInt(m.groups[i], 36));
        }
        return m;
      });
      manifestPromise.catch(function () { manifestPromise = null; });
    }
    return manifestPromise;
  }
  function shard(m, i) { return fetchJson("search/t/" + i + ".json.gz", m.id); }
  // File n holds ids m.starts[n] to m.starts[n + 1] - 1.
  function doc(m, id) {
    var lo = 0, hi = m.starts.length - 1; // the last file whose start is <= id
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (m.starts[mid] <= id) lo = mid; else hi = mid;
    }
    return fetchJson("search/d/" + lo + ".json.gz", m.id).then(function (group) {
      return group[id - m.starts[lo]];
    });
  }
  function own(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }

  // Decode a posting list [id, w, id-delta, w, ...] into [[id, w], ...].
  function decode(list) {
    var out = [], id = 0;
    for (var i = 0; i + 1 < list.length; i += 2) {
      id += list[i];
      out.push([id, list[i + 1]]);
    }
    return out;
  }

  // Run a query: {query, hits: [{doc, score, m}]} best first (all groups matched, else most).
  function search(text, typing) {
    return manifest().then(function (m) {
      var q = parse(text, typing);
      if (!q.groups.length) return { m: m, query: q, hits: [] };
      var need = new Set();
      q.groups.forEach(function (g) {
        if (g.exact !== null) need.add(shardFor(m.shards, g.exact));
        if (g.prefix !== null) {
          var r = shardsForPrefix(m.shards, g.prefix);
          for (var s = r[0]; s <= r[1]; s++) need.add(s);
        }
      });
      var ids = Array.from(need);
      return Promise.all(ids.map(function (i) { return shard(m, i); })).then(function (loaded) {
        var shards = new Map();
        ids.forEach(function (id, k) { shards.set(id, loaded[k]); });
        return { m: m, query: q, hits: rank(m, q, shards) };
      });
    });
  }

  function rank(m, q, shards) {
    var scores = new Map(); // doc -> [matched groups, score]
    q.groups.forEach(function (g) {
      var alts = [];
      if (g.exact !== null) {
        var sh = shards.get(shardFor(m.shards, g.exact));
        if (sh && own(sh, g.exact)) alts.push([sh[g.exact], 1]);
      }
      if (g.prefix !== null) {
        var r = shardsForPrefix(m.shards, g.prefix);
        var found = [];
        for (var s = r[0]; s <= r[1]; s++) {
          var terms = shards.get(s) || {};
          Object.keys(terms).forEach(function (t) {
            if (t !== g.exact && t.startsWith(g.prefix)) found.push([t, terms[t]]);
          });
        }
        found.sort(function (a, b) {
          return (b[1].length - a[1].length) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
        });
        found.slice(0, MAX_EXPANSIONS).forEach(function (f) { alts.push([f[1], PREFIX_FACTOR]); });
      }
      var best = new Map();
      alts.forEach(function (alt) {
        var postings = decode(alt[0]);
        var w = idf(m.docs, postings.length);
        postings.forEach(function (p) {
          var s = w * p[1] / SCALE * alt[1];
          if (!(best.get(p[0]) >= s)) best.set(p[0], s);
        });
      });
      best.forEach(function (s, id) {
        var e = scores.get(id);
        if (e) { e[0]++; e[1] += s; } else scores.set(id, [1, s]);
      });
    });
    var hits = [];
    scores.forEach(function (e, id) { hits.push({ doc: id, m: e[0], score: e[1] }); });
    var all = q.groups.length;
    if (hits.some(function (h) { return h.m === all; })) hits = hits.filter(function (h) { return h.m === all; });
    hits.sort(function (a, b) { return (b.m - a.m) || (b.score - a.score) || (a.doc - b.doc); });
    return hits;
  }

  function kindOf(m, id) {
    for (var i = 0; i < m.kinds.length; i++) {
      if (id >= m.kinds[i].start && id < m.kinds[i].end) return i;
    }
    return -1;
  }

  function docText(d) {
    var parts = [d.t];
    if (d.d) parts.push(d.d);
    (d.f || []).forEach(function (f) { parts.push(f[1]); });
    (d.g || []).forEach(function (t) { parts.push(t); });
    d.s.forEach(function (s) { parts.push(s[1], s[2]); });
    return normalizePhrase(parts.join("\n"));
  }

  // The documents of the hits from `from`, as many as `limit`, skipping those that miss a phrase
  // (checking at most MAX_CHECKED documents per call, so a rare phrase cannot fetch the whole site).
  // Resolves to {items: [{hit, doc}], next} where next is where to continue (or -1 at the end).
  var MAX_CHECKED = 80;
  function page(m, q, hits, from, limit) {
    var items = [];
    function step(at) {
      var done = items.length >= limit || at >= hits.length || at - from >= MAX_CHECKED;
      if (done) return Promise.resolve({ items: items, next: at < hits.length ? at : -1 });
      var batch = hits.slice(at, at + Math.max(limit - items.length, 4));
      return Promise.all(batch.map(function (h) { return doc(m, h.doc); })).then(function (docs) {
        docs.forEach(function (d, k) {
          if (items.length >= limit) return;
          var text = q.phrases.length ? docText(d) : "";
          if (q.phrases.every(function (p) { return text.indexOf(p) >= 0; })) items.push({ hit: batch[k], doc: d });
        });
        var consumed = at + batch.length;
        if (items.length >= limit) {
          // Rewind to just after the last hit taken, so "more" continues from there.
          var last = items[items.length - 1].hit;
          consumed = hits.indexOf(last) + 1;
        }
        return step(consumed);
      });
    }
    return step(from);
  }

  // ---- Snippets and highlighting ---------------------------------------------------------------
  // What to highlight: a quoted phrase where it occurs whole, other words wherever they occur.
  function matcher(q) {
    var exact = new Set(), prefixes = [], cjk = [];
    var phrases = q.phrases.map(function (p) { return p.split(" "); });
    q.groups.forEach(function (g) {
      if (g.phrase) return;
      if (g.exact !== null) {
        if (isCjk(g.exact.codePointAt(0))) cjk.push(g.exact); else exact.add(g.exact);
      }
      if (g.prefix !== null) prefixes.push(g.prefix);
    });
    // Matched ranges [start, end) of a text, merged, in order.
    return function (text) {
      var ranges = [];
      var ps = pieces(text);
      phrases.forEach(function (words) {
        for (var i = 0; i + words.length <= ps.length; i++) {
          var all = words.every(function (w, k) {
            var t = ps[i + k].text.toLowerCase();
            // The ends of a phrase may fall inside a word or a CJK run, as when it was matched.
            if (words.length === 1) return t.indexOf(w) >= 0;
            if (k === 0) return t.endsWith(w);
            if (k === words.length - 1) return t.startsWith(w);
            return t === w;
          });
          if (!all) continue;
          var first = ps[i], last = ps[i + words.length - 1];
          if (words.length === 1) {
            var at = first.text.toLowerCase().indexOf(words[0]);
            ranges.push([first.start + at, first.start + at + words[0].length]);
          } else {
            ranges.push([first.end - words[0].length, last.start + words[words.length - 1].length]);
          }
        }
      });
      ps.forEach(function (p) {
        if (p.cjk) {
          cjk.forEach(function (t) {
            var at = p.text.indexOf(t);
            while (at >= 0) {
              ranges.push([p.start + at, p.start + at + t.length]);
              at = p.text.indexOf(t, at + 1);
            }
          });
          return;
        }
        var n = normalizeWord(p.text);
        var lower = p.text.toLowerCase().replace(/['\u2019]/g, "");
        if ((n !== null && exact.has(n)) || prefixes.some(function (x) { return lower.startsWith(x); })) {
          ranges.push([p.start, p.end]);
        }
      });
      ranges.sort(function (a, b) { return a[0] - b[0]; });
      var merged = [];
      ranges.forEach(function (r) {
        var last = merged[merged.length - 1];
        if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]); else merged.push(r.slice());
      });
      return merged;
    };
  }

  // Append text to el, with the matched ranges in <mark>.
  function appendMarked(el, text, ranges) {
    var at = 0;
    ranges.forEach(function (r) {
      if (r[0] > at) el.appendChild(document.createTextNode(text.slice(at, r[0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(r[0], r[1]);
      el.appendChild(mark);
      at = r[1];
    });
    if (at < text.length) el.appendChild(document.createTextNode(text.slice(at)));
  }

  var SNIPPET = 180;
  // The best part of a document for a query: {anchor, heading, text, ranges}.
  function bestPart(d, match) {
    var candidates = d.s.map(function (s) { return { anchor: s[0], heading: s[1], text: s[2] }; });
    if (d.d) candidates.push({ anchor: "", heading: "", text: d.d });
    (d.f || []).forEach(function (f) { candidates.push({ anchor: "", heading: "", text: f[1] }); });
    var best = null;
    candidates.forEach(function (c) {
      var inText = match(c.text);
      var score = (c.heading ? match(c.heading).length * 3 : 0) + inText.length;
      if (!best || score > best.score) best = { anchor: c.anchor, heading: c.heading, text: c.text, ranges: inText, score: score };
    });
    if (!best || best.score === 0) {
      // Nothing to point at (the match is in the title or a tag): the description or the intro.
      best = { anchor: "", heading: "", text: d.d || (d.s[0] ? d.s[0][2] : ""), ranges: [] };
    }
    // Cut a window around the first match.
    var text = best.text, ranges = best.ranges;
    var start = 0;
    if (ranges.length && ranges[0][0] > 60) {
      start = ranges[0][0] - 60;
      var space = text.indexOf(" ", start);
      if (space >= 0 && space < ranges[0][0]) start = space + 1;
    }
    var end = Math.min(text.length, start + SNIPPET);
    if (end < text.length) {
      var sp = text.lastIndexOf(" ", end);
      if (sp > start + SNIPPET / 2) end = sp;
    }
    var cut = text.slice(start, end);
    var shifted = [];
    ranges.forEach(function (r) {
      if (r[1] > start && r[0] < end) shifted.push([Math.max(r[0], start) - start, Math.min(r[1], end) - start]);
    });
    var pre = start > 0 ? "…" : "", post = end < text.length ? "…" : "";
    if (pre) shifted = shifted.map(function (r) { return [r[0] + 1, r[1] + 1]; });
    return { anchor: best.anchor, heading: best.heading, text: pre + cut + post, ranges: shifted };
  }

  var seq = 0;
  // Run `f` once typing pauses, so a fast typist does not fetch results for every letter.
  function debounce(f) {
    var timer = 0;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(f, 60);
    };
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderItem(m, q, item, idPrefix, n) {
    var d = item.doc;
    var match = matcher(q);
    var part = bestPart(d, match);
    var li = el("li", "search-result");
    li.id = idPrefix + n;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    var a = el("a");
    a.href = BASE + d.u + (part.anchor ? "#" + encodeURIComponent(part.anchor) : "");
    a.tabIndex = -1;
    var head = el("span", "search-result-head");
    var title = el("span", "search-result-title");
    appendMarked(title, d.t, match(d.t));
    head.appendChild(title);
    var kind = kindOf(m, item.hit.doc);
    if (kind >= 0) head.appendChild(el("span", "badge", m.kinds[kind].label));
    a.appendChild(head);
    if (part.heading) {
      var sec = el("span", "search-result-section");
      appendMarked(sec, part.heading, match(part.heading));
      a.appendChild(sec);
    }
    if (part.text) {
      var snip = el("span", "search-result-snippet");
      appendMarked(snip, part.text, part.ranges);
      a.appendChild(snip);
    }
    li.appendChild(a);
    return li;
  }

  // ---- One results view (the header dropdown or the search page) -------------------------------
  function View(opts) {
    this.list = opts.list;
    this.filters = opts.filters;
    this.status = opts.status;
    this.more = opts.more;
    this.limit = opts.limit;
    this.idPrefix = opts.idPrefix;
    this.onKind = opts.onKind || function () {};
    this.kind = opts.kind || "";
    this.result = null;
    this.hits = [];
    this.next = -1;
  }
  View.prototype.setStatus = function (text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  };
  // Run `text` and show its results; resolves once they are shown.
  View.prototype.run = function (text, typing) {
    var self = this;
    var mine = ++seq;
    self.mine = mine;
    self.list.setAttribute("aria-busy", "true");
    // When this query started (after the pause in typing): for timing it, as bench/ does.
    self.list.dataset.started = String(performance.now());
    if (!text.trim()) {
      self.result = null;
      self.show([], -1);
      self.renderFilters();
      self.setStatus("");
      return Promise.resolve();
    }
    return search(text, typing).then(function (result) {
      if (self.mine !== mine) return;
      self.result = result;
      self.renderFilters();
      return self.refresh(text);
    }).catch(function (e) {
      if (self.mine !== mine) return;
      self.show([], -1);
      self.setStatus("Search is unavailable: " + (e && e.message ? e.message : e));
      self.list.dataset.query = text;
    });
  };
  View.prototype.filtered = function () {
    var r = this.result, kind = this.kind;
    if (!r) return [];
    if (!kind) return r.hits;
    var range = r.m.kinds.filter(function (k) { return k.name === kind; })[0];
    if (!range) return r.hits;
    return r.hits.filter(function (h) { return h.doc >= range.start && h.doc < range.end; });
  };
  View.prototype.refresh = function (text) {
    var self = this, r = self.result, mine = self.mine;
    self.hits = self.filtered();
    return page(r.m, r.query, self.hits, 0, self.limit).then(function (p) {
      if (self.mine !== mine) return;
      self.show(p.items, p.next);
      var none = p.next >= 0 ? "None of the best matches contains the exact phrase yet" : "No results for \u201C" + text.trim() + "\u201D";
      self.setStatus(p.items.length ? "" : none);
      self.list.dataset.query = text;
    });
  };
  View.prototype.show = function (items, next) {
    var self = this, r = self.result;
    self.list.textContent = "";
    items.forEach(function (item, n) { self.list.appendChild(renderItem(r.m, r.query, item, self.idPrefix, n)); });
    self.next = next;
    if (self.more) self.more.hidden = next < 0;
    self.list.removeAttribute("aria-busy");
  };
  View.prototype.showMore = function () {
    var self = this, r = self.result, mine = self.mine;
    if (!r || self.next < 0) return;
    page(r.m, r.query, self.hits, self.next, self.limit).then(function (p) {
      if (self.mine !== mine) return;
      var start = self.list.children.length;
      p.items.forEach(function (item, n) { self.list.appendChild(renderItem(r.m, r.query, item, self.idPrefix, start + n)); });
      self.next = p.next;
      self.more.hidden = p.next < 0;
    });
  };
  View.prototype.renderFilters = function () {
    var self = this, r = self.result;
    self.filters.textContent = "";
    if (!r || !r.hits.length) { self.filters.hidden = true; return; }
    var counts = r.m.kinds.map(function () { return 0; });
    r.hits.forEach(function (h) { var k = kindOf(r.m, h.doc); if (k >= 0) counts[k]++; });
    var shown = counts.filter(function (c) { return c > 0; }).length;
    if (shown < 2 && !self.kind) { self.filters.hidden = true; return; }
    self.filters.hidden = false;
    var exact = !r.query.phrases.length;
    function chip(name, label, count) {
      var b = el("button", "search-kind");
      b.type = "button";
      b.dataset.kind = name;
      b.setAttribute("aria-pressed", String(self.kind === name));
      b.appendChild(document.createTextNode(label));
      if (exact) b.appendChild(el("span", "count", " " + count));
      b.addEventListener("mousedown", function (e) { e.preventDefault(); });
      b.addEventListener("click", function () {
        self.kind = self.kind === name ? "" : name;
        self.onKind(self.kind);
        self.renderFilters();
        self.refresh(self.list.dataset.query || "");
      });
      self.filters.appendChild(b);
    }
    chip("", "All", r.hits.length);
    r.m.kinds.forEach(function (k, i) { if (counts[i] > 0 || self.kind === k.name) chip(k.name, k.label, counts[i]); });
  };

  // ---- The box in the header ---------------------------------------------------------------------
  function setupHeader() {
    var input = form.querySelector("input[name=q]");
    if (!input) return;
    var panel = el("div", "search-panel");
    panel.hidden = true;
    var filters = el("div", "search-kinds");
    filters.setAttribute("role", "group");
    filters.setAttribute("aria-label", "Filter by kind");
    var status = el("p", "search-status");
    status.setAttribute("role", "status");
    var list = el("ul", "search-results");
    list.id = "search-results";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Search results");
    var all = el("a", "search-all", "All results");
    panel.appendChild(filters);
    panel.appendChild(status);
    panel.appendChild(list);
    panel.appendChild(all);
    form.appendChild(panel);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-autocomplete", "list");
    var view = new View({ list: list, filters: filters, status: status, limit: 8, idPrefix: "search-result-" });
    var active = -1;

    function open(yes) {
      panel.hidden = !yes;
      input.setAttribute("aria-expanded", String(yes));
    }
    function move(delta) {
      var items = list.children, n = items.length;
      if (!n) return;
      if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
      active = active < 0 ? (delta > 0 ? 0 : n - 1) : (active + delta + n) % n;
      items[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    function setAllLink() {
      var text = input.value.trim();
      all.href = BASE + "search/?q=" + encodeURIComponent(text) + (view.kind ? "&kind=" + encodeURIComponent(view.kind) : "");
      all.textContent = "All results for \u201C" + text + "\u201D";
    }
    function update() {
      var text = input.value;
      setAllLink();
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (!text.trim()) { open(false); view.run("", true); return; }
      open(true);
      view.run(text, true).then(function () { active = -1; });
    }
    view.onKind = function () { setAllLink(); active = -1; input.removeAttribute("aria-activedescendant"); };
    input.addEventListener("input", debounce(update));
    input.addEventListener("focus", function () { manifest().catch(function () {}); if (input.value.trim()) open(true); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (panel.hidden) return;
        e.preventDefault();
        move(e.key === "ArrowDown" ? 1 : -1);
      } else if (e.key === "Enter") {
        var items = list.children;
        if (active >= 0 && items[active]) {
          e.preventDefault();
          var link = items[active].querySelector("a");
          if (link) window.location.href = link.href;
        } else if (input.value.trim()) {
          e.preventDefault();
          setAllLink();
          window.location.href = all.href;
        }
      } else if (e.key === "Escape") {
        if (!panel.hidden) { e.preventDefault(); open(false); } else input.blur();
      }
    });
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) open(false); });
    form.addEventListener("submit", function (e) {
      if (!input.value.trim()) e.preventDefault();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target;
      var tag = t && t.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
      e.preventDefault();
      var target = (pageRoot && pageRoot.querySelector("input[name=q]")) || input;
      target.focus();
      target.select();
    });
  }

  // ---- The search page (search/?q=TERM) --------------------------------------------------------
  function setupPage() {
    var input = pageRoot.querySelector("input[name=q]");
    var list = pageRoot.querySelector(".search-results");
    var filters = pageRoot.querySelector(".search-kinds");
    var status = pageRoot.querySelector(".search-status");
    var more = pageRoot.querySelector(".search-more");
    if (!input || !list || !filters || !status) return;
    var params = new URLSearchParams(window.location.search);
    var view = new View({
      list: list, filters: filters, status: status, more: more, limit: 20, idPrefix: "search-page-result-",
      kind: params.get("kind") || ""
    });
    function sync() {
      var text = input.value.trim();
      var qs = text ? "?q=" + encodeURIComponent(text) + (view.kind ? "&kind=" + encodeURIComponent(view.kind) : "") : "";
      history.replaceState(null, "", window.location.pathname + qs);
      document.title = (text ? "\u201C" + text + "\u201D \u00B7 " : "") + document.title.replace(/^\u201C.*\u201D \u00B7 /, "");
    }
    view.onKind = sync;
    input.value = params.get("q") || "";
    input.addEventListener("input", debounce(function () { sync(); view.run(input.value, true); }));
    pageRoot.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); sync(); view.run(input.value, false); });
    if (more) more.addEventListener("click", function () { view.showMore(); });
    if (input.value) { sync(); view.run(input.value, true); } else { input.focus(); }
  }

  if (form) setupHeader();
  if (pageRoot) setupPage();
})();
