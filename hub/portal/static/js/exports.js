// The export form: build the API URL (times as UTC), check there is data, then download.
// Without JavaScript the form still works as a GET to the page; with it the user is told
// "nothing to export" instead of receiving an error body as a file.
(function () {
  "use strict";
  var form = document.getElementById("export-form");
  if (!form) { return; }
  var status = document.getElementById("export-status");

  function url() {
    var params = new URLSearchParams();
    ["dataset", "format", "station_id", "compressor_id"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) { params.set(name, value); }
    });
    params.set("start", form.elements.start.value + ":00Z");
    params.set("end", form.elements.end.value + ":00Z");
    return form.getAttribute("data-api") + "?" + params.toString();
  }

  // HEAD has no body: ask again with GET for the plan's message (the error comes before data).
  function explain(target) {
    fetch(target, { credentials: "same-origin" }).then(function (response) {
      return response.json();
    }).then(function (body) {
      status.textContent = body.error.message;
    }).catch(function () {
      status.textContent = "Your plan does not include this export.";
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var target = url();
    status.textContent = "Preparing the export…";
    form.setAttribute("aria-busy", "true");
    fetch(target, { method: "HEAD", credentials: "same-origin" }).then(function (response) {
      form.setAttribute("aria-busy", "false");
      if (response.status === 404) { status.textContent = "Nothing to export in this range."; return; }
      if (response.status === 402) { explain(target); return; }
      if (!response.ok) { status.textContent = "The export failed (" + response.status + ")."; return; }
      var from = response.headers.get("X-Altaviz-History-From");
      status.textContent = from ? "Downloading from " + from + ", where the plan's history starts…" : "Downloading…";
      var link = document.createElement("a");
      link.href = target;
      link.setAttribute("download", "");
      document.body.appendChild(link);
      link.click();
      link.remove();
    }).catch(function () {
      form.setAttribute("aria-busy", "false");
      status.textContent = "The export failed: no connection.";
    });
  });
})();
