// Fleet map: the Texas outline (offline GeoJSON, no tile server) and one marker per station,
// coloured by health. The station table on the page is the accessible equivalent.
(function () {
  "use strict";
  var el = document.getElementById("fleet-map");
  if (!el || !window.L) { return; }
  var stations = JSON.parse(el.getAttribute("data-stations") || "[]");
  var org = el.getAttribute("data-org");
  var colours = { critical: "#c9252d", warning: "#9a6700", stale: "#6e7781", healthy: "#1a7f37", unknown: "#6e7781" };
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false });

  function addStations() {
    var added = 0;
    stations.forEach(function (s) {
      if (s.latitude === null || s.longitude === null) { return; }
      var marker = L.circleMarker([s.latitude, s.longitude], {
        radius: 11, weight: 2, color: "#ffffff", fillOpacity: 0.95,
        fillColor: colours[s.health] || colours.unknown,
        className: "station-marker health-" + s.health
      });
      marker.bindTooltip(s.name + " — " + s.health + ": " + s.critical + " critical, " +
        s.warning + " warning, " + s.stale + " stale of " + s.compressors, { direction: "top" });
      marker.on("click", function () {
        window.location.href = "/o/" + encodeURIComponent(org) + "/stations/" + encodeURIComponent(s.id);
      });
      marker.addTo(map);
      added += 1;
    });
    el.setAttribute("data-markers", String(added));
  }

  fetch("/static/vendor/texas.geojson")
    .then(function (response) { return response.json(); })
    .then(function (geo) {
      var outline = L.geoJSON(geo, { interactive: false, style: { color: "#14213d", weight: 2, fillColor: "#f4efe1", fillOpacity: 1 } }).addTo(map);
      map.fitBounds(outline.getBounds(), { padding: [8, 8] });
      addStations();
    })
    .catch(function () { map.setView([31.0, -99.5], 5.5); addStations(); });
})();
