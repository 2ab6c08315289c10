/* Small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // Selects marked data-autosubmit (language switcher, presence) submit their form
  // when picked with a mouse or touch. Arrow keys only move the choice (WCAG 3.2.2);
  // keyboard users confirm with Enter or the button that follows the select.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var lastArrowKey = 0;
    function submit() {
      if (select.form) { select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit(); }
    }
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); submit(); return; }
      if (/^(Arrow|Page|Home|End)/.test(event.key) || event.key.length === 1) { lastArrowKey = Date.now(); }
    });
    select.addEventListener("change", function () {
      if (Date.now() - lastArrowKey > 500) { submit(); }
    });
  });

  // Tell the server the visitor's time zone so dates render in local time.
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = ""; }
  var cookieName = document.body.getAttribute("data-tz-cookie") || "portal_tz";
  if (zone && document.cookie.indexOf(cookieName + "=" + encodeURIComponent(zone)) === -1) {
    document.cookie = cookieName + "=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  }
  document.querySelectorAll("form[data-fill-timezone] input[name=time_zone]").forEach(function (input) {
    if (!input.value && zone) { input.value = zone; }
  });

  // Phone layout: the menu button shows and hides the navigation.
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      menu.classList.toggle("is-open", !open);
    });
  }

  // Close the account menu with Escape and when focus or a click leaves it.
  document.querySelectorAll("details.account-menu").forEach(function (details) {
    details.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && details.open) {
        details.open = false;
        details.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (details.open && !details.contains(event.target)) { details.open = false; }
    });
  });

  // Search suggestions: article titles while the reader types (a combobox).
  document.querySelectorAll("form.search-suggest").forEach(function (form) {
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector(".suggestions");
    if (!input || !list || !window.fetch) { return; }
    var timer = null, active = -1, lastQuery = "", controller = null;

    function options() { return Array.prototype.slice.call(list.querySelectorAll("[role=option]")); }
    function close() {
      list.hidden = true; list.innerHTML = ""; active = -1;
      input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    }
    function highlight(index) {
      var items = options();
      items.forEach(function (item, i) { item.setAttribute("aria-selected", String(i === index)); });
      active = index;
      if (index >= 0 && items[index]) { input.setAttribute("aria-activedescendant", items[index].id); }
      else { input.removeAttribute("aria-activedescendant"); }
    }
    function render(results) {
      list.innerHTML = "";
      results.forEach(function (result, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var link = document.createElement("a");
        link.href = result.url;
        link.textContent = result.title;
        link.tabIndex = -1;
        item.appendChild(link);
        item.addEventListener("mousedown", function (event) { event.preventDefault(); window.location.href = result.url; });
        list.appendChild(item);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", String(results.length > 0));
      active = -1;
    }
    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < 2) { close(); return; }
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var url = form.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query) +
        "&lang=" + encodeURIComponent(form.getAttribute("data-language") || "");
      fetch(url, { headers: { "Accept": "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === query) { render(data.results || []); } })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 150);
    });
    input.addEventListener("keydown", function (event) {
      var items = options();
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault(); highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0 && items[active]) {
        event.preventDefault(); window.location.href = items[active].querySelector("a").href;
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  });
})();
