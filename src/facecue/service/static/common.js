// Shared by the page scripts: the CSRF token for API calls and a readable message from an API error body.
window.facecue = (function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // The API answers 4xx with JSON; FastAPI's own validation errors carry a list of {loc, msg}.
  function errorMessage(status, text) {
    var body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    var detail = body && (body.detail !== undefined ? body.detail : (body.error || body.message));
    if (detail && typeof detail === "object" && !Array.isArray(detail)) detail = detail.message || detail.reason || detail.detail;
    if (Array.isArray(detail)) {
      detail = detail.map(function (d) {
        var where = Array.isArray(d.loc) ? d.loc.filter(function (p) { return p !== "body"; }).join(".") : "";
        return (where ? where + ": " : "") + (d.msg || String(d));
      }).join("; ");
    }
    if (typeof detail === "string" && detail) return detail.charAt(0).toUpperCase() + detail.slice(1);
    if (status === 413) return "The file is too large for this server.";
    if (status === 401) return "Your session has ended: sign in again.";
    return "The server answered " + status + " without an explanation.";
  }

  return { csrf: csrf, errorMessage: errorMessage };
})();
