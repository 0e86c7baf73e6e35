// A print run's page follows the build without reloading, and reloads once it has ended
// (to show its files, or why it failed), as a drive's page follows its print pack.
(function () {
  "use strict";
  var section = document.getElementById("run-state");
  if (!section || !section.getAttribute("data-url")) { return; }
  var url = section.getAttribute("data-url");

  function show(data) {
    if (!data) { return; }
    if (!data.active) { window.location.reload(); return; }
    document.getElementById("run-status").textContent = data.label;
    document.getElementById("run-progress").value = data.percent;
    document.getElementById("run-count").textContent = data.done + " / " + data.total;
  }

  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(show)
      .catch(function () { /* try again at the next tick */ });
  }

  window.setInterval(poll, 3000);
})();
