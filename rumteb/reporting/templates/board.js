// rumteb board: sort the tables by a clicked header, filter models and task types. No network, no libraries
// besides plotly.js (inlined above), whose charts hide the points of filtered-out models.
(function () {
  "use strict";

  function cellValue(row, index, text) {
    var raw = row.cells[index].getAttribute("data-value");
    if (raw === null || raw === "") { return null; }
    return text ? raw.toLowerCase() : parseFloat(raw);
  }

  function sortTable(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var text = th.hasAttribute("data-text");
    var current = th.getAttribute("aria-sort");
    var ascending = current ? current === "descending" : th.getAttribute("data-first") === "asc";
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, position) { row._position = position; });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, text), y = cellValue(b, index, text);
      if (x === null || y === null) {  // unknown values last, whichever the direction
        return (x === null) - (y === null) || a._position - b._position;
      }
      var order = x < y ? -1 : x > y ? 1 : 0;
      return (ascending ? order : -order) || a._position - b._position;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.tHead.querySelectorAll("th").forEach(function (th) {
      th.addEventListener("click", function () { sortTable(table, th); });
    });
  });

  function numberOrNull(input) {
    return input.value === "" ? null : parseFloat(input.value);
  }

  function modelShown(row, settings) {
    var zeroShot = row.getAttribute("data-zero-shot");
    if (settings.zeroShot === "only" && zeroShot !== "100") { return false; }
    if (settings.zeroShot === "known" && (zeroShot === "" || zeroShot === "-1")) { return false; }
    if (settings.complete && row.getAttribute("data-complete") !== "1") { return false; }
    var paramsText = row.getAttribute("data-params-m");
    if (settings.minParams !== null || settings.maxParams !== null) {
      if (paramsText === "") { return false; }  // unknown size: outside any range
      var params = parseFloat(paramsText);
      if (settings.minParams !== null && params < settings.minParams) { return false; }
      if (settings.maxParams !== null && params > settings.maxParams) { return false; }
    }
    return true;
  }

  function applyFilters() {
    var settings = {
      zeroShot: document.getElementById("filter-zero-shot").value,
      complete: document.getElementById("filter-complete").checked,
      minParams: numberOrNull(document.getElementById("filter-min-params")),
      maxParams: numberOrNull(document.getElementById("filter-max-params"))
    };
    var shown = {};
    var summaryRows = document.querySelectorAll("#summary tbody tr");
    summaryRows.forEach(function (row) {
      var visible = modelShown(row, settings);
      shown[row.getAttribute("data-model")] = visible;
      row.classList.toggle("hidden-row", !visible);
    });
    document.querySelectorAll("#per-task tbody tr").forEach(function (row) {
      row.classList.toggle("hidden-row", !shown[row.getAttribute("data-model")]);
    });
    var types = {};
    document.querySelectorAll(".filter-type").forEach(function (box) { types[box.value] = box.checked; });
    document.querySelectorAll("th[data-type], td[data-type]").forEach(function (cell) {
      cell.classList.toggle("hidden-col", types[cell.getAttribute("data-type")] === false);
    });
    var count = Object.keys(shown).filter(function (name) { return shown[name]; }).length;
    document.getElementById("shown-count").textContent = count + " of " + summaryRows.length + " models shown";
    document.querySelectorAll(".plotly-graph-div").forEach(function (chart) {
      if (!chart.data) { return; }
      var visible = chart.data.map(function (trace) {
        return trace.legendgroup in shown ? shown[trace.legendgroup] : true;
      });
      Plotly.restyle(chart, { visible: visible });
    });
  }

  ["filter-zero-shot", "filter-complete", "filter-min-params", "filter-max-params"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", applyFilters);
    document.getElementById(id).addEventListener("change", applyFilters);
  });
  document.querySelectorAll(".filter-type").forEach(function (box) {
    box.addEventListener("change", applyFilters);
  });
  applyFilters();
}());
