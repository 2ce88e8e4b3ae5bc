import { login } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

export function loginPage(main, done) {
  const error = h("div", { class: "error", id: "login-error" });
  const form = h("form", { class: "login", id: "login" },
    h("h2", {}, "GT-Vision"),
    h("input", { name: "username", placeholder: t("username"), autocomplete: "username", required: true }),
    h("input", { name: "password", type: "password", placeholder: t("password"), autocomplete: "current-password", required: true }),
    h("button", { class: "primary", type: "submit" }, t("login")), error);
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    error.textContent = "";
    try {
      await login(form.username.value, form.password.value);
      done();
    } catch (failed) {
      error.textContent = failed.status === 401 ? t("wrong_login") : failed.message;
    }
  });
  main.replaceChildren(form);
}
