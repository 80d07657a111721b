/* Live chat with the support team: new messages appear without reloading the page.
   Progressive enhancement: without this script the page works with plain form posts and
   reloads. No libraries. Configuration comes from data-* attributes on [data-chat]. */
(function () {
  "use strict";

  var chat = document.querySelector("[data-chat]");
  if (!chat || !window.fetch) {
    return;
  }

  var messagesUrl = chat.getAttribute("data-messages-url");
  var pollMs = parseInt(chat.getAttribute("data-poll-ms"), 10) || 2000;
  var lastId = parseInt(chat.getAttribute("data-last-id"), 10) || 0;
  var status = chat.getAttribute("data-status");
  var log = chat.querySelector("[data-chat-messages]");
  var form = chat.querySelector("[data-chat-form]");
  var errorBox = chat.querySelector("[data-chat-error]");
  // Every poll renews the session, so an unattended page would never be signed out:
  // polling stops after this long without anyone using the page.
  var IDLE_LIMIT_MS = 30 * 60 * 1000;
  var lastActivity = Date.now();
  var timer = null;
  var stopped = false;
  var failures = 0;

  function seen(id) {
    return log.querySelector('[data-message-id="' + id + '"]') !== null;
  }

  function append(message) {
    if (seen(message.id)) {
      return;
    }
    var item = document.createElement("li");
    item.className = "chat__message";
    if (message.from_support) {
      item.className += " chat__message--support";
    }
    if (message.mine) {
      item.className += " chat__message--mine";
    }
    item.setAttribute("data-message-id", String(message.id));

    var meta = document.createElement("p");
    meta.className = "chat__meta";
    var author = document.createElement("span");
    author.className = "chat__author";
    author.textContent = message.author;
    var time = document.createElement("time");
    time.setAttribute("datetime", message.datetime);
    time.textContent = message.time;
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(time);

    var body = document.createElement("p");
    body.className = "chat__body";
    // textContent, never innerHTML: message bodies are whatever people typed.
    body.textContent = message.body;

    item.appendChild(meta);
    item.appendChild(body);
    log.appendChild(item);
    lastId = Math.max(lastId, message.id);
  }

  function showError(text) {
    if (!errorBox) {
      return;
    }
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function showStatus(data) {
    var label = document.querySelector("[data-chat-status]");
    if (label && data.status_label) {
      label.textContent = data.status_label;
    }
    status = data.status;
    if (status === "closed") {
      stop();
      var notice = chat.querySelector("[data-chat-closed]");
      if (notice) {
        notice.hidden = false;
      }
      hide("[data-chat-reply]");
      hide("[data-chat-close]");
    }
  }

  function hide(selector) {
    var element = document.querySelector(selector);
    if (element) {
      element.hidden = true;
    }
  }

  function receive(data) {
    (data.messages || []).forEach(append);
    showStatus(data);
    return Boolean(data.more);
  }

  function stop(reason) {
    stopped = true;
    window.clearTimeout(timer);
    if (reason) {
      showError(reason);
    }
  }

  // Signed out, or no longer allowed to see the conversation: polling cannot recover.
  function fatal(response) {
    return response.redirected || response.status === 403 || response.status === 404;
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    if (!stopped) {
      timer = window.setTimeout(poll, delay);
    }
  }

  function poll() {
    if (stopped) {
      return;
    }
    if (document.hidden) {
      return; // resumed by the visibilitychange listener
    }
    if (Date.now() - lastActivity > IDLE_LIMIT_MS) {
      stop("New messages are no longer being checked. Reload the page to see them.");
      return;
    }
    fetch(messagesUrl + "?after=" + lastId, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (fatal(response)) {
          stop("You may have been signed out. Reload the page to carry on.");
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var more = false;
        if (data) {
          failures = 0;
          more = receive(data);
        }
        // More were waiting than one answer holds: fetch the rest at once.
        schedule(more ? 0 : pollMs);
      })
      .catch(function () {
        // A dropped connection or a server restart: try again, less and less often.
        failures += 1;
        schedule(Math.min(pollMs * Math.pow(2, failures), 60000));
      });
  }

  function send(event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var textarea = form.querySelector("textarea");
    var data = new FormData(form);
    data.append("after", String(lastId));
    button.disabled = true;
    showError("");
    fetch(form.action, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (fatal(response)) {
          throw new Error("refused");
        }
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          var errors = result.body.errors || {};
          var first = (errors.body || errors.__all__ || [{ message: "Your message was not sent." }])[0];
          showError("Error: " + first.message);
          return;
        }
        textarea.value = "";
        receive(result.body);
      })
      .catch(function () {
        showError("Error: your message was not sent. Check your connection, or reload the page, and try again.");
      })
      .then(function () {
        button.disabled = false;
        textarea.focus();
      });
  }

  function active() {
    lastActivity = Date.now();
  }

  ["keydown", "pointerdown", "focusin"].forEach(function (name) {
    document.addEventListener(name, active, { passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      active();
      schedule(0);
    }
  });
  if (form) {
    form.addEventListener("submit", send);
  }
  if (status !== "closed") {
    schedule(pollMs);
  }
})();
