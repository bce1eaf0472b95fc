// Every page: a form that failed is shown again at the address of the page it belongs to (meta page-url), so
// reloading it shows that page rather than posting the form a second time.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="page-url"]');
  if (meta && meta.content.charAt(0) === "/" && location.pathname !== meta.content) {
    history.replaceState(null, "", meta.content);
  }
})();
