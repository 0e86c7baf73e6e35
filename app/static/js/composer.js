// Progressive enhancement for the letter form and the translator's editor: everything works
// without it.
(function () {
  "use strict";
  var form = document.getElementById("letter-form") || document.getElementById("translation-form");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body], textarea[name=text]");
  var counter = document.getElementById("char-count");
  var applyButton = form.querySelector("[name=apply_template]");
  var language = form.querySelector("select[name=language]");
  var pristineBody = body ? body.value : "";

  function edited() {
    return body && body.value.trim() !== "" && body.value !== pristineBody;
  }

  if (applyButton) {
    applyButton.addEventListener("click", function (event) {
      if (edited() && !window.confirm(applyButton.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }
  // Choosing a template does nothing until "Use this template" is pressed: a keyboard user
  // goes through the choices with the arrow keys (WCAG 3.2.2, on input).

  // After "Preview", the reader lands on the preview (where autofocus is not honoured).
  var preview = document.getElementById("letter-preview");
  if (preview && preview.hasAttribute("autofocus") && document.activeElement !== preview) {
    preview.focus();
  }

  // Live censor-risk check: the same check as on preview, through POST /api/v1/check.
  var panel = document.getElementById("risk-check");
  var list = document.getElementById("findings");
  var pages = document.getElementById("page-count");
  var timer = null;
  var sequence = 0;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function severityLabel(severity) {
    return panel.getAttribute("data-severity-" + severity) || severity;
  }

  // Offsets from the server count code points; Array.from splits a string the same way.
  function render(text, findings) {
    var chars = Array.from(text);
    list.textContent = "";
    if (findings.length === 0) {
      if (text.trim() !== "") { list.appendChild(element("li", "finding-none", panel.getAttribute("data-empty"))); }
    }
    findings.forEach(function (finding) {
      var item = element("li", "finding severity-" + finding.severity);
      item.appendChild(element("span", "severity", severityLabel(finding.severity)));
      if (finding.category !== "length") {
        var quote = element("q", null, chars.slice(finding.start, finding.end).join(""));
        item.appendChild(quote);
        item.appendChild(document.createTextNode(" "));
      }
      item.appendChild(document.createTextNode(finding.reason));
      list.appendChild(item);
    });
    var mirror = document.getElementById("live-highlight");
    if (!mirror) {
      mirror = element("div", "paper highlighted");
      mirror.id = "live-highlight";
      mirror.setAttribute("aria-hidden", "true");
      panel.appendChild(mirror);
    }
    mirror.textContent = "";
    var position = 0;
    findings
      .filter(function (f) { return f.category !== "length"; })
      .sort(function (a, b) { return a.start - b.start || (b.end - b.start) - (a.end - a.start); })
      .forEach(function (f) {
        if (f.start < position) { return; }
        mirror.appendChild(document.createTextNode(chars.slice(position, f.start).join("")));
        var mark = element("mark", "risk severity-" + f.severity, chars.slice(f.start, f.end).join(""));
        mark.title = f.reason;
        mirror.appendChild(mark);
        position = f.end;
      });
    mirror.appendChild(document.createTextNode(chars.slice(position).join("")));
    mirror.hidden = text.trim() === "";
  }

  function check() {
    var text = body.value;
    var mine = ++sequence;
    // The translator's editor checks the translation in its fixed target language.
    var fixedLanguage = panel.getAttribute("data-language");
    var payload = { text: text, language: language ? language.value : (fixedLanguage || "ru") };
    payload.prisoner_id = parseInt(panel.getAttribute("data-prisoner"), 10);
    fetch(panel.getAttribute("data-check-url"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "omit",
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      if (!result || mine !== sequence) { return; }  // a newer check is on its way
      render(text, result.findings);
      if (pages) { pages.textContent = String(result.pages); }
    }).catch(function () { /* offline or rate-limited: the preview still checks */ });
  }

  if (body) {
    body.addEventListener("input", function () {
      if (counter) { counter.textContent = String(body.value.length); }
      if (panel) {
        window.clearTimeout(timer);
        timer = window.setTimeout(check, 500);
      }
    });
  }
  if (panel && body && body.value.trim() !== "") { check(); }
})();
