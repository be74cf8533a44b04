// The score grid: arrows, Enter and Tab move like a spreadsheet; a changed cell saves itself and shows
// saved or the (Chinese) error in its title and beside it.
(function () {
  "use strict";
  var table = document.getElementById("score-grid");
  if (!table) return;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var token = csrf ? csrf.value : (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  var headers = document.body.getAttribute("hx-headers");
  if (!token && headers) { try { token = JSON.parse(headers)["X-CSRFToken"]; } catch (e) { /* none */ } }
  var inputs = Array.prototype.slice.call(table.querySelectorAll("input.score"));
  var rows = [];
  inputs.forEach(function (input) {
    var tr = input.closest("tr");
    var r = rows.indexOf(tr);
    if (r < 0) { rows.push(tr); }
    input.dataset.saved = input.value;
  });
  function at(row, col) {
    var tr = rows[row];
    if (!tr) return null;
    return tr.querySelectorAll("input.score")[col] || null;
  }
  function pos(input) {
    var tr = input.closest("tr");
    return [rows.indexOf(tr), Array.prototype.indexOf.call(tr.querySelectorAll("input.score"), input)];
  }
  function note(input, text) {
    var cell = input.parentNode;
    var old = cell.querySelector(".cell-error");
    if (old) old.remove();
    if (text) {
      var span = document.createElement("span");
      span.className = "cell-error";
      span.textContent = text;
      cell.appendChild(span);
    }
  }
  function save(input) {
    var value = input.value.trim();
    if (value === input.dataset.saved && !input.classList.contains("error")) return;
    input.classList.remove("saved", "error");
    input.classList.add("saving");
    var body = new URLSearchParams();
    body.set("student", input.dataset.student);
    body.set("subject", input.dataset.subject);
    body.set("value", value);
    fetch(table.dataset.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": token, "X-Requested-With": "fetch"}
    }).then(function (response) {
      return response.json().then(function (data) { return [response.ok, data]; });
    }).then(function (result) {
      input.classList.remove("saving");
      if (result[0] && result[1].ok) {
        input.dataset.saved = result[1].value;
        if (document.activeElement !== input) input.value = result[1].value;
        input.classList.add("saved");
        input.title = table.dataset.saved;
        note(input, "");
      } else {
        input.classList.add("error");
        input.title = result[1].error || table.dataset.failed;
        note(input, input.title);
      }
    }).catch(function () {
      input.classList.remove("saving");
      input.classList.add("error");
      input.title = table.dataset.failed;
      note(input, input.title);
    });
  }
  var timers = new WeakMap();
  inputs.forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timers.get(input));
      timers.set(input, setTimeout(function () { save(input); }, 600));
    });
    input.addEventListener("change", function () { clearTimeout(timers.get(input)); save(input); });
    input.addEventListener("focus", function () { input.select(); });
    input.addEventListener("keydown", function (event) {
      var p = pos(input), next = null;
      if (event.key === "ArrowDown" || event.key === "Enter") next = at(p[0] + (event.shiftKey && event.key === "Enter" ? -1 : 1), p[1]);
      else if (event.key === "ArrowUp") next = at(p[0] - 1, p[1]);
      else if (event.key === "ArrowRight" && input.selectionEnd === input.value.length) next = at(p[0], p[1] + 1);
      else if (event.key === "ArrowLeft" && input.selectionEnd === 0 || event.key === "ArrowLeft" && input.selectionStart === 0 && input.selectionEnd === input.value.length) next = at(p[0], p[1] - 1);
      else return;
      event.preventDefault();
      clearTimeout(timers.get(input));
      save(input);
      if (next) next.focus();
    });
  });
})();
