// Progressive enhancement for the letter form: everything works without it.
(function () {
  "use strict";
  var form = document.getElementById("letter-form");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var counter = document.getElementById("char-count");
  var select = form.querySelector("select[data-autosubmit]");
  var applyButton = form.querySelector("[name=apply_template]");
  var pristineBody = body ? body.value : "";

  if (body && counter) {
    body.addEventListener("input", function () {
      counter.textContent = String(body.value.length);
    });
  }

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
  if (select && applyButton) {
    applyButton.hidden = false;
    select.addEventListener("change", function () {
      if (select.value === "None" || select.value === "") { return; }
      if (edited() && !window.confirm(applyButton.getAttribute("data-confirm"))) { return; }
      // requestSubmit keeps the name of the submitter, so the server knows what was asked.
      form.requestSubmit(applyButton);
    });
  }
})();
