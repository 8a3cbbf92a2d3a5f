// Live job rows: the server says (over SSE) when the first page changed; the rows are then
// fetched again through htmx. Checked boxes survive the refresh.
(function () {
  function liveRows() {
    var body = document.getElementById("job-rows");
    var status = document.getElementById("live-status");
    if (!body || !body.dataset.events || !window.EventSource) return;
    var source = new EventSource(body.dataset.events);
    source.addEventListener("hello", function () { if (status) { status.className = "live on"; status.textContent = "live"; } });
    source.addEventListener("jobs", function () {
      var checked = Array.prototype.map.call(body.querySelectorAll("input[name=job]:checked"), function (b) { return b.value; });
      var known = Array.prototype.map.call(body.querySelectorAll("tr[data-job]"), function (r) { return r.dataset.job; });
      htmx.ajax("GET", body.dataset.src, { target: "#job-rows", swap: "innerHTML" }).then(function () {
        checked.forEach(function (id) {
          var box = body.querySelector('input[name=job][value="' + CSS.escape(id) + '"]');
          if (box) box.checked = true;
        });
        body.querySelectorAll("tr[data-job]").forEach(function (row) {
          if (known.indexOf(row.dataset.job) < 0) row.classList.add("fresh");
        });
        body.dataset.refreshed = String(Number(body.dataset.refreshed || "0") + 1);
      });
    });
    source.onerror = function () { if (status) { status.className = "live off"; status.textContent = "reconnecting"; } };
  }
  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) return;
    all.addEventListener("change", function () {
      document.querySelectorAll("#job-rows input[name=job]").forEach(function (b) { b.checked = all.checked; });
    });
  }
  function confirmations() {
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (e) { if (!window.confirm(el.dataset.confirm)) e.preventDefault(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { liveRows(); selectAll(); confirmations(); });
})();
