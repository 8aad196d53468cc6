// The sign-in page: email + password, then a new password for an invited user's first sign-in.

import { el, show } from "./dom.js";

export function renderSignIn(main, auth, onSignedIn) {
  const error = el("p", { className: "status error", role: "alert", id: "signin-error" });
  const email = el("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = el("input", {
    id: "password", name: "password", type: "password", autocomplete: "current-password", required: true,
  });
  const submit = el("button", { type: "submit" }, "Sign in");
  const form = el(
    "form",
    { className: "signin", "aria-labelledby": "signin-title", novalidate: false },
    el("label", { for: "email" }, "Email", email),
    el("label", { for: "password" }, "Password", password),
    submit,
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await attempt(submit, error, async () => {
      const outcome = await auth.signIn(email.value.trim(), password.value);
      if (outcome.challenge) renderNewPassword(main, auth, outcome, onSignedIn);
      else onSignedIn();
    });
  });
  show(main, el("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"), form);
  email.focus();
}

function renderNewPassword(main, auth, challenge, onSignedIn) {
  const error = el("p", { className: "status error", role: "alert" });
  const password = el("input", {
    id: "new-password", name: "new-password", type: "password", autocomplete: "new-password", required: true,
  });
  const again = el("input", {
    id: "new-password-again", name: "new-password-again", type: "password", autocomplete: "new-password", required: true,
  });
  const submit = el("button", { type: "submit" }, "Set password and sign in");
  const form = el(
    "form",
    { className: "signin" },
    el("p", {}, "This is your first sign-in: choose your own password."),
    el("input", { type: "email", name: "username", autocomplete: "username", value: challenge.username, hidden: true, readonly: true }),
    el("label", { for: "new-password" }, "New password", password),
    el("label", { for: "new-password-again" }, "New password again", again),
    submit,
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (password.value !== again.value) {
      error.textContent = "The two passwords differ.";
      return;
    }
    await attempt(submit, error, async () => {
      await auth.setNewPassword(challenge, password.value);
      onSignedIn();
    });
  });
  show(main, el("h1", { tabindex: "-1" }, "Choose a password"), form);
  password.focus();
}

async function attempt(button, error, action) {
  button.disabled = true;
  error.textContent = "";
  try {
    await action();
  } catch (failure) {
    error.textContent = failure.message;
  } finally {
    button.disabled = false;
  }
}
