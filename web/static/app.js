// Page behaviour, served as a file: the Content-Security-Policy allows no inline script.
"use strict";

// "Add a test item": copy the last row of the items table with its indexes advanced.
function setUpAddRow(button) {
  button.addEventListener("click", function () {
    var body = document.getElementById(button.dataset.addRow).tBodies[0];
    var last = body.rows[body.rows.length - 1];
    var copy = last.cloneNode(true);
    var index = body.rows.length;
    copy.querySelectorAll("input, select, textarea").forEach(function (input) {
      ["name", "id"].forEach(function (attr) {
        if (input.hasAttribute(attr)) {
          input.setAttribute(attr, input.getAttribute(attr).replace(/-\d+-/, "-" + index + "-"));
        }
      });
      if (input.tagName === "SELECT") { input.selectedIndex = 0; } else { input.value = ""; }
      input.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    body.appendChild(copy);
    copy.querySelector("input").focus();
  });
}

// A queued import: poll its progress and show the report once the worker is done.
function followJob(box) {
  var bar = box.querySelector("progress");
  var done = box.querySelector(".done");
  var total = box.querySelector(".total");
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (job) {
        if (job.total) { bar.max = job.total; total.textContent = job.total.toLocaleString(); }
        bar.value = job.progress;
        done.textContent = job.progress.toLocaleString();
        if (job.status === "done" || job.status === "failed") {
          window.location.assign(box.dataset.doneUrl);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
}

// The series chart: monthly pass rate with its interval, the floor and the forecast band.
function drawSeries(box) {
  var d = JSON.parse(box.dataset.chart);
  var L = d.labels;
  var f = d.forecast;
  var traces = [
    { x: d.months, y: d.high, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { x: d.months, y: d.low, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(11,79,138,0.15)",
      name: L.interval, hoverinfo: "skip" },
    { x: d.months, y: d.rate, mode: "lines+markers", name: L.rate, line: { color: "#0b4f8a" },
      hovertemplate: "%{x}: %{y:.1%}<extra></extra>" },
    { x: d.months, y: d.floor, mode: "lines", name: L.floor, line: { color: "#c81e1e", dash: "dash" },
      hovertemplate: "%{x}: %{y:.1%}<extra></extra>" }
  ];
  if (f.months.length) {
    traces.push({ x: f.months, y: f.high, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false });
    traces.push({ x: f.months, y: f.low, mode: "lines", line: { width: 0 }, fill: "tonexty",
                  fillcolor: "rgba(240,180,41,0.25)", name: L.band, hoverinfo: "skip" });
    traces.push({ x: f.months, y: f.rate, mode: "lines+markers", name: L.forecast,
                  line: { color: "#b7791f", dash: "dot" }, hovertemplate: "%{x}: %{y:.1%}<extra></extra>" });
  }
  var layout = { margin: { t: 20, r: 20, b: 50, l: 60 }, yaxis: { tickformat: ".0%", rangemode: "normal" },
                 xaxis: { type: "category", title: { text: L.month } }, legend: { orientation: "h", y: -0.2 },
                 hovermode: "x unified" };
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  if (d.locale) {  // the toolbar in the page's language (web/charts.py PLOTLY_WORDS)
    window.Plotly.register({ moduleType: "locale", name: d.locale.name, dictionary: d.locale.dictionary });
    config.locale = d.locale.name;
  }
  window.Plotly.newPlot(box, traces, layout, config);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-add-row]").forEach(setUpAddRow);
  var job = document.getElementById("job");
  if (job) { followJob(job); }
  var chart = document.getElementById("series-chart");
  if (chart && window.Plotly) { drawSeries(chart); }
});
