/* A break's page, live: /events/breaks/<id> says when recon reports a change of the break (aged,
   escalated, posted to suspense, resolved); the page then reads its body again (/breaks/<id>/live). */
(function () {
  "use strict";
  var live = document.getElementById("break-live");
  if (!live || !window.EventSource) return;
  var id = live.getAttribute("data-break");
  var version = live.getAttribute("data-version") || "0";
  var loading = false, again = false;

  function reload() {
    if (loading) { again = true; return; }
    loading = true;
    fetch("/breaks/" + encodeURIComponent(id) + "/live", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var active = document.activeElement;
        var href = active && live.contains(active) && active.tagName === "A" ? active.getAttribute("href") : null;
        live.innerHTML = html;
        if (href) {
          var links = live.querySelectorAll("a[href]");
          for (var i = 0; i < links.length; i++) {
            if (links[i].getAttribute("href") === href) { links[i].focus(); break; }
          }
        }
      })
      .catch(function () { /* the next change reads it again */ })
      .then(function () {
        loading = false;
        if (again) { again = false; reload(); }
      });
  }

  var source = new EventSource("/events/breaks/" + encodeURIComponent(id) + "?since=" + encodeURIComponent(version));
  source.addEventListener("changed", function (event) {
    var d = JSON.parse(event.data);
    version = String(d.version);
    reload();
  });
})();
