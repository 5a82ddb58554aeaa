/* tlsprobe HTML report: sorting and filtering, in the page, without a server. Its hash is in the page's
   Content-Security-Policy; it reads only data- attributes and never writes HTML. A query string sets the
   first state: ?q=TEXT&grade=F&severity=high&sort=certificate&dir=asc */
(function () {
  "use strict";
  var root = document.documentElement;
  var params = new URLSearchParams(window.location.search);
  var severities = ["critical", "high", "medium", "low"];
  var filtered = Array.prototype.slice.call(document.querySelectorAll("[data-target]"));
  var hostRows = document.querySelectorAll("#hosts tbody tr");
  var text = document.getElementById("filter-text");
  var grade = document.getElementById("filter-grade");
  var severity = document.getElementById("filter-severity");
  var status = document.getElementById("filter-status");

  function applyFilters() {
    var needle = text.value.trim().toLowerCase();
    var wantGrade = grade.value;
    var atMost = severity.value === "" ? Infinity : Number(severity.value);
    filtered.forEach(function (element) {
      var show = (needle === "" || element.getAttribute("data-target").indexOf(needle) !== -1) &&
        (wantGrade === "" || element.getAttribute("data-grade") === wantGrade) &&
        Number(element.getAttribute("data-worst-rank")) <= atMost;
      element.hidden = !show;
    });
    var shown = 0;
    hostRows.forEach(function (row) { if (!row.hidden) { shown += 1; } });
    root.setAttribute("data-shown", String(shown));
    status.value = shown + " of " + hostRows.length + " servers shown";
  }

  function sortValue(row, column, numeric) {
    var cell = row.children[column];
    var value = cell ? cell.getAttribute("data-sort") : null;
    if (value === null || value === "") { return null; }
    return numeric ? Number(value) : value.toLowerCase();
  }

  function sortTable(table, header, direction) {
    var column = Array.prototype.indexOf.call(header.parentNode.children, header);
    var numeric = header.getAttribute("data-sort-type") === "number";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, index: index, value: sortValue(row, column, numeric) };
    });
    var sign = direction === "descending" ? -1 : 1;
    rows.sort(function (a, b) {
      if (a.value === null || b.value === null) {
        return a.value === b.value ? a.index - b.index : (a.value === null ? 1 : -1);
      }
      if (a.value < b.value) { return -sign; }
      if (a.value > b.value) { return sign; }
      return a.index - b.index;
    });
    rows.forEach(function (entry) { body.appendChild(entry.row); });
    Array.prototype.forEach.call(header.parentNode.children, function (other) { other.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction);
    table.setAttribute("data-sorted-by", header.getAttribute("data-key") || String(column));
    table.setAttribute("data-sort-direction", direction);
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-sort-type]").forEach(function (header) {
      header.querySelector("button").addEventListener("click", function () {
        var next = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        sortTable(table, header, next);
      });
    });
  });

  var form = document.getElementById("filters");
  if (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    text.addEventListener("input", applyFilters);
    grade.addEventListener("change", applyFilters);
    severity.addEventListener("change", applyFilters);
    text.value = params.get("q") || "";
    grade.value = params.get("grade") || "";
    var wanted = severities.indexOf(params.get("severity") || "");
    severity.value = wanted === -1 ? "" : String(wanted);
    applyFilters();
  }

  var hosts = document.getElementById("hosts");
  var key = params.get("sort");
  if (hosts && key) {
    var header = hosts.querySelector('thead th[data-key="' + key.replace(/[^a-z]/g, "") + '"]');
    if (header) { sortTable(hosts, header, params.get("dir") === "desc" ? "descending" : "ascending"); }
  }

  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
  root.setAttribute("data-report-script", "ready");
}());
