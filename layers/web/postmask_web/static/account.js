"use strict";
/*
 * The account page: who is signed in, every browser signed in with a link (sessions) and every API token,
 * each revocable; "Sign out everywhere" revokes every session, this browser's last.
 */
postmask.page(async () => {
  const { $, api, fromTemplate, setText, session } = postmask;

  const sessionList = $("#session-list");
  const tokenList = $("#token-list");
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
    tokenList.replaceChildren(...tokens.items.filter((token) => token.kind !== "session").map(tokenItem));
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
