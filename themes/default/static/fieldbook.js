// fieldbook default theme: light/dark toggle, the site menu on phones, sidebar groups loaded from
// nav.json, the table of contents, tickable checklists and learning-path progress.
// Every page works without this script; what it remembers stays in this browser (localStorage).
(function () {
  "use strict";

  var root = document.documentElement;
  var base = document.body.getAttribute("data-base") || "/";
  var article = document.querySelector("article[data-url]");
  var pageUrl = article ? article.getAttribute("data-url") : location.pathname;

  var store = {
    get: function (key) {
      try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
    },
    set: function (key, value) {
      try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: this page only */ }
    }
  };

  function each(selector, fn, scope) {
    Array.prototype.forEach.call((scope || document).querySelectorAll(selector), fn);
  }

  // Light and dark: follows the system until the reader chooses; the choice persists.
  var THEME = "fieldbook-theme";
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var themeToggle = document.querySelector(".theme-toggle");
  function currentTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return systemDark && systemDark.matches ? "dark" : "light";
  }
  function syncThemeToggle() {
    if (themeToggle) themeToggle.setAttribute("aria-pressed", currentTheme() === "dark" ? "true" : "false");
  }
  if (themeToggle) {
    themeToggle.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(THEME, next); } catch (e) { /* lasts for this page */ }
      syncThemeToggle();
    });
    syncThemeToggle();
    if (systemDark && systemDark.addEventListener) systemDark.addEventListener("change", syncThemeToggle);
  }

  // The site menu on narrow screens.
  var navToggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (navToggle && nav) {
    navToggle.hidden = false;
    var setMenu = function (open) {
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      root.classList.toggle("nav-open", open);
    };
    navToggle.addEventListener("click", function () {
      var open = navToggle.getAttribute("aria-expanded") !== "true";
      setMenu(open);
      if (open) {
        var here = nav.querySelector("[aria-current='page']") || nav.querySelector("a");
        if (here) here.focus({ preventScroll: true });
      }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && root.classList.contains("nav-open")) {
        setMenu(false);
        navToggle.focus();
      }
    });
    nav.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("a")) setMenu(false);
    });
  }

  // Sidebar groups: each kind opens to list its pages, loaded once from nav.json (a page carries
  // only its own neighbourhood). Open groups stay open while the reader moves around.
  var OPEN_GROUPS = "fieldbook-nav-open";
  var navData = null;
  function loadNav() {
    if (!navData) {
      navData = fetch(base + "nav.json").then(function (r) {
        if (!r.ok) throw new Error("nav.json: " + r.status);
        return r.json();
      });
    }
    return navData;
  }
  function openGroups() {
    try { return JSON.parse(sessionStorage.getItem(OPEN_GROUPS)) || []; } catch (e) { return []; }
  }
  function rememberGroup(kind, open) {
    var list = openGroups().filter(function (k) { return k !== kind; });
    if (open) list.push(kind);
    try { sessionStorage.setItem(OPEN_GROUPS, JSON.stringify(list)); } catch (e) { /* not remembered */ }
  }
  function fillGroup(list, kind) {
    return loadNav().then(function (data) {
      var entry = (data.kinds || []).filter(function (k) { return k.name === kind; })[0];
      if (!entry) return;
      var items = document.createDocumentFragment();
      entry.pages.forEach(function (p) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.title;
        if (p.url === pageUrl) a.setAttribute("aria-current", "page");
        li.appendChild(a);
        items.appendChild(li);
      });
      list.textContent = "";
      list.appendChild(items);
      list.removeAttribute("data-partial");
      list.setAttribute("data-full", "true");
    });
  }
  function setGroup(button, open) {
    var list = document.getElementById(button.getAttribute("aria-controls"));
    var kind = button.getAttribute("data-kind");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (!list) return;
    list.hidden = !open;
    if (open && !list.getAttribute("data-full") && (!list.firstElementChild || list.getAttribute("data-partial"))) {
      fillGroup(list, kind).catch(function () {
        // Offline or opened from disk: the kind's own page still lists everything.
        if (!list.firstElementChild) {
          var li = document.createElement("li");
          li.className = "nav-all";
          var a = document.createElement("a");
          a.href = button.parentNode.querySelector("a").href;
          a.textContent = "Open the list";
          li.appendChild(a);
          list.appendChild(li);
        }
      });
    }
  }
  each(".nav-expand", function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      setGroup(button, open);
      rememberGroup(button.getAttribute("data-kind"), open);
    });
    if (button.getAttribute("aria-expanded") !== "true" && openGroups().indexOf(button.getAttribute("data-kind")) >= 0) {
      setGroup(button, true);
    }
  });
  // Bring the current page into view in a long sidebar (only the sidebar scrolls).
  var currentLink = nav && nav.querySelector(".nav-pages [aria-current='page']");
  if (currentLink && nav.scrollHeight > nav.clientHeight) {
    var linkBox = currentLink.getBoundingClientRect();
    var navBox = nav.getBoundingClientRect();
    if (linkBox.bottom > navBox.bottom || linkBox.top < navBox.top) {
      nav.scrollTop += linkBox.top - navBox.top - nav.clientHeight / 2;
    }
  }

  // Table of contents: open beside the content on wide screens, folded above it on narrow ones;
  // the section being read is marked.
  var toc = document.querySelector(".toc details");
  if (toc && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 75rem)");
    var fold = function () { toc.open = wide.matches; };
    fold();
    if (wide.addEventListener) wide.addEventListener("change", fold);
  }
  var tocLinks = [];
  each(".toc a[href^='#']", function (a) {
    var target = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    if (target) tocLinks.push({ link: a, target: target });
  });
  if (tocLinks.length) {
    var marked = null;
    var ticking = false;
    var markCurrent = function () {
      ticking = false;
      var line = (parseFloat(getComputedStyle(root).scrollPaddingTop) || 80) + 8;
      var current = tocLinks[0];
      tocLinks.forEach(function (t) { if (t.target.getBoundingClientRect().top <= line) current = t; });
      if (current !== marked) {
        if (marked) marked.link.removeAttribute("aria-current");
        current.link.setAttribute("aria-current", "location");
        marked = current;
      }
    };
    window.addEventListener("scroll", function () {
      if (!ticking) { ticking = true; window.requestAnimationFrame(markCurrent); }
    }, { passive: true });
    markCurrent();
  }

  // Wide tables scroll on their own; make the scrolling region reachable by keyboard.
  function labelScrollers() {
    each(".table-wrap", function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table (scrolls sideways)");
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  labelScrollers();
  window.addEventListener("resize", labelScrollers);

  // Checklists: task-list boxes can be ticked, and are remembered per page.
  var boxes = [];
  each(".prose li > input[type='checkbox']", function (box) { boxes.push(box); });
  if (boxes.length) {
    var TASKS = "fieldbook-tasks:" + pageUrl;
    var saved = store.get(TASKS) || {};
    var keyOf = function (box) {
      var text = "";
      Array.prototype.forEach.call(box.parentNode.childNodes, function (n) {
        if (n.nodeType === 3 || (n.nodeType === 1 && !/^(UL|OL)$/.test(n.tagName))) text += n.textContent;
      });
      return text.replace(/\s+/g, " ").trim().slice(0, 200);
    };
    var status = document.createElement("div");
    status.className = "checklist-status";
    status.innerHTML = '<p role="status"><strong class="checklist-done">0</strong> of ' + boxes.length +
      ' ticked in this checklist</p><progress class="path-bar checklist-bar" max="' + boxes.length + '" value="0" aria-hidden="true"></progress>' +
      '<button type="button" class="button checklist-reset">Untick all</button>';
    var prose = document.querySelector(".prose");
    if (prose) prose.parentNode.insertBefore(status, prose);
    var update = function () {
      var done = boxes.filter(function (b) { return b.checked; }).length;
      status.querySelector(".checklist-done").textContent = String(done);
      status.querySelector(".checklist-bar").value = done;
      boxes.forEach(function (b) { b.parentNode.classList.toggle("is-done", b.checked); });
      status.querySelector(".checklist-reset").hidden = done === 0;
    };
    var save = function () {
      var state = {};
      boxes.forEach(function (b) { state[b.getAttribute("data-task")] = b.checked; });
      store.set(TASKS, state);
      update();
    };
    boxes.forEach(function (box) {
      var key = keyOf(box);
      var li = box.parentNode;
      box.disabled = false;
      box.removeAttribute("disabled");
      box.setAttribute("data-task", key);
      box.setAttribute("aria-label", key);
      if (Object.prototype.hasOwnProperty.call(saved, key)) box.checked = !!saved[key];
      li.classList.add("task");
      box.addEventListener("change", save);
      // A click on the item's text ticks it too (links inside keep working).
      li.addEventListener("click", function (e) {
        if (e.target === li) { box.checked = !box.checked; save(); }
      });
    });
    status.querySelector(".checklist-reset").addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = false; });
      save();
    });
    update();
  }

  // Learning paths: a step page records the visit; the path page shows how far the reader got.
  var VISITED = "fieldbook-visited";
  var visited = store.get(VISITED) || [];
  if (document.querySelector(".path-nav") && visited.indexOf(pageUrl) < 0) {
    visited.push(pageUrl);
    store.set(VISITED, visited);
  }
  var pathSteps = document.querySelector(".path-steps");
  if (pathSteps) {
    var steps = [];
    each(".step[data-url]", function (s) { steps.push(s); }, pathSteps);
    var progress = pathSteps.querySelector(".path-progress");
    var showProgress = function () {
      var done = 0;
      var next = null;
      steps.forEach(function (s, i) {
        var read = visited.indexOf(s.getAttribute("data-url")) >= 0;
        s.classList.toggle("is-read", read);
        s.querySelector(".step-read").hidden = !read;
        if (read) done += 1;
        else if (next === null) next = i;
      });
      progress.querySelector(".path-progress-count").textContent = String(done);
      progress.querySelector(".path-bar").value = done;
      var go = progress.querySelector(".path-continue");
      if (next === null) {
        go.textContent = "All steps read: start again";
        go.href = steps[0].getAttribute("data-url");
      } else {
        go.textContent = (done === 0 ? "Start with step " : "Continue with step ") + (next + 1);
        go.href = steps[next].getAttribute("data-url");
      }
      progress.querySelector(".path-reset").hidden = done === 0;
    };
    if (progress && steps.length) {
      progress.hidden = false;
      progress.querySelector(".path-reset").addEventListener("click", function () {
        var mine = steps.map(function (s) { return s.getAttribute("data-url"); });
        visited = visited.filter(function (u) { return mine.indexOf(u) < 0; });
        store.set(VISITED, visited);
        showProgress();
        progress.querySelector(".path-continue").focus();
      });
      showProgress();
    }
  }
})();
