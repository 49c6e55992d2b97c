// Optional enhancement: suggest organizations while a party or filter input is typed in.
// Without JavaScript the forms work the same: the server searches and offers matches to pick.
(function () {
  "use strict";
  var SUGGEST = "/admin/organizations/suggest?q=";

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 1) return;
      timer = setTimeout(function () {
        fetch(SUGGEST + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (orgs) {
            list.textContent = "";
            orgs.forEach(function (org) {
              var option = document.createElement("option");
              option.value = org.id;
              option.label = org.name;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience; the form still works */ });
      }, 200);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), attach);
  });
})();
