// Theme: the system's light/dark setting unless the user chose one with the toggle (kept in
// localStorage). Loaded in <head> so the page never flashes the other theme.
(function () {
  "use strict";
  var KEY = "altaviz-theme";
  var root = document.documentElement;
  function stored() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function system() { return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"; }
  function current() { return root.getAttribute("data-theme") || system(); }
  var chosen = stored();
  if (chosen === "dark" || chosen === "light") { root.setAttribute("data-theme", chosen); }

  function label(button) {
    var dark = current() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    // A toggle button keeps its name; aria-pressed says whether the dark theme is on.
    button.textContent = "Dark theme";
    button.setAttribute("title", "Switch to the " + (dark ? "light" : "dark") + " theme");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.hidden = false;
    label(button);
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      label(button);
    });
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () { label(button); });
    }
  });
})();
