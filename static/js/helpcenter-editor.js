/* Help-center article editor: live Markdown preview, image upload, unsaved-changes warning.
 * Every form on the page works without this file; it only makes them quicker to use. */
(function () {
  "use strict";

  var PREVIEW_DELAY_MS = 300;

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function postForm(url, body, token) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  // Live preview: after a 300 ms pause in typing, the server renders (and sanitises) the
  // Markdown. Only the latest answer is shown, whatever order the answers arrive in.
  document.querySelectorAll("textarea[data-preview-url]").forEach(function (textarea) {
    var target = document.getElementById(textarea.getAttribute("data-preview-target"));
    var state = document.querySelector("[data-preview-state='" + textarea.getAttribute("data-preview-target") + "']");
    if (!target) { return; }
    var timer = null;
    var sequence = 0;
    var controller = null;

    function render() {
      var mine = ++sequence;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var body = new FormData();
      body.append("body", textarea.value);
      fetch(textarea.getAttribute("data-preview-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
        headers: { "X-CSRFToken": csrfToken(textarea.form), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (mine !== sequence) { return; }
        if (result.ok) {
          target.innerHTML = result.data.html;  // sanitised by helpcenter.markdown.render
          target.removeAttribute("aria-busy");
          if (state) { state.textContent = ""; }
        } else if (state) {
          state.textContent = result.data.error || "";
        }
      }).catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        if (state && mine === sequence) { state.textContent = state.getAttribute("data-offline") || "⚠"; }
      });
    }

    textarea.addEventListener("input", function () {
      target.setAttribute("aria-busy", "true");
      window.clearTimeout(timer);
      timer = window.setTimeout(render, PREVIEW_DELAY_MS);
    });
  });

  // Insert text at the cursor of a textarea (replacing any selection) and announce the change.
  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    if (typeof start !== "number") { start = end = textarea.value.length; }
    var before = textarea.value.slice(0, start), after = textarea.value.slice(end);
    var prefix = before && !/\n$/.test(before) ? "\n" : "";
    var suffix = after && !/^\n/.test(after) ? "\n" : "";
    var inserted = prefix + text + suffix;
    textarea.value = before + inserted + after;
    var caret = start + inserted.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Image upload: send the file, put the returned Markdown where the cursor was.
  document.querySelectorAll("form[data-image-upload]").forEach(function (form) {
    var textarea = document.getElementById(form.getAttribute("data-target"));
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    if (!textarea || !window.fetch || !window.FormData) { return; }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = form.querySelector("input[type=file]");
      status.classList.remove("is-error", "is-ok");
      if (!file || !file.files.length) {
        status.textContent = form.getAttribute("data-required-message") || "";
        status.classList.add("is-error");
        if (file) { file.focus(); }
        return;
      }
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      postForm(form.action, new FormData(form), csrfToken(form)).then(function (result) {
        if (result.ok && result.data.markdown) {
          insertAtCursor(textarea, result.data.markdown);
          status.textContent = form.getAttribute("data-uploaded-message") || result.data.markdown;
          status.classList.add("is-ok");
          form.reset();
        } else {
          status.textContent = result.data.error || form.getAttribute("data-failed-message") || String(result.status);
          status.classList.add("is-error");
        }
      }).catch(function () {
        status.textContent = form.getAttribute("data-failed-message") || "";
        status.classList.add("is-error");
      }).then(function () {
        button.disabled = false;
        form.removeAttribute("aria-busy");
      });
    });
  });

  // Each language is its own form: saving one reloads the page. Warn before unsaved text in
  // another form (or anywhere, when leaving) is lost.
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-translation-form]"));
  var submitting = null;
  forms.forEach(function (form) {
    form.addEventListener("input", function () { form.setAttribute("data-dirty", "true"); });
    form.addEventListener("submit", function () { submitting = form; });
  });
  window.addEventListener("beforeunload", function (event) {
    var unsaved = forms.some(function (form) {
      return form !== submitting && form.getAttribute("data-dirty") === "true";
    });
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
