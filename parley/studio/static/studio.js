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
