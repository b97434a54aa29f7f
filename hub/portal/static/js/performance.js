// Compressor performance charts (uPlot, data from /api/v1/.../performance): stage ratio,
// ideal vs measured discharge temperature, isentropic gas hp vs brake hp, adiabatic efficiency.
// Drag to zoom into a time range, double-click to zoom out (uPlot's own cursor zoom).
(function () {
  "use strict";
  var root = document.getElementById("performance");
  if (!root || !window.uPlot) { return; }

  function css(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  function chart(title, unit, xs, series) {
    var box = document.createElement("figure");
    box.className = "chart";
    var caption = document.createElement("figcaption");
    caption.textContent = title + (unit ? " (" + unit + ")" : "");
    box.appendChild(caption);
    root.appendChild(box);
    var ink = css("--fg", "#1b1f24"), line = css("--line", "#d0d7de");
    new uPlot({
      width: Math.max(280, Math.min(root.clientWidth - 20, 1200)), height: 170,
      scales: { x: { time: true } },
      series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.colour, width: 1.5, dash: s.dash }; })),
      axes: [{ stroke: ink, grid: { stroke: line } }, { size: 60, stroke: ink, grid: { stroke: line } }],
      cursor: { drag: { x: true, y: false } },
      legend: { live: false }
    }, [xs].concat(series.map(function (s) { return s.values; })), box);
  }

  function percent(values) { return values.map(function (v) { return v === null ? null : 100 * v; }); }

  function draw(data) {
    var loading = root.querySelector(".loading");
    if (loading) { loading.remove(); }
    if (!data.t.length) {
      var empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "No readings in this period.";
      root.appendChild(empty);
      return;
    }
    chart("Stage compression ratio", "", data.t, [{ label: "ratio", colour: "#0b5cad", values: data.stage_compression_ratio }]);
    chart("Discharge temperature: measured vs ideal", "°F", data.t, [
      { label: "measured", colour: "#c9252d", values: data.measured_discharge_temp_f },
      { label: "ideal (isentropic)", colour: "#1a7f37", values: data.ideal_discharge_temp_f, dash: [6, 4] }
    ]);
    chart("Excess over ideal discharge temperature", "°F", data.t, [{ label: "excess", colour: "#9a6700", values: data.discharge_temp_excess_f }]);
    chart("Horsepower: isentropic gas vs brake", "hp", data.t, [
      { label: "brake (measured)", colour: "#6f42c1", values: data.brake_hp },
      { label: "isentropic gas", colour: "#1a7f37", values: data.isentropic_gas_hp, dash: [6, 4] }
    ]);
    chart("Adiabatic efficiency", "%", data.t, [{ label: "efficiency", colour: "#0b5cad", values: percent(data.adiabatic_efficiency) }]);
    if (data.rod_load) {
      var rated = data.rod_load.rated_rod_load_lbf;
      var series = [
        { label: "compression", colour: "#c9252d", values: data.rod_load.compression_lbf },
        { label: "tension", colour: "#0b5cad", values: data.rod_load.tension_lbf }
      ];
      if (rated) { series.push({ label: "frame rating", colour: "#9a6700", values: data.t.map(function () { return rated; }), dash: [6, 4] }); }
      chart("Final-stage gas rod load", "lbf", data.t, series);
    }
  }

  fetch(root.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
    .then(draw)
    .then(function () { root.setAttribute("aria-busy", "false"); root.setAttribute("data-ready", "true"); })
    .catch(function (error) {
      root.setAttribute("aria-busy", "false");
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = "Could not load performance (" + error.message + ").";
      root.appendChild(p);
    });
})();
