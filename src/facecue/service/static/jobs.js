// Live job list: polls the status API for every row that is not finished and updates its badge, progress
// bar and actions in place. Stops polling a row once it is done, failed or cancelled.
(function () {
  "use strict";
  var FINAL = ["done", "failed", "cancelled"];
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-job]"));
  var live = document.getElementById("jobs-live");

  function update(row, body) {
    var status = String(body.status);
    var badge = row.querySelector(".badge");
    badge.textContent = status;
    badge.className = "badge " + status;
    row.dataset.status = status;
    var bar = row.querySelector("progress");
    var progress = Number(body.progress);
    if (status === "done") progress = 1;
    if (isFinite(progress)) {
      bar.value = progress;
      row.querySelector(".pct").textContent = Math.round(progress * 100) + "%";
    }
    var reason = row.querySelector(".reason");
    // Reviewers read one plain sentence; the server's own message (paths, setup steps) is for admins.
    var table = document.getElementById("jobs");
    var failed = table.hasAttribute("data-admin") ? (body.error || "no reason was recorded") : table.dataset.failed;
    reason.textContent = status === "failed" ? failed : "";
    if (status === "done") {
      var open = row.querySelector(".open");
      if (open) open.hidden = false;
    }
    if (FINAL.indexOf(status) >= 0 && live) live.textContent = row.dataset.name + ": " + status;
  }

  function poll() {
    var pending = rows.filter(function (row) { return FINAL.indexOf(row.dataset.status) < 0; });
    if (pending.length === 0) return;
    var left = pending.length;
    pending.forEach(function (row) {
      fetch("/api/v1/interviews/" + row.dataset.job, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body) update(row, body); })
        .catch(function () { /* the next round tries again */ })
        .finally(function () { if (--left === 0) setTimeout(poll, 1000); });
    });
  }
  setTimeout(poll, 500);
})();
