// Drafts kept only in this browser: what is typed in a form with data-draft-key survives a
// reload, is restored with a notice and a "Forget this draft" button, and leaving the page
// with unsaved text asks first. Nothing here is sent anywhere: the draft lives in
// localStorage until the letter is saved (the next page names it in data-forget-drafts) or
// the writer forgets it. Without JavaScript the form works as before, without drafts.
(function () {
  "use strict";
  if (window.konvertDrafts) { return; }  // loaded by the page and by base.html
  window.konvertDrafts = true;

  var storage = null;
  try {
    storage = window.localStorage;
    storage.getItem("konvert-draft:probe");
  } catch (error) {
    return;  // storage disabled (private mode, strict settings): the form works without drafts
  }

  var saved = document.body.getAttribute("data-forget-drafts");
  if (saved) {
    saved.split(" ").forEach(function (key) { storage.removeItem(key); });
  }

  var form = document.querySelector("form[data-draft-key]");
  if (!form) { return; }
  var key = form.getAttribute("data-draft-key");
  var names = form.getAttribute("data-draft-fields").split(" ");
  // The page answers a POST (preview, an error, a template applied): its fields are the
  // newest words, unsaved as a letter, so they replace the draft instead of being replaced.
  var answer = form.hasAttribute("data-draft-answer");

  function elements(name) {
    return Array.prototype.filter.call(form.elements, function (node) { return node.name === name; });
  }

  function isText(node) {
    return node.tagName === "TEXTAREA" || (node.tagName === "INPUT" && node.type === "text");
  }

  function values() {
    var result = {};
    names.forEach(function (name) {
      elements(name).forEach(function (node) {
        if (node.type === "radio") {
          if (node.checked) { result[name] = node.value; }
        } else if (node.type === "checkbox") {
          result[name] = node.checked ? node.value : "";
        } else {
          result[name] = node.value;
        }
      });
    });
    return result;
  }

  // Whether anything typed is there: a chosen language or template alone is not a draft.
  function hasText(fields) {
    return names.some(function (name) {
      return elements(name).some(isText) && (fields[name] || "").trim() !== "";
    });
  }

  function same(a, b) {
    return names.every(function (name) { return (a[name] || "") === (b[name] || ""); });
  }

  function fill(fields) {
    names.forEach(function (name) {
      if (!(name in fields)) { return; }
      elements(name).forEach(function (node) {
        if (node.type === "radio") {
          node.checked = node.value === fields[name];
        } else if (node.type === "checkbox") {
          node.checked = fields[name] !== "";
        } else if (node.tagName === "SELECT") {
          var known = Array.prototype.some.call(node.options, function (o) { return o.value === fields[name]; });
          if (known) { node.value = fields[name]; }
        } else {
          node.value = fields[name];
        }
        // The character counter and the live check listen for these (composer.js).
        node.dispatchEvent(new Event("input", { bubbles: true }));
        node.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  function read() {
    try {
      var stored = JSON.parse(storage.getItem(key) || "null");
      return stored && typeof stored.fields === "object" ? stored.fields : null;
    } catch (error) {
      return null;
    }
  }

  function write(fields) {
    try {
      storage.setItem(key, JSON.stringify({ fields: fields }));
    } catch (error) { /* storage full: the page still has the text */ }
  }

  var initial = values();
  var restored = false;
  var notice = null;

  function unsaved(fields) {
    return hasText(fields) && (answer || restored || !same(fields, initial));
  }

  function keep() {
    var fields = values();
    if (unsaved(fields)) { write(fields); } else { storage.removeItem(key); }
  }

  function forget() {
    restored = false;
    fill(initial);
    storage.removeItem(key);
    if (notice) { notice.remove(); notice = null; }
    var body = elements("body")[0];
    if (body) { body.focus(); }
  }

  function showNotice() {
    notice = document.createElement("div");
    notice.className = "notice draft-notice";
    notice.id = "draft-notice";
    notice.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = form.getAttribute("data-draft-restored");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = form.getAttribute("data-draft-forget");
    button.addEventListener("click", forget);
    notice.appendChild(text);
    notice.appendChild(button);
    form.insertBefore(notice, form.firstChild);
  }

  var stored = read();
  if (answer) {
    keep();
  } else if (stored && hasText(stored) && !same(stored, initial)) {
    restored = true;
    fill(stored);
    showNotice();
  }

  form.addEventListener("input", keep);
  form.addEventListener("change", keep);

  function warn(event) {
    if (!unsaved(values())) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers show the dialog only when this is set
  }
  window.addEventListener("beforeunload", warn);
  form.addEventListener("submit", function () { window.removeEventListener("beforeunload", warn); });
})();
