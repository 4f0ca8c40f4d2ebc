// Notice form: show the fields that fit the kind of notice (individual or collective).
(function () {
  "use strict";
  var kind = document.getElementById("kind");
  if (!kind) { return; }
  function sync() {
    document.querySelectorAll("[data-notice-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-notice-kind") !== kind.value;
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
