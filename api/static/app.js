// Keyboard use of the staff UI. Everything also works without JavaScript (plain forms).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) { return; }
    var links = Array.prototype.slice.call(document.querySelectorAll("a.row-link"));
    if (links.length && (event.key === "j" || event.key === "k")) {
      var at = links.indexOf(document.activeElement);
      var next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[next].focus();
      event.preventDefault();
    } else if (event.key === "a" && document.getElementById("accept-form")) {
      event.preventDefault();
      document.getElementById("accept-form").submit();
    } else if (event.key === "c" && document.getElementById("picker-search")) {
      event.preventDefault();
      document.getElementById("picker-search").focus();
    }
  });
  var search = document.getElementById("picker-search");
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      document.querySelectorAll("#picker-list label.topic").forEach(function (label) {
        label.hidden = q !== "" && label.getAttribute("data-search").indexOf(q) < 0;
      });
      document.querySelectorAll("#picker-list .area").forEach(function (area) {
        area.hidden = area.querySelectorAll("label.topic:not([hidden])").length === 0;
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // Enter in the search ticks the first visible topic
        event.preventDefault();
        var first = document.querySelector("#picker-list label.topic:not([hidden]) input");
        if (first) { first.checked = !first.checked; first.dispatchEvent(new Event("change", {bubbles: true})); }
      }
    });
  }
  var list = document.getElementById("picker-list");
  if (list) {
    list.addEventListener("change", function () {
      var boxes = list.querySelectorAll("input[type=checkbox]");
      var ticked = list.querySelectorAll("input[type=checkbox]:checked").length;
      boxes.forEach(function (box) { box.disabled = !box.checked && ticked >= 3; });
    });
  }
  var first = document.querySelector("a.row-link");
  if (first && !document.querySelector("[autofocus]")) { first.focus(); }
  document.documentElement.setAttribute("data-keys", "bereit");  // shortcuts are live from here on
})();
