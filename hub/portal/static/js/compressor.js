// Compressor detail: time series of the six sensors with their thresholds drawn, the
// anomaly score, remaining useful life over time and the discharge-temperature drift forecast
// (uPlot, data from /api/v1).
(function () {
  "use strict";
  var root = document.getElementById("charts");
  if (!root || !window.uPlot) { return; }

  // Axis text and grid follow the page's theme (light or dark).
  function ink() { return getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() || "#1b1f24"; }
  function grid() { return getComputedStyle(document.documentElement).getPropertyValue("--line").trim() || "#d0d7de"; }

  function thresholdLines(lines) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          lines.forEach(function (line) {
            if (line.value === null || line.value === undefined) { return; }
            var y = u.valToPos(line.value, "y", true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) { return; }
            ctx.save();
            ctx.strokeStyle = line.colour;
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.restore();
          });
        }]
      }
    };
  }

  function chart(title, unit, xs, series, lines, yRange) {
    var box = document.createElement("figure");
    box.className = "chart";
    var caption = document.createElement("figcaption");
    caption.textContent = title + (unit ? " (" + unit + ")" : "");
    box.appendChild(caption);
    root.appendChild(box);
    var width = Math.max(280, Math.min(root.clientWidth - 20, 1200));
    var opts = {
      width: width, height: 180,
      scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
      series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.colour, width: s.width || 1.5, dash: s.dash }; })),
      axes: [{ stroke: ink(), grid: { stroke: grid() } }, { size: 60, stroke: ink(), grid: { stroke: grid() } }],
      plugins: [thresholdLines(lines || [])],
      legend: { live: false }
    };
    new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), box);
  }

  function sensors(data) {
    if (!data.t.length) {
      var empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "No readings in this period." + (data.history_from
        ? " The plan shows history from " + new Date(data.history_from).toISOString().slice(0, 16).replace("T", " ") + " UTC; older data is kept."
        : "");
      root.appendChild(empty);
      return;
    }
    Object.keys(data.sensors).forEach(function (name) {
      var s = data.sensors[name];
      var th = data.thresholds[name] || {};
      chart(s.label, s.unit, data.t, [
        { label: "max", colour: "#9fb3c8", values: s.max, width: 1 },
        { label: "mean", colour: "#0b5cad", values: s.avg },
        { label: "min", colour: "#9fb3c8", values: s.min, width: 1 }
      ], [
        { value: th.warning, colour: "#9a6700" },
        { value: th.critical, colour: "#c9252d" }
      ]);
    });
  }

  function predictions(data) {
    if (data.anomaly && data.anomaly.t.length) {
      chart("Anomaly score", "", data.anomaly.t, [{ label: "score", colour: "#6f42c1", values: data.anomaly.score }],
        [{ value: data.anomaly.threshold, colour: "#c9252d" }]);
    }
    if (data.rul && data.rul.t.length) {
      chart("Remaining useful life", "h", data.rul.t, [
        { label: "RUL", colour: "#0b5cad", values: data.rul.series },
        { label: "upper (90 %)", colour: "#9fb3c8", values: data.rul.upper, width: 1, dash: [4, 4] },
        { label: "lower (10 %)", colour: "#9fb3c8", values: data.rul.lower, width: 1, dash: [4, 4] }
      ], []);
    }
    if (data.drift && data.drift.t.length) {
      chart("Discharge temperature forecast", "°F", data.drift.t, [
        { label: "forecast", colour: "#c9252d", values: data.drift.forecast },
        { label: "upper", colour: "#e6a0a4", values: data.drift.upper, width: 1, dash: [4, 4] },
        { label: "lower", colour: "#e6a0a4", values: data.drift.lower, width: 1, dash: [4, 4] }
      ], [{ value: data.drift.threshold, colour: "#c9252d" }]);
    }
  }

  function load(url, draw) {
    if (!url) { return Promise.resolve(); }  // not in the org's plan (ML features)
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(draw);
  }

  function done() {
    var loading = root.querySelector(".loading");
    if (loading) { loading.remove(); }
    root.setAttribute("aria-busy", "false");
  }

  Promise.all([
    load(root.getAttribute("data-series-url"), sensors),
    load(root.getAttribute("data-predictions-url"), predictions)
  ]).then(function () { done(); root.setAttribute("data-ready", "true"); })
    .catch(function (error) {
      root.setAttribute("aria-busy", "false");
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = "Could not load the charts (" + error.message + ").";
      root.appendChild(p);
    });
})();
