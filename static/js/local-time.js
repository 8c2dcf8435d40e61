// Where the visitor's device is in another time zone than the clinic, show their own
// time beside each clinic time. Without JavaScript the clinic time (labelled) still shows.
// window.mindsetLocalTimes(root) runs it again on content swapped in later (the day picker).
(function () {
  "use strict";
  var clinicZone = document.body.getAttribute("data-clinic-tz");
  var ownZone;
  try { ownZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!clinicZone || !ownZone || ownZone === clinicZone) { window.mindsetLocalTimes = function () {}; return; }
  // The page's own language and words (the label comes from the page, so it is translated).
  var language = document.documentElement.lang || undefined;
  var label = document.body.getAttribute("data-your-time") || "your time";
  var format = new Intl.DateTimeFormat(language, { hour: "numeric", minute: "2-digit", timeZoneName: "short" });
  var dayFormat = new Intl.DateTimeFormat(language, { weekday: "short", hour: "numeric", minute: "2-digit", timeZoneName: "short" });
  function show(root) {
    root.querySelectorAll("time.clinic-time").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) { return; }
      var clinicDay = new Intl.DateTimeFormat("en-CA", { timeZone: clinicZone }).format(when);
      var ownDay = new Intl.DateTimeFormat("en-CA", { timeZone: ownZone }).format(when);
      var note = document.createElement("span");
      note.className = "local-time";
      note.textContent = label + " " + (clinicDay === ownDay ? format : dayFormat).format(when);
      // After the whole clinic-time phrase ("9:00 AM to 9:30 AM MST, Mountain Time"), not
      // inside it.
      (el.closest(".clinic-when") || el).insertAdjacentElement("afterend", note);
    });
    root.querySelectorAll(".local-zone-note").forEach(function (el) { el.hidden = false; });
  }
  window.mindsetLocalTimes = show;
  show(document);
}());
