// The login screen: paste a token; wrong or revoked tokens get a plain explanation.

import { h, mount } from "../dom.js";

export function loginView(root, { message, onSubmit }) {
  const input = h("input#token", {
    type: "password", autocomplete: "current-password", placeholder: "Access token", required: true,
    "aria-label": "Access token", spellcheck: false,
  });
  const error = h("p.login-error", { role: "alert", hidden: !message }, message || "");
  const button = h("button.primary", { type: "submit" }, "Log in");
  const form = h("form.login-card", {
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      const problem = await onSubmit(input.value.trim());
      button.disabled = false;
      if (problem) {
        error.textContent = problem;
        error.hidden = false;
        input.select();
      }
    },
  },
  h("div.brand.brand-large", h("span.logo", "◆"), "homelab-hub"),
  h("p.login-help", "Paste an access token, made with ", h("code", "homelab-hub token create NAME"),
    ", or open the one-time login link the hub printed when it first started."),
  input, error, button);
  mount(root, h("main.login", form));
  input.focus();
}
