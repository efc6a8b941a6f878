// The studio's login form: JSON to /auth/login (a cross-site form cannot send JSON), then on.
(function () {
  var form = document.getElementById("login");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    };
    var totp = document.getElementById("totp").value;
    if (totp) body.totp = totp;
    fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.ok) {
        window.location.assign(form.dataset.next || "/studio");
      } else {
        return response.json().then(function (reply) {
          document.getElementById("login-error").textContent = reply.message || "Login failed.";
        });
      }
    });
  });
})();

// The NLU inbox: mark the selected words of a message as an entity (kept in the form's
// hidden "entities" field as [{entity, start, end}] character offsets into the message).
// The selection is remembered when it changes: pressing the button may move the focus.
document.addEventListener("selectionchange", function () {
  var selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
  var range = selection.getRangeAt(0);
  var start = range.startContainer.parentElement;
  var textNode = start && start.closest ? start.closest(".item .text") : null;
  if (!textNode || !textNode.contains(range.endContainer)) return;
  var before = document.createRange();
  before.setStart(textNode, 0);
  before.setEnd(range.startContainer, range.startOffset);
  var item = textNode.closest(".item");
  item.dataset.start = before.toString().length;
  item.dataset.end = before.toString().length + range.toString().length;
});

document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.mark") : null;
  if (!button) return;
  var item = button.closest(".item");
  if (!item.dataset.start) return;
  var field = item.querySelector("input.entities");
  var marked = JSON.parse(field.value || "[]");
  var entity = item.querySelector("select.entity-name").value;
  marked.push({ entity: entity, start: Number(item.dataset.start), end: Number(item.dataset.end) });
  delete item.dataset.start;
  delete item.dataset.end;
  field.value = JSON.stringify(marked);
  var text = item.querySelector(".text").textContent;
  item.querySelector(".marked").textContent = marked
    .map(function (m) { return "[" + text.slice(m.start, m.end) + "](" + m.entity + ")"; })
    .join(" ");
});

// Forms inside [data-swap-errors] (guest links) show the server's refusal (400, 409) in place.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  var elt = event.detail.elt;
  if ((status === 400 || status === 409) && elt.closest && elt.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
