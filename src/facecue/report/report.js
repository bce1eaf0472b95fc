// Crosshair for the expression timeline: shows the time and all seven values at the pointer (or, with the
// chart focused, at the point chosen with the arrow keys). Reads the downsampled points from the JSON block
// the report embeds; builds the tooltip with textContent only, so no data is ever parsed as HTML.
(function () {
  "use strict";
  var svg = document.getElementById("timeline");
  var source = document.getElementById("timeline-data");
  var tip = document.getElementById("timeline-tip");
  if (!svg || !source || !tip) return;
  var data = JSON.parse(source.textContent);
  var line = svg.querySelector(".crosshair");
  var left = Number(svg.dataset.left), width = Number(svg.dataset.width), tEnd = Number(svg.dataset.tEnd);
  var viewWidth = svg.viewBox.baseVal.width;
  var status = ["Face absent", "Model abstained (face not clear enough)", null];
  var current = -1;

  // The native <title> tooltips of the areas would pop up on top of this one.
  svg.querySelectorAll(".series > title").forEach(function (el) { el.remove(); });

  function clock(s) {
    // Round to tenths first: 59.97 s is 1:00.0, not 0:60.0, and 9.97 s is 0:10.0, not 0:010.0.
    var tenths = Math.round(s * 10), m = Math.floor(tenths / 600), r = (tenths - m * 600) / 10;
    return m + ":" + (r < 10 ? "0" : "") + r.toFixed(1);
  }

  function nearest(t) {
    var lo = 0, hi = data.t.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (data.t[mid] < t) lo = mid; else hi = mid;
    }
    return Math.abs(data.t[hi] - t) < Math.abs(data.t[lo] - t) ? hi : lo;
  }

  // The question (or window) a moment falls in, and a highlight within 1% of the chart's span of it.
  function question(t) {
    var parts = data.q || [];
    for (var k = 0; k < parts.length; k++) {
      if (t >= parts[k][0] && t < parts[k][1]) return parts[k];
    }
    return null;
  }

  function highlightNear(t) {
    var pins = data.h || [], best = null;
    pins.forEach(function (p) {
      if (Math.abs(p[0] - t) <= tEnd / 100 && (!best || Math.abs(p[0] - t) < Math.abs(best[0] - t))) best = p;
    });
    return best;
  }

  function row(parent, colour, name, value, strong) {
    var el = document.createElement("div");
    el.className = "tip-row" + (strong ? " tip-top" : "");
    var sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = colour;
    var label = document.createElement("span");
    label.textContent = name;
    var num = document.createElement("span");
    num.className = "tip-value";
    num.textContent = value;
    el.append(sw, label, num);
    parent.append(el);
  }

  function show(i) {
    current = i;
    var x = left + Math.min(data.t[i] / tEnd, 1) * width;
    line.setAttribute("x1", x);
    line.setAttribute("x2", x);
    line.setAttribute("visibility", "visible");
    tip.replaceChildren();
    var head = document.createElement("div");
    head.className = "tip-time";
    head.textContent = clock(data.t[i]);
    tip.append(head);
    var part = question(data.t[i]);
    if (part) {
      var q = document.createElement("div");
      q.className = "tip-q";
      q.textContent = part[2] + (part[3] ? " · " + part[3] : "");
      tip.append(q);
    }
    var pin = highlightNear(data.t[i]);
    if (pin) {
      var h = document.createElement("div");
      h.className = "tip-h";
      h.textContent = "Highlight " + pin[1] + " at " + clock(pin[0]);
      tip.append(h);
    }
    var probs = data.p[i];
    if (probs === null) {
      var note = document.createElement("div");
      note.textContent = status[data.s[i]];
      tip.append(note);
    } else {
      var top = probs.indexOf(Math.max.apply(null, probs));
      probs.forEach(function (p, k) {
        row(tip, data.colours[k], data.labels[k], (p * 100).toFixed(0) + "%", k === top);
      });
    }
    tip.hidden = false;
    // Position within the (possibly scrolled) wrapper; flip to the left of the line near the right edge.
    var box = svg.getBoundingClientRect(), wrap = tip.offsetParent;
    var offset = box.left - wrap.getBoundingClientRect().left + wrap.scrollLeft;
    var px = offset + x * box.width / viewWidth;
    var flip = px + tip.offsetWidth + 16 > offset + box.width;
    tip.style.left = (flip ? px - tip.offsetWidth - 12 : px + 12) + "px";
  }

  function hide() {
    tip.hidden = true;
    line.setAttribute("visibility", "hidden");
  }

  svg.addEventListener("pointermove", function (event) {
    var box = svg.getBoundingClientRect();
    var x = (event.clientX - box.left) / box.width * viewWidth;
    if (x < left || x > left + width || data.t.length === 0) { hide(); return; }
    show(nearest((x - left) / width * tEnd));
  });
  svg.addEventListener("pointerleave", hide);
  svg.addEventListener("blur", hide);
  svg.addEventListener("keydown", function (event) {
    var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (event.key === "Escape") { hide(); return; }
    if (!step || data.t.length === 0) return;
    event.preventDefault();
    show(Math.max(0, Math.min(data.t.length - 1, current < 0 ? 0 : current + step)));
  });
})();
