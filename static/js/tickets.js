/* Request pages: category fields, coin → network, help-center suggestions, copy buttons.
   Every page works without this file: the request form then takes two steps
   (choose a category → its fields), and values stay selectable text. */
(function () {
  "use strict";

  // Copy buttons next to references, TXIDs and addresses. The Clipboard API exists only
  // on secure pages (HTTPS, localhost), so the buttons stay hidden where it cannot work.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
      var label = button.querySelector("span");
      var original = label.textContent;
      var timer = null;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          label.textContent = button.getAttribute("data-copied-label");
          clearTimeout(timer);
          timer = setTimeout(function () { label.textContent = original; }, 2000);
        }, function () {});
      });
    });
  }

  var form = document.querySelector("form[data-request-form]");
  if (!form) { return; }

  // Category first: every category's fields are in the page; only the chosen one is
  // shown and enabled (a disabled fieldset is not submitted).
  var groups = Array.prototype.slice.call(form.querySelectorAll("[data-category-fields]"));
  var details = form.querySelector("[data-after-category]");
  form.querySelectorAll("[data-no-js]").forEach(function (element) { element.hidden = true; });

  function selectedCategory() {
    var checked = form.querySelector("input[data-category-choice]:checked");
    return checked ? checked.value : "";
  }
  function showCategory() {
    var slug = selectedCategory();
    groups.forEach(function (group) {
      var chosen = group.getAttribute("data-category-fields") === slug;
      group.hidden = !chosen;
      group.disabled = !chosen;
    });
    if (slug && details) { details.hidden = false; }
  }
  form.querySelectorAll("input[data-category-choice]").forEach(function (choice) {
    choice.addEventListener("change", showCategory);
  });
  // Also after "Back": the browser restores the checked radio, not what was shown.
  showCategory();

  // Networks offered for the chosen coin (tickets.networks.networks_for_coin).
  var coinNetworks = {};
  var networkData = document.getElementById("coin-networks");
  if (networkData) {
    try { coinNetworks = JSON.parse(networkData.textContent) || {}; } catch (e) { coinNetworks = {}; }
  }
  groups.forEach(function (group) {
    var coin = group.querySelector("select[data-field-type=coin]");
    var network = group.querySelector("select[data-field-type=network]");
    if (!coin || !network) { return; }
    function filterNetworks() {
      var allowed = coinNetworks[coin.value];
      var usable = [];
      Array.prototype.forEach.call(network.options, function (option) {
        if (!option.value) { return; }
        var ok = !allowed || allowed.indexOf(option.value) !== -1;
        option.hidden = !ok;
        option.disabled = !ok;
        if (ok) { usable.push(option); }
      });
      var current = network.options[network.selectedIndex];
      if (current && current.disabled) { network.value = ""; }
      if (allowed && usable.length === 1) { network.value = usable[0].value; }
    }
    coin.addEventListener("change", filterNetworks);
    filterNetworks();
  });

  // Help-center articles that may answer the question, while the subject (or, while the
  // subject is short, the description) is typed. Stale requests are aborted and stale
  // answers ignored, so the list always matches the latest text.
  var panel = form.querySelector("[data-suggestions]");
  var list = form.querySelector("[data-suggestion-list]");
  var template = form.querySelector("template[data-suggestion-template]");
  var subject = form.querySelector("input[name=subject]");
  var description = form.querySelector("textarea[name=description]");
  var deflect = document.getElementById("deflect-form");
  var searchUrl = form.getAttribute("data-search-url");
  var language = form.getAttribute("data-language") || "";
  var MAX_RESULTS = 5;
  var DELAY_MS = 350;
  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/;

  if (panel && list && template && subject && description && searchUrl && window.fetch) {
    var timer = null;
    var controller = null;
    var lastQuery = "";

    var queryText = function () {
      var text = subject.value.trim();
      if (text.length < 3) { text = description.value.trim(); }
      return text.replace(/\s+/g, " ").slice(0, 200);
    };
    // Two CJK characters already make a word (提币); Latin needs a little more.
    var longEnough = function (text) { return text.length >= (CJK.test(text) ? 2 : 3); };
    var hide = function () { list.textContent = ""; panel.hidden = true; };
    // Only a path on this site: never a javascript: or another site's URL.
    var sitePath = function (url) {
      return typeof url === "string" && /^\/(?![\/\\])/.test(url) ? url : null;
    };
    var render = function (results) {
      list.textContent = "";
      results.slice(0, MAX_RESULTS).forEach(function (result) {
        var href = sitePath(result.url);
        if (!href || !result.key) { return; }
        var item = template.content.firstElementChild.cloneNode(true);
        item.querySelector("[data-suggestion-link]").href = href;
        item.querySelector("[data-suggestion-title]").textContent = result.title || "";
        var solved = item.querySelector("[data-suggestion-solved]");
        solved.value = result.key;
        solved.addEventListener("click", function () {
          if (deflect) { deflect.elements.namedItem("language").value = result.language || language; }
        });
        list.appendChild(item);
      });
      panel.hidden = list.children.length === 0;
    };
    var fetchSuggestions = function () {
      var query = queryText();
      if (!longEnough(query)) { lastQuery = ""; if (controller) { controller.abort(); } hide(); return; }
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var params = "q=" + encodeURIComponent(query) + "&lang=" + encodeURIComponent(language) +
        "&page_size=" + MAX_RESULTS;
      fetch(searchUrl + "?" + params, {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (query === lastQuery) { render(data.results || []); } })
        .catch(function () {});
    };
    var schedule = function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY_MS);
    };
    subject.addEventListener("input", schedule);
    description.addEventListener("input", schedule);
    if (subject.value || description.value) { schedule(); }
  }

  // "This solved my problem" posts what was typed so far with the deflection.
  if (deflect) {
    deflect.addEventListener("submit", function () {
      deflect.elements.namedItem("subject").value = subject ? subject.value : "";
      deflect.elements.namedItem("category").value = selectedCategory();
    });
  }
})();
