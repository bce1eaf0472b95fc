// Upload with a progress bar: sends the form to the API with XMLHttpRequest (whose upload events report
// progress), authenticated by the session cookie and the page's CSRF token; shows the API's error as is.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-progress-text");
  var box = document.getElementById("upload-message");
  var button = form.querySelector("button[type=submit]");

  function say(kind, text, link) {
    box.className = "flash " + kind;
    box.replaceChildren(document.createTextNode(text));
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      box.append(" ", a);
    }
    box.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    data.delete("csrf_token");
    // Optional files left empty are not sent at all, so the API sees them as absent.
    ["questions", "transcript"].forEach(function (name) {
      var f = data.get(name);
      if (f && f.size === 0 && !f.name) data.delete(name);
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRF-Token", window.facecue.csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var share = e.loaded / e.total;
      bar.value = share;
      label.textContent = "Uploading… " + Math.round(share * 100) + "%";
    });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      if (xhr.status >= 200 && xhr.status < 300) {
        var body = JSON.parse(xhr.responseText);
        bar.value = 1;
        label.textContent = "Uploaded.";
        say("ok", "Uploaded; the analysis is " + body.status + ".", { href: "/jobs#job-" + body.id, text: "Follow it in Jobs" });
        form.reset();
      } else {
        bar.value = 0;
        label.textContent = "Not uploaded.";
        say("error", window.facecue.errorMessage(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      label.textContent = "Not uploaded.";
      say("error", "The upload was interrupted: check the connection and try again.");
    });
    box.hidden = true;
    bar.value = 0;
    bar.hidden = false;
    label.textContent = "Uploading… 0%";
    button.disabled = true;
    xhr.send(data);
  });
})();
