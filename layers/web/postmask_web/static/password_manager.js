"use strict";
/*
 * The account page's "Use with a password manager": the server URL to enter in Bitwarden, a button that makes a
 * token limited to creating aliases (scope aliases:create, shown once), and where such aliases go.
 */
postmask.page(async () => {
  const { $, api, setText } = postmask;
  const section = $("#password-manager");
  const serverUrl = window.location.origin;
  setText(section, "server_url", serverUrl);
  $("#copy-server-url").addEventListener("click", (event) => postmask.copyText(serverUrl, event.currentTarget));

  let secret = "";
  $("#copy-password-manager-token").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    try {
      await navigator.clipboard.writeText(secret);
      postmask.announce("Token copied: paste it into your password manager.");
      button.textContent = "Copied";
      setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    } catch {
      postmask.announce("Could not copy: select the token and copy it yourself.");
    }
  });

  $("#make-password-manager-token").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    $("#password-manager-error").textContent = "";
    try {
      const created = await api("POST", "/api/tokens", { body: { name: "Password manager", scope: "aliases:create" } });
      secret = created.token;
      setText(section, "token", secret);
      $("#password-manager-token").hidden = false;
      postmask.announce("Token made: copy it now, it is shown only once.");
    } catch (error) {
      $("#password-manager-error").textContent = postmask.errorText(error) ?? "";
    } finally {
      button.disabled = false;
    }
  });

  // Where a password manager's aliases go: the default domain (or the only one) and mailboxes (PATCH /api/me).
  try {
    const [me, domains] = await Promise.all([api("GET", "/api/me"), api("GET", "/api/domains", { query: { limit: 2 } })]);
    const domain = me.default_alias_domain ?? (domains.items.length === 1 ? domains.items[0].name : null);
    const where = $("#password-manager-where");
    if (domain === null) {
      where.textContent =
        domains.items.length === 0
          ? "Add a domain first: new aliases are made on one of your domains."
          : "You have several domains: choose the default domain for new aliases in your settings first.";
    } else {
      const mailboxes = me.default_alias_destinations?.join(", ") ?? "your first verified destination";
      where.textContent = `New aliases from a password manager are made on ${domain} and forward to ${mailboxes}.`;
    }
  } catch (error) {
    $("#password-manager-error").textContent = postmask.errorText(error) ?? "";
  }
});
