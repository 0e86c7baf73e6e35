// The drive page updates its figures and the print pack's progress without reloading.
(function () {
  "use strict";
  var stats = document.getElementById("drive-stats");
  var job = document.getElementById("print-job");
  if (!stats) { return; }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }

  function showJob(data) {
    if (!data || !job) { return; }
    var progress = document.getElementById("job-progress");
    if (!progress) { window.location.reload(); return; }  // a new job appeared
    progress.max = data.total || 1;
    progress.value = data.done;
    setText("job-count", data.done + " / " + data.total);
    setText("job-status", job.getAttribute("data-status-" + data.status) || data.status);
    var error = document.getElementById("job-error");
    if (error) { error.hidden = data.status !== "failed"; error.textContent = data.error || ""; }
    var download = document.getElementById("job-download");
    if (download) { download.hidden = !data.download; }
  }

  function poll() {
    fetch(stats.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Array.prototype.forEach.call(stats.querySelectorAll("[data-stat]"), function (node) {
          var value = data[node.getAttribute("data-stat")];
          if (value !== undefined) { node.textContent = String(value); }
        });
        showJob(data.job);
      })
      .catch(function () { /* try again at the next tick */ });
  }

  window.setInterval(poll, 3000);
})();
