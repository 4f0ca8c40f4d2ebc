// Testimony pages: a "Copy the code" button next to the receipt code (only where the
// browser allows copying; the code is readable and selectable without it).
(function () {
  "use strict";
  var code = document.getElementById("receipt-code");
  if (!code || !navigator.clipboard || !window.isSecureContext) {
    return;
  }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-outline-secondary btn-sm mb-3";
  button.textContent = code.dataset.copy || "Copy the code";
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(code.textContent.trim()).then(function () {
      button.textContent = code.dataset.copied || "Copied: now keep it somewhere safe";
    }, function () {
      button.textContent = code.dataset.failed || "Could not copy: please write it down";
    });
  });
  code.insertAdjacentElement("afterend", button);
})();
