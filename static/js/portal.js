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
})();
