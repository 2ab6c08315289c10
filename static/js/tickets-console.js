/* Request console: inbox selection, reply box, macros, and the live "also viewing" notice.
   Every page works without this file; it only makes them quicker to use. */
(function () {
  "use strict";

  // Inbox: "select all" and a count of the selected requests.
  document.querySelectorAll("form[data-bulk-form]").forEach(function (form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=tickets]"));
    var counter = form.querySelector("[data-selected-count]");
    function update() {
      var checked = boxes.filter(function (box) { return box.checked; }).length;
      if (all) {
        all.checked = checked > 0 && checked === boxes.length;
        all.indeterminate = checked > 0 && checked < boxes.length;
      }
      if (counter) { counter.textContent = checked ? "(" + checked + ")" : ""; }
    }
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });

  // SLA countdowns: the time left to each deadline, and its state once the browser's
  // clock passes the warning point and the deadline. The server wrote the same text
  // (console_views.SlaTexts, whose strings arrive in #tc-sla-texts) when it rendered
  // the page; this only keeps it current while the page stays open.
  var slaTexts = document.getElementById("tc-sla-texts");
  var slaClocks = Array.prototype.slice.call(document.querySelectorAll("[data-sla-due]"));
  if (slaTexts && slaClocks.length) {
    var texts = JSON.parse(slaTexts.textContent);
    var fill = function (template, values) {
      return template.replace(/%\((\w+)\)[ds]/g, function (match, name) { return String(values[name]); });
    };
    // As SlaTexts.left(): whole minutes rounded up, never "0 min".
    var left = function (ms) {
      var total = Math.max(1, Math.ceil(Math.abs(ms) / 60000));
      var days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), minutes = total % 60;
      var text = days ? fill(texts.days, { days: days, hours: hours })
        : hours ? fill(texts.hours, { hours: hours, minutes: minutes })
        : fill(texts.minutes, { minutes: minutes });
      return ms > 0 ? text : fill(texts.overdue, { time: text });
    };
    var clocks = slaClocks.map(function (element) {
      var warn = element.getAttribute("data-sla-warn");
      return {
        element: element,
        due: Date.parse(element.getAttribute("data-sla-due")),
        warn: warn ? Date.parse(warn) : NaN,
        label: element.querySelector("[data-sla-label]"),
        left: element.querySelector("[data-sla-left]")
      };
    });
    var setText = function (node, text) {
      if (node && node.textContent !== text) { node.textContent = text; }
    };
    var tick = function () {
      var now = Date.now();
      clocks.forEach(function (clock) {
        // As console_views._deadline_state(); NaN (no warning point) is never <= now.
        var state = clock.due <= now ? "breached" : clock.warn <= now ? "at_risk" : "ok";
        ["ok", "at_risk", "breached"].forEach(function (name) {
          clock.element.classList.toggle("tc-sla-" + name, name === state);
        });
        setText(clock.label, texts.labels[state]);
        setText(clock.left, left(clock.due - now));
      });
    };
    tick();
    // Every second: a state changes within a second of its instant, for about a
    // hundred small text comparisons.
    setInterval(tick, 1000);
  }

  var replyForm = document.querySelector("form[data-reply-form]");
  var body = replyForm ? replyForm.querySelector("textarea[name=body]") : null;

  // Reply box: public reply or internal note, and a draft that survives reloads.
  if (replyForm && body) {
    var submit = replyForm.querySelector("[data-reply-submit]");
    var warning = replyForm.querySelector("[data-internal-warning]");
    var modes = replyForm.querySelectorAll("input[name=mode]");
    var showMode = function () {
      var checked = replyForm.querySelector("input[name=mode]:checked");
      var internal = checked && checked.value === "internal";
      replyForm.classList.toggle("is-internal", !!internal);
      if (warning) { warning.hidden = !internal; }
      if (submit) {
        submit.textContent = submit.getAttribute(internal ? "data-label-internal" : "data-label-public");
      }
    };
    modes.forEach(function (radio) { radio.addEventListener("change", showMode); });
    showMode();

    // Other forms on the page (status, priority …) reload it: keep what was typed.
    var draftKey = replyForm.getAttribute("data-draft-key");
    var storage = null;
    try { storage = window.sessionStorage; } catch (e) { storage = null; }
    if (storage && draftKey) {
      if (!body.value) { body.value = storage.getItem(draftKey) || ""; }
      body.addEventListener("input", function () {
        if (body.value) { storage.setItem(draftKey, body.value); } else { storage.removeItem(draftKey); }
      });
      // Sent: forget it (a refused reply comes back with the text in the box anyway).
      replyForm.addEventListener("submit", function () { storage.removeItem(draftKey); });
    }
  }

  // Macros: insert the rendered text where the cursor is, instead of reloading the page.
  var macroForm = document.querySelector("form[data-macro-form]");
  if (macroForm && body) {
    macroForm.addEventListener("submit", function (event) {
      var select = macroForm.querySelector("select[name=macro]");
      var option = select && select.options[select.selectedIndex];
      if (!option) { return; }
      event.preventDefault();
      var text = option.getAttribute("data-text") || "";
      var start = body.selectionStart || 0, end = body.selectionEnd || 0;
      if (document.activeElement !== body && body.value) { start = end = body.value.length; }
      var before = body.value.slice(0, start), after = body.value.slice(end);
      var gap = before && !/\n$/.test(before) ? "\n" : "";
      body.value = before + gap + text + after;
      var caret = (before + gap + text).length;
      body.focus();
      body.setSelectionRange(caret, caret);
      body.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // Live collision notice: who else has this request open, who is typing, and "it changed".
  var presence = document.getElementById("ticket-presence");
  if (!presence || !window.WebSocket) { return; }
  var banner = document.querySelector("[data-changed-banner]");
  var pageVersion = parseInt(presence.getAttribute("data-version"), 10) || 0;
  var heartbeatMs = (parseInt(presence.getAttribute("data-heartbeat"), 10) || 15) * 1000;
  var TYPING_EVERY_MS = 3000;
  var FORBIDDEN = 4403;
  var socket = null, heartbeat = null, retryMs = 1000, lastTyping = 0, stopped = false;
  var viewers = [], typingTimers = {};

  function line(template, name) {
    var item = document.createElement("p");
    item.className = "tc-presence-line";
    item.textContent = template.split("{name}").join(name);
    return item;
  }
  function render() {
    presence.textContent = "";
    viewers.forEach(function (viewer) {
      var template = presence.getAttribute(viewer.typing ? "data-text-typing" : "data-text-viewing");
      var item = line(template, viewer.name);
      if (viewer.typing) { item.classList.add("is-typing"); }
      presence.appendChild(item);
    });
    presence.classList.toggle("is-active", viewers.length > 0);
  }
  function onPresence(message) {
    viewers = message.viewers || [];
    var seconds = message.typing_seconds || 6;
    viewers.forEach(function (viewer) {
      clearTimeout(typingTimers[viewer.name]);
      if (viewer.typing) {
        // Nobody says "stopped typing": the notice fades unless it is repeated.
        typingTimers[viewer.name] = setTimeout(function () {
          viewer.typing = false;
          render();
        }, seconds * 1000);
      }
    });
    render();
  }
  function onChanged(message) {
    if (message.kind === "message" || message.version > pageVersion) {
      if (banner) { banner.hidden = false; }
    }
  }
  function send(type) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ type: type })); }
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + presence.getAttribute("data-ws-path"));
    socket.addEventListener("open", function () {
      retryMs = 1000;
      send("viewing");
      clearInterval(heartbeat);
      heartbeat = setInterval(function () { send("viewing"); }, heartbeatMs);
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "presence") { onPresence(message); }
      else if (message.type === "changed") { onChanged(message); }
    });
    socket.addEventListener("close", function (event) {
      clearInterval(heartbeat);
      viewers = [];
      render();
      if (stopped || event.code === FORBIDDEN) { return; }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }
  if (body) {
    body.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping >= TYPING_EVERY_MS) {
        lastTyping = now;
        send("typing");
      }
    });
  }
  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) { socket.close(); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { stopped = false; connect(); }  // back from the back/forward cache
  });
  connect();
})();
