// The time picker without full reloads. Every control is a plain link or GET form that
// works on its own; this script fetches the same URL, swaps the picker in place, keeps the
// address bar in step, and makes the day strip one Tab stop moved with the arrow keys
// (WAI-ARIA APG tabs, manual activation: arrows move focus, Enter or Space picks the day).
(function () {
  "use strict";
  var status = document.querySelector("[data-picker-status]");

  function enhance(root) {
    var form = root.querySelector("[data-mode-filter]");
    if (form) {
      form.querySelectorAll("[data-no-js]").forEach(function (el) { el.hidden = true; });
      form.addEventListener("change", function () {
        var query = new URLSearchParams(new FormData(form)).toString();
        var mode = form.querySelector("input[name=mode]:checked");
        load(form.action.split("?")[0] + "?" + query, function (fresh) {
          var again = mode && fresh.querySelector("input[name=mode][value=" + mode.value + "]");
          if (again) { again.focus(); }
        });
      });
    }
    var strip = root.querySelector("[data-day-strip]");
    if (!strip) { return; }
    strip.setAttribute("role", "tablist");
    strip.setAttribute("aria-labelledby", "days-heading");
    var tabs = Array.prototype.slice.call(strip.querySelectorAll(".day-chip"));
    var enabled = tabs.filter(function (t) { return t.tagName === "A"; });
    var current = strip.querySelector("[aria-current]");
    tabs.forEach(function (tab) {
      var selected = tab === current;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.removeAttribute("aria-current");
      if (tab.tagName === "A") {
        tab.tabIndex = selected || (!current && tab === enabled[0]) ? 0 : -1;
        tab.setAttribute("aria-controls", "day-times");
      } else {
        tab.setAttribute("aria-disabled", "true");
      }
    });
    if (current && current.tagName !== "A" && enabled.length) { enabled[0].tabIndex = 0; }
    var panel = root.querySelector("#day-times");
    if (panel && current) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", current.id);
    }
    strip.addEventListener("keydown", function (event) {
      var index = enabled.indexOf(document.activeElement);
      if (index < 0) { return; }
      var next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") { next = enabled[(index + 1) % enabled.length]; }
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") { next = enabled[(index - 1 + enabled.length) % enabled.length]; }
      else if (event.key === "Home") { next = enabled[0]; }
      else if (event.key === "End") { next = enabled[enabled.length - 1]; }
      else if (event.key === " ") { event.preventDefault(); document.activeElement.click(); return; }
      if (next) {
        event.preventDefault();
        enabled.forEach(function (t) { t.tabIndex = t === next ? 0 : -1; });
        next.focus();
      }
    });
  }

  function load(url, after) {
    var picker = document.getElementById("slot-picker");
    picker.setAttribute("aria-busy", "true");
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("slot-picker");
        if (!fresh) { throw new Error("no picker"); }
        picker.replaceWith(fresh);
        history.pushState({ picker: true }, "", url);
        if (window.mindsetLocalTimes) { window.mindsetLocalTimes(fresh); }
        enhance(fresh);
        var heading = fresh.querySelector("#times-heading");
        if (status) { status.textContent = heading ? heading.textContent : ""; }
        after(fresh);
      })
      .catch(function () { window.location.href = url; });
  }

  function focusSelectedDay(fresh) {
    var tab = fresh.querySelector("[role=tab][aria-selected=true]") || fresh.querySelector("[role=tab][tabindex='0']");
    if (tab && tab.tagName === "A") { tab.focus(); } else if (fresh.querySelector("#times-heading")) {
      var h = fresh.querySelector("#times-heading"); h.tabIndex = -1; h.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#slot-picker a.day-chip, #slot-picker [data-picker-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    load(link.href, focusSelectedDay);
  });
  window.addEventListener("popstate", function () {
    if (document.getElementById("slot-picker")) { window.location.reload(); }
  });
  var picker = document.getElementById("slot-picker");
  if (picker) { enhance(picker); }
}());
