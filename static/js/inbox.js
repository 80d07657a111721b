/* The support inbox brings itself up to date: every few seconds it fetches itself and
   replaces its lists, unless the officer is working in them (focus inside), and says the
   new waiting count to a screen reader when it changes. Without JavaScript the page is
   the same, brought up to date by reloading it. */
(function () {
  "use strict";
  var lists = document.querySelector("[data-inbox-lists]");
  var status = document.querySelector("[data-inbox-status]");
  if (!lists || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(lists.getAttribute("data-refresh-ms"), 10) || 20000;
  // An inbox left alone stops asking, as the chat does: each fetch would renew the session
  // and keep an unattended screen signed in for ever.
  var IDLE_LIMIT_MS = 30 * 60 * 1000;
  var lastActivity = Date.now();
  var timer = null;
  ["keydown", "pointerdown", "focusin"].forEach(function (name) {
    document.addEventListener(name, function () {
      lastActivity = Date.now();
    }, { passive: true });
  });

  function waiting(root) {
    var link = root.querySelector("[data-inbox-waiting]");
    return link ? link.getAttribute("data-inbox-waiting") : null;
  }

  function refresh() {
    if (Date.now() - lastActivity > IDLE_LIMIT_MS) {
      window.clearInterval(timer);
      var stopped = document.querySelector("[data-inbox-stopped]");
      if (stopped) {
        stopped.hidden = false;
      }
      return;
    }
    if (document.hidden || lists.contains(document.activeElement)) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshLists = fresh.querySelector("[data-inbox-lists]");
        if (freshLists && freshLists.innerHTML !== lists.innerHTML) {
          lists.innerHTML = freshLists.innerHTML;
        }
        var before = waiting(document);
        var now = waiting(fresh);
        var link = document.querySelector("[data-inbox-waiting]");
        if (link && now !== null && now !== before) {
          link.setAttribute("data-inbox-waiting", now);
          link.textContent = "Support inbox (" + now + " waiting)";
          if (status) {
            status.textContent = now + " conversation" + (now === "1" ? "" : "s") + " waiting";
          }
        }
      })
      .catch(function () {
        /* Offline for a moment: the next turn tries again. */
      });
  }

  timer = window.setInterval(refresh, every);
})();
