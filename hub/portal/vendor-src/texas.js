// Extract the Texas outline (FIPS 48) from us-atlas as GeoJSON, coordinates rounded to 0.01 degrees.
const topojson = require("topojson-client");
const states = require("us-atlas/states-10m.json");
const all = topojson.feature(states, states.objects.states);
const texas = all.features.find((f) => f.id === "48");
const round = (c) => (typeof c[0] === "number" ? [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100] : c.map(round));
texas.geometry.coordinates = round(texas.geometry.coordinates);
process.stdout.write(JSON.stringify({ type: "FeatureCollection", features: [{ type: "Feature", properties: { name: "Texas", source: "us-atlas 3.0.1 (U.S. Census Bureau cartographic boundaries)" }, geometry: texas.geometry }] }));
