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

    // A photo is sent to the desk as soon as it is chosen (so a bad one is said at once, and
    // Post does not wait for it); the post then names it, with its alt text.
    var photo = document.getElementById("photo");
    var alt = document.getElementById("alt");
    var parts = document.getElementById("photo-parts");
    var photoStatus = document.getElementById("photo-status");
    var capText = photo.dataset.capText;
    var kept = null;
    var uploading = null;
    function photoSay(words, kind) {
      photoStatus.textContent = words;
      photoStatus.setAttribute("data-kind", kind);
    }
    function clearPhoto() {
      photo.value = "";
      kept = null;
      uploading = null;
      alt.value = "";
      parts.hidden = true;
      photo.removeAttribute("aria-invalid");
      alt.removeAttribute("aria-invalid");
      alt.removeAttribute("aria-required");
      photoSay("", "");
    }
    function upload(file) {
      return fetch("/api/photo", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf() },
        body: file,
      }).then(function (r) {
        if (r.status === 413) { return { ok: false, text: "The photo is larger than the desk takes (" + capText + ")." }; }
        return r.json().then(function (j) {
          if (r.status === 401) { location.href = "/signin"; }
          return { ok: !!j.ok, text: j.message || j.error || "", photo: j.photo };
        }, function () {
          return { ok: false, text: "The desk answered " + r.status + "." };
        });
      }, function () {
        return { ok: false, text: "The photo did not reach the desk: check the connection, then choose it again." };
      });
    }
    photo.addEventListener("change", function () {
      kept = null;
      var file = photo.files && photo.files[0];
      if (!file) { clearPhoto(); return; }
      var cap = parseInt(photo.dataset.cap, 10);
      if (cap && file.size > cap) {
        uploading = null;
        photo.setAttribute("aria-invalid", "true");
        photoSay("The photo is larger than the desk takes (" + capText + "): choose a smaller one.", "error");
        return;
      }
      photo.removeAttribute("aria-invalid");
      parts.hidden = false;
      alt.setAttribute("aria-required", "true");
      photoSay("Sending the photo to the desk…", "busy");
      var mine = upload(file).then(function (r) {
        if (uploading !== mine) { return; }
        if (r.ok) {
          kept = r.photo;
          photoSay(r.text, "ok");
        } else {
          photo.setAttribute("aria-invalid", "true");
          photoSay(r.text, "error");
        }
      });
      uploading = mine;
    });
    document.getElementById("photo-clear").addEventListener("click", function () { clearPhoto(); photo.focus(); });
    var needAlt = "Describe the photo first: its alt text is required (what it shows, for people who cannot see it).";
    alt.addEventListener("input", function () {
      if (!alt.value.trim()) { return; }
      alt.removeAttribute("aria-invalid");
      // The refusal no longer holds once the photo is described.
      var s = document.getElementById("status");
      if (s && s.textContent === needAlt) { s.textContent = ""; s.removeAttribute("data-kind"); }
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!text.value.trim()) { say("Type a point first.", "error"); text.focus(); return; }
      var file = photo.files && photo.files[0];
      if (file && !alt.value.trim()) {
        alt.setAttribute("aria-invalid", "true");
        say(needAlt, "error");
        alt.focus();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      if (!key) { key = newKey(); }
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      function done() {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
      (file && uploading ? uploading : Promise.resolve()).then(function () {
        if (file && !kept) {
          done();
          say("The photo was not taken (" + (photoStatus.textContent || "see above") + "): choose another, or remove it.", "error");
          photo.focus();
          return;
        }
        var body = { text: text.value, thread: thread.value, key: key };
        if (kept) { body.photos = [{ photo: kept, alt: alt.value }]; }
        api("/api/say", body).then(function (r) {
          done();
          say(r.text, r.ok ? "ok" : "error");
          // A lost answer keeps the key: tapping again cannot post twice.
          if (!r.lost) { key = null; }
          if (r.ok) { text.value = ""; clearPhoto(); preview(); }
        });
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
