// Progressive enhancement only: shows the reply checker's findings while staff type.
// Without JavaScript the same findings appear when the form is submitted.
(function () {
  "use strict";
  var box = document.getElementById("reply-text");
  var out = document.getElementById("findings");
  var form = document.getElementById("approve-form");
  if (!box || !out || !form) { return; }
  var timer = null;
  var token = form.querySelector("input[name=csrf_token]").value;

  function show(findings) {
    out.textContent = "";
    if (!findings.length) { return; }
    var wrap = document.createElement("div");
    wrap.className = "findings";
    var head = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "The reply checker found " + findings.length + " problem" + (findings.length === 1 ? "" : "s") + ":";
    head.appendChild(strong);
    wrap.appendChild(head);
    var list = document.createElement("ul");
    findings.forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f.message;
      list.appendChild(li);
    });
    wrap.appendChild(list);
    out.appendChild(wrap);
  }

  function check() {
    var body = new URLSearchParams();
    body.set("csrf_token", token);
    body.set("text", box.value);
    fetch(box.getAttribute("data-lint-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data.findings); } })
      .catch(function () { /* the check on submit still applies */ });
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
})();
