"use strict";
/*
 * The account page: who is signed in, every browser signed in with a link (sessions) and every API token,
 * each revocable; "Sign out everywhere" revokes every session, this browser's last. A new API token (name,
 * expiry, scope) is shown once, with a copy button.
 */
postmask.page(async () => {
  const { $, api, fromTemplate, setText, session } = postmask;

  const sessionList = $("#session-list");
  const tokenList = $("#token-list");
  // Tokens made on this page: its list may still be loading, and must not lose them when it arrives.
  const madeHere = [];
  let sessions = [];

  function describe() {
    const sessionCount = sessionList.children.length;
    $("#session-summary").textContent =
      sessionCount === 0
        ? "No browser is signed in with a link."
        : `Signed in on ${postmask.plural(sessionCount, "browser", "browsers")}.`;
    const tokenCount = tokenList.children.length;
    $("#token-summary").textContent =
      tokenCount === 0 ? "No API tokens." : `${postmask.plural(tokenCount, "API token", "API tokens")}.`;
  }

  function item(token, { current, label, revoke }) {
    const row = fromTemplate("token-item");
    row.dataset.id = token.id;
    setText(row, "name", token.name);
    $('[data-field="current"]', row).hidden = !current;
    for (const field of ["created_at", "last_used_at", "expires_at"]) {
      $(`[data-field="${field}"]`, row).replaceChildren(postmask.timeElement(token[field], field === "expires_at" ? "Never" : "Not yet"));
    }
    const button = $('[data-action="revoke"]', row);
    button.textContent = label;
    button.setAttribute("aria-label", current ? `${label} of this browser` : `${label} ${token.name}`);
    button.addEventListener("click", async () => {
      postmask.clearRowError(row);
      button.disabled = true;
      try {
        if (await revoke(token)) {
          row.remove();
          describe();
        }
      } catch (error) {
        postmask.showRowError(row, error);
      } finally {
        button.disabled = false;
      }
    });
    return row;
  }

  async function revokeOther(token, question, confirmLabel) {
    if (!(await postmask.confirmAction(question, confirmLabel))) return false;
    await api("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
    postmask.announce(`${token.name}: revoked.`);
    return true;
  }

  function sessionItem(token) {
    const current = session.kind() === "session" && token.id === session.id();
    return item(token, {
      current,
      label: "Sign out",
      revoke: async (chosen) => {
        if (current) {
          await postmask.signOut();
          return false;
        }
        return revokeOther(chosen, `Sign out ${chosen.name}? That browser has to sign in again.`, "Sign out");
      },
    });
  }

  function tokenItem(token) {
    return item(token, {
      current: false,
      label: "Revoke",
      revoke: (chosen) =>
        revokeOther(chosen, `Revoke the API token “${chosen.name}”? Programs using it stop working.`, "Revoke token"),
    });
  }

  // --- a new API token, shown once ------------------------------------------------------------------------

  const tokenForm = $("#token-form");
  const DAY_MS = 24 * 60 * 60 * 1000;
  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = tokenForm.elements.name.value.trim();
    if (!name) {
      postmask.showFieldError(tokenForm, "name", "Give it a name, such as the program that will use it.");
      return;
    }
    const body = { name };
    const days = Number(tokenForm.elements.expires.value);
    if (days) body.expires_at = new Date(Date.now() + days * DAY_MS).toISOString();
    const scope = tokenForm.elements.scope.value;
    if (scope !== "all") body.scope = scope; // a server without scopes still takes a token for everything
    let created;
    try {
      created = await postmask.busy(tokenForm, () => api("POST", "/api/tokens", { body }));
    } catch (error) {
      if (error instanceof postmask.ApiError && error.status === 422 && error.detail.some((issue) => issue.loc?.[1] === "scope")) {
        postmask.showFieldError(tokenForm, "scope", "This server cannot limit a token yet: choose “Everything you can do”.");
      } else {
        postmask.showErrors(tokenForm, error, { sent: body, fieldFor: { 422: "name" } });
      }
      return;
    }
    postmask.clearErrors(tokenForm);
    tokenForm.reset();
    $("#new-token-name").textContent = created.name;
    $("#new-token-secret").textContent = created.token;
    $("#new-token-scope").textContent =
      created.scope === "aliases:create"
        ? "It may only create aliases: give it to your password manager."
        : "It may do everything you can do: keep it as safe as a password.";
    $("#new-token").hidden = false;
    madeHere.push({ ...created, kind: "api", last_used_at: null });
    tokenList.prepend(tokenItem(madeHere.at(-1)));
    describe();
    postmask.announce(`Token “${created.name}” created. Copy it now: it is not shown again.`);
  });
  $("#copy-token").addEventListener("click", (event) =>
    postmask.copyText($("#new-token-secret").textContent, event.currentTarget, { secret: true }),
  );

  $("#sign-out-everywhere").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    const question = "Sign out of every browser, this one included? API tokens keep working.";
    if (!(await postmask.confirmAction(question, "Sign out everywhere"))) return;
    button.disabled = true;
    $("#sessions-error").textContent = "";
    try {
      const others = sessions.filter((token) => !(session.kind() === "session" && token.id === session.id()));
      for (const token of others) await api("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
    } catch (error) {
      $("#sessions-error").textContent = postmask.errorText(error) ?? "";
      button.disabled = false;
      return;
    }
    await postmask.signOut("signed-out-everywhere");
  });

  try {
    const [me, tokens] = await Promise.all([api("GET", "/api/me"), postmask.listAll("/api/tokens")]);
    setText(document, "email", me.email);
    sessions = tokens.items.filter((token) => token.kind === "session");
    sessionList.replaceChildren(...sessions.map(sessionItem));
    const listed = tokens.items.filter((token) => token.kind !== "session");
    const known = new Set(listed.map((token) => token.id));
    const missing = madeHere.filter((token) => !known.has(token.id)).reverse(); // newest first, as prepended
    tokenList.replaceChildren(...missing.map(tokenItem), ...listed.map(tokenItem));
    describe();
  } catch (error) {
    $("#sessions-error").textContent = postmask.errorText(error) ?? "";
    $("#session-summary").textContent = "";
    $("#token-summary").textContent = "";
  } finally {
    sessionList.removeAttribute("aria-busy");
    tokenList.removeAttribute("aria-busy");
  }
});
