// fieldbook serve: live reload over server-sent events, stylesheet swap, and the error overlay.
// Injected by `fieldbook serve` only; `fieldbook build` never writes it.
(function () {
  "use strict";
  if (window.__fieldbookReload) return;
  // State for people (and tests) who want to know whether this page is listening.
  var state = window.__fieldbookReload = { connected: false };
  var script = document.currentScript;
  var notFound = !!(script && script.getAttribute("data-status") === "404");

  // This page's output path, as the server names it: "tools/doudian/index.html".
  function here() {
    var p = location.pathname;
    try { p = decodeURIComponent(p); } catch (e) { /* keep it encoded */ }
    p = p.replace(/^\/+/, "");
    if (p === "" || p.charAt(p.length - 1) === "/") p += "index.html";
    return p;
  }

  var overlay = null;
  function hide() {
    if (overlay) { overlay.remove(); overlay = null; }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  function show(problems) {
    hide();
    if (!problems.length) return;
    overlay = document.createElement("div");
    overlay.id = "fieldbook-overlay";
    var root = overlay.attachShadow ? overlay.attachShadow({ mode: "open" }) : overlay;
    var style = el("style");
    style.textContent =
      ":host{all:initial}" +
      ".back{position:fixed;inset:0;z-index:2147483647;background:rgba(20,20,24,.55);overflow:auto;" +
      "font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f}" +
      ".box{max-width:62rem;margin:4vh auto;background:#fff;border-top:6px solid #c62828;" +
      "border-radius:6px;box-shadow:0 12px 40px rgba(0,0,0,.35);padding:1.2rem 1.5rem}" +
      "header{display:flex;gap:1rem;align-items:baseline;justify-content:space-between}" +
      "h2{margin:0;font-size:1.2rem;color:#b71c1c}p.note{margin:.3rem 0 1rem;color:#555}" +
      "button{font:inherit;border:1px solid #ccc;background:#f6f6f6;border-radius:4px;cursor:pointer}" +
      "section{border-top:1px solid #eee;padding:.8rem 0}" +
      ".where{font:600 14px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#0b57d0}" +
      ".what{margin:.2rem 0 .4rem;font-weight:600}" +
      "pre{margin:0;padding:.7rem;background:#f7f7f9;border-radius:4px;overflow:auto;" +
      "font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre}";
    root.appendChild(style);
    var back = el("div", "back");
    var box = el("div", "box");
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-label", "Build problems");
    var header = el("header");
    var errors = problems.filter(function (p) { return p.severity === "error"; }).length;
    header.appendChild(el("h2", "", errors + (errors === 1 ? " error" : " errors") + " in the site"));
    var close = el("button", "", "Hide");
    close.type = "button";
    close.addEventListener("click", hide);
    header.appendChild(close);
    box.appendChild(header);
    box.appendChild(el("p", "note",
      "The page shows the last good build. Fix the file and save: this goes away by itself."));
    problems.forEach(function (p) {
      var s = el("section");
      s.appendChild(el("div", "where", p.location || "(site)"));
      s.appendChild(el("div", "what", p.severity + "[" + p.code + "]: " + p.message));
      s.appendChild(el("pre", "", p.text));
      box.appendChild(s);
    });
    back.appendChild(box);
    root.appendChild(back);
    document.documentElement.appendChild(overlay);
  }

  function swapCss(paths) {
    var links = document.querySelectorAll('link[rel~="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.href, location.href);
      if (url.origin !== location.origin) return;
      if (paths.indexOf(url.pathname.replace(/^\/+/, "")) < 0) return;
      url.searchParams.set("fieldbook", String(Date.now()));
      var next = link.cloneNode();
      next.href = url.href;
      next.addEventListener("load", function () { link.remove(); });
      next.addEventListener("error", function () { link.remove(); });
      link.parentNode.insertBefore(next, link.nextSibling);
    });
  }

  // Connect once the page has loaded, so the stream never holds up its load event.
  function listen() {
    var source = new EventSource("/__fieldbook/events");
    source.addEventListener("open", function () { state.connected = true; });
    source.addEventListener("error", function () { state.connected = false; });
    source.addEventListener("reload", function (e) {
      var d = JSON.parse(e.data);
      hide();
      if (d.all || notFound || d.paths.indexOf(here()) >= 0) location.reload();
    });
    source.addEventListener("css", function (e) { swapCss(JSON.parse(e.data).paths); });
    source.addEventListener("problems", function (e) { show(JSON.parse(e.data)); });
    source.addEventListener("ok", hide);
  }
  if (document.readyState === "complete") listen();
  else window.addEventListener("load", listen);
})();
