// The interview page: keeps the video and the expression timeline in step.
// - hovering (or arrow keys on the focused chart) shows the seven values at a moment;
// - clicking a point, a segment, or any [data-seek] button seeks the video there;
// - a playhead line and the readout follow playback.
// Reads the downsampled points from the JSON block the page embeds and writes text with textContent only,
// so no data is ever parsed as HTML.
(function () {
  "use strict";
  var video = document.getElementById("video");
  var svg = document.getElementById("timeline");
  var source = document.getElementById("timeline-data");
  var tip = document.getElementById("timeline-tip");
  var readout = document.getElementById("readout");
  var live = document.getElementById("timeline-live");
  var data = source ? JSON.parse(source.textContent) : null;
  var statusText = ["Face absent", "Model abstained (face not clear enough)", null];

  function clock(s) {
    var m = Math.floor(s / 60), r = s - m * 60;
    return m + ":" + (r < 10 ? "0" : "") + r.toFixed(1);
  }

  function nearest(t) {
    if (!data || data.t.length === 0) return -1;
    var lo = 0, hi = data.t.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (data.t[mid] < t) lo = mid; else hi = mid;
    }
    return Math.abs(data.t[hi] - t) < Math.abs(data.t[lo] - t) ? hi : lo;
  }

  function valueRows(parent, i, rowClass) {
    var probs = data.p[i];
    if (probs === null) {
      var note = document.createElement(rowClass === "tip-row" ? "div" : "li");
      note.textContent = statusText[data.s[i]];
      parent.append(note);
      return;
    }
    var top = probs.indexOf(Math.max.apply(null, probs));
    probs.forEach(function (p, k) {
      var el = document.createElement(rowClass === "tip-row" ? "div" : "li");
      el.className = rowClass + (k === top ? (rowClass === "tip-row" ? " tip-top" : " top") : "");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = data.colours[k];
      var label = document.createElement("span");
      label.textContent = data.labels[k];
      var num = document.createElement("span");
      num.className = rowClass === "tip-row" ? "tip-value" : "value";
      num.textContent = (p * 100).toFixed(0) + "%";
      el.append(sw, label, num);
      parent.append(el);
    });
  }

  // What a screen reader hears for a moment chosen with the arrow keys: its time and the values, largest first.
  function announce(i) {
    if (!live) return;
    var probs = data.p[i], text;
    if (probs === null) {
      text = statusText[data.s[i]];
    } else {
      text = probs.map(function (p, k) { return [p, data.labels[k]]; })
        .sort(function (a, b) { return b[0] - a[0]; })
        .map(function (pair) { return pair[1] + " " + (pair[0] * 100).toFixed(0) + "%"; }).join(", ");
    }
    live.textContent = clock(data.t[i]) + ": " + text + ".";
  }

  function seek(t) {
    if (!video) return;
    var end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.max(0, Math.min(Number(t), end));
    movePlayhead(video.currentTime);
  }

  // Every button or link that names a moment: highlights, segments, question cards.
  document.querySelectorAll("[data-seek]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      event.preventDefault();
      seek(el.getAttribute("data-seek"));
      if (video && video.getBoundingClientRect().bottom < 0) video.scrollIntoView({ block: "center" });
    });
  });

  var playhead = null, lastReadout = -2;
  var left = 0, width = 1, tEnd = 1, viewWidth = 1000;
  if (svg && data) {
    left = Number(svg.dataset.left); width = Number(svg.dataset.width); tEnd = Number(svg.dataset.tEnd);
    viewWidth = svg.viewBox.baseVal.width;
    svg.classList.add("seekable");
    // The native <title> tooltips of the areas would pop up on top of ours.
    svg.querySelectorAll(".series > title").forEach(function (el) { el.remove(); });
    var cross = svg.querySelector(".crosshair");
    playhead = document.createElementNS("http://www.w3.org/2000/svg", "line");
    playhead.setAttribute("class", "playhead");
    playhead.setAttribute("y1", cross ? cross.getAttribute("y1") : "0");
    playhead.setAttribute("y2", cross ? cross.getAttribute("y2") : "100%");
    playhead.setAttribute("x1", left);
    playhead.setAttribute("x2", left);
    svg.append(playhead);
  }

  function xOf(t) { return left + Math.min(Math.max(t / tEnd, 0), 1) * width; }

  function movePlayhead(t) {
    if (playhead) {
      var x = xOf(t);
      playhead.setAttribute("x1", x);
      playhead.setAttribute("x2", x);
      playhead.setAttribute("data-t", t.toFixed(3));
    }
    updateReadout(t);
  }

  function updateReadout(t) {
    if (!readout || !data) return;
    var i = nearest(t);
    var now = readout.querySelector(".now");
    if (now) now.textContent = clock(t);
    if (i === lastReadout) return;
    lastReadout = i;
    var list = readout.querySelector("ol");
    list.replaceChildren();
    if (i >= 0) valueRows(list, i, "readout-row");
  }

  if (svg && data && tip) {
    var line = svg.querySelector(".crosshair");
    var current = -1;

    var show = function (i) {
      current = i;
      var x = xOf(data.t[i]);
      line.setAttribute("x1", x);
      line.setAttribute("x2", x);
      line.setAttribute("visibility", "visible");
      tip.replaceChildren();
      var head = document.createElement("div");
      head.className = "tip-time";
      head.textContent = clock(data.t[i]) + " · click to play from here";
      tip.append(head);
      valueRows(tip, i, "tip-row");
      tip.hidden = false;
      var box = svg.getBoundingClientRect(), wrap = tip.offsetParent;
      var offset = box.left - wrap.getBoundingClientRect().left + wrap.scrollLeft;
      var px = offset + x * box.width / viewWidth;
      var flip = px + tip.offsetWidth + 16 > offset + box.width;
      tip.style.left = (flip ? px - tip.offsetWidth - 12 : px + 12) + "px";
    };
    var hide = function () {
      tip.hidden = true;
      line.setAttribute("visibility", "hidden");
    };
    var timeAt = function (event) {
      var box = svg.getBoundingClientRect();
      var x = (event.clientX - box.left) / box.width * viewWidth;
      if (x < left || x > left + width) return null;
      return (x - left) / width * tEnd;
    };

    svg.addEventListener("pointermove", function (event) {
      var t = timeAt(event);
      if (t === null || data.t.length === 0) { hide(); return; }
      show(nearest(t));
    });
    svg.addEventListener("pointerleave", hide);
    svg.addEventListener("blur", hide);
    svg.addEventListener("click", function (event) {
      var t = timeAt(event);
      if (t === null) return;
      // A highlight pin or a question band plays from its moment (instead of jumping to its card).
      var pinned = event.target.closest(".marker, .q-band");
      if (pinned) {
        event.preventDefault();
        seek(pinned.getAttribute(pinned.classList.contains("marker") ? "data-time" : "data-start"));
        return;
      }
      var seg = event.target.closest(".segment");
      if (seg) {  // a segment plays from its start; the chart draws it from x = time of its start
        var x0 = Number(seg.querySelector("rect").getAttribute("x"));
        seek(Math.round((x0 - left) / width * tEnd * 100) / 100);
        return;
      }
      var i = nearest(t);
      if (i >= 0) seek(data.t[i]);
    });
    // Keyboard use starts from the point under the playhead.
    svg.addEventListener("focus", function () { current = video ? nearest(video.currentTime) : -1; });
    svg.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { hide(); return; }
      if ((event.key === "Enter" || event.key === " ") && current >= 0) {
        event.preventDefault();
        seek(data.t[current]);
        return;
      }
      var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step || data.t.length === 0) return;
      event.preventDefault();
      show(Math.max(0, Math.min(data.t.length - 1, current < 0 ? 0 : current + step)));
      announce(current);
    });
  }

  // A note can be pinned to the moment under the playhead.
  var noteForm = document.getElementById("note-form");
  if (noteForm && video) {
    noteForm.addEventListener("submit", function () {
      var pin = document.getElementById("note-at-playhead");
      document.getElementById("note-time").value = pin && pin.checked ? video.currentTime.toFixed(2) : "";
    });
  }

  if (video) {
    var frame = null;
    var follow = function () {
      movePlayhead(video.currentTime);
      frame = video.paused ? null : requestAnimationFrame(follow);
    };
    video.addEventListener("play", function () { if (frame === null) frame = requestAnimationFrame(follow); });
    video.addEventListener("timeupdate", function () { movePlayhead(video.currentTime); });
    video.addEventListener("seeked", function () { movePlayhead(video.currentTime); });
    movePlayhead(0);
  }
})();
