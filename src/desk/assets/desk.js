// loudhailer desk: the page's behaviour. Plain script, no libraries, nothing loaded from
// elsewhere. Actions go to /api/… with the session's CSRF token in a header; the page is kept
// up to date by the server's events (/events), which send fresh HTML for its parts.
"use strict";

(function () {
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)(?:__Host-)?lh_csrf=([0-9a-f]+)/);
    return m ? m[1] : "";
  }

  function newKey() {
    var bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // POSTs JSON; resolves to {ok, text, body, lost}: lost is true when no answer came back.
  function api(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.status === 401) { location.href = "/signin"; }
        return { ok: !!j.ok, text: j.message || j.error || "", body: j, lost: false };
      }, function () {
        return { ok: false, text: "The desk answered " + r.status + ".", body: {}, lost: false };
      });
    }, function () {
      return { ok: false, text: "No answer from the desk: check the connection, then tap again (it will not post twice).", body: {}, lost: true };
    });
  }

  function say(text, kind) {
    var s = document.getElementById("status");
    if (!s) { return; }
    s.textContent = "";
    s.setAttribute("data-kind", kind);
    // A fresh text node so screen readers announce a repeated message too.
    window.setTimeout(function () { s.textContent = text; }, 30);
  }

  function signIn() {
    var status = document.getElementById("signin-status");
    var token = location.hash.replace(/^#/, "");
    if (!token) { return; }
    history.replaceState(null, "", "/signin");
    status.textContent = "Signing in…";
    fetch("/signin", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: token }),
    }).then(function (r) {
      return r.json().then(function (j) {
        if (j.ok) { location.replace("/"); } else { status.textContent = j.error || "Refused."; }
      });
    }, function () {
      status.textContent = "No answer from the desk: check that this phone can reach it.";
    });
  }

  function desk() {
    var form = document.getElementById("compose");
    var text = document.getElementById("text");
    var thread = document.getElementById("thread");
    var counts = document.getElementById("counts");
    var key = null;
    var chosen = false;
    var seq = 0;
    var timer = null;

    function preview() {
      var mine = ++seq;
      api("/api/preview", { text: text.value }).then(function (r) {
        if (mine === seq && r.ok && typeof r.body.html === "string") { counts.innerHTML = r.body.html; }
      });
    }
    text.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(preview, 300);
    });
    thread.addEventListener("change", function () { chosen = true; });
    preview();

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!text.value.trim()) { say("Type a point first.", "error"); text.focus(); return; }
      var button = form.querySelector("button[type=submit]");
      if (!key) { key = newKey(); }
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      api("/api/say", { text: text.value, thread: thread.value, key: key }).then(function (r) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        say(r.text, r.ok ? "ok" : "error");
        // A lost answer keeps the key: tapping again cannot post twice.
        if (!r.lost) { key = null; }
        if (r.ok) { text.value = ""; preview(); }
      });
    });

    var bodies = {
      shift: function (d) { return { session: d.session, by: parseInt(d.by, 10) }; },
      skip: function (d) { return { session: d.session }; },
      "send-next": function (d) { return { session: d.session }; },
      approve: function (d) { return { session: d.session, n: parseInt(d.n, 10) }; },
      pause: function (d) { return { account: d.account }; },
      resume: function (d) { return { account: d.account }; },
      retry: function (d) { return { job: d.job }; },
      snippet: function (d) { return { label: d.label, thread: thread.value, key: newKey() }; },
    };
    document.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-action]");
      if (!b || b.disabled) { return; }
      var d = b.dataset;
      if (d.confirm && !window.confirm(d.confirm)) { return; }
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
      api("/api/" + d.action, bodies[d.action](d)).then(function (r) {
        b.disabled = false;
        b.removeAttribute("aria-busy");
        say(r.text, r.ok ? "ok" : "error");
      });
    });

    document.getElementById("signout").addEventListener("click", function () {
      fetch("/signout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } })
        .then(function () { location.href = "/signin"; });
    });

    // Which control had focus, to give it back after its part of the page is replaced.
    function focusKey(el) {
      if (!el || !el.dataset || !el.dataset.action) { return null; }
      return [el.dataset.action, el.dataset.session || el.dataset.account || el.dataset.job || el.dataset.label || ""];
    }
    function replace(id, html) {
      var el = document.getElementById(id);
      if (!el) { return; }
      if (id === "thread") {
        if (document.activeElement === el) { return; }
        var before = el.value;
        el.innerHTML = html;
        if (chosen && Array.prototype.some.call(el.options, function (o) { return o.value === before; })) { el.value = before; }
        return;
      }
      var had = el.contains(document.activeElement) ? focusKey(document.activeElement) : null;
      el.innerHTML = html;
      if (had) {
        var again = el.querySelector('[data-action="' + had[0] + '"][data-session="' + had[1] + '"], [data-action="' + had[0] + '"][data-account="' + had[1] + '"], [data-action="' + had[0] + '"][data-job="' + had[1] + '"]');
        if (again) { again.focus(); }
      }
    }
    var live = document.getElementById("live");
    function follow() {
      var source = new EventSource("/events");
      source.onopen = function () { live.textContent = "Live"; live.setAttribute("data-state", "live"); };
      source.onerror = function () { live.textContent = "Reconnecting…"; live.setAttribute("data-state", "offline"); };
      source.addEventListener("parts", function (e) {
        var parts = JSON.parse(e.data);
        Object.keys(parts).forEach(function (id) { replace(id, parts[id]); });
      });
      source.addEventListener("signed-out", function () { source.close(); location.href = "/signin"; });
    }
    follow();
  }

  // Loaded async (so a slow network never holds the first paint): the page may be parsed
  // already, or not yet.
  function start() {
    if (document.getElementById("compose")) { desk(); } else if (document.getElementById("signin-status")) { signIn(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
