"use strict";
/* The settings page: defaults for new aliases (PATCH /api/me: domain, mailboxes, the random style) and the
   account's deletion (DELETE /api/me, confirmed by typing the account's address; an export downloaded first
   on request). A server without the defaults (GET /api/me names no alias_style) says so and keeps the form off. */
postmask.page(async () => {
  const { $, api, announce } = postmask;
  const defaultsForm = $("#defaults-form");
  const deleteForm = $("#delete-form");

  let me;
  let domains;
  let mailboxes;
  try {
    [me, domains, mailboxes] = await Promise.all([
      api("GET", "/api/me"),
      postmask.listAll("/api/domains"),
      postmask.listAll("/api/destinations", { query: { status: "verified" } }),
    ]);
  } catch (error) {
    $("#defaults-error").textContent = postmask.errorText(error) ?? "";
    // Without the account's settings (and address) neither form can do what it says: off until a reload.
    for (const form of [defaultsForm, deleteForm]) for (const element of form.elements) element.disabled = true;
    return;
  }
  $("#admin-link").hidden = !me.is_admin;
  $("#delete-confirm-hint").textContent = `The address you sign in with: ${me.email}`;

  // --- defaults for new aliases ---------------------------------------------------------------------------

  const verified = domains.items.filter((domain) => domain.verification?.status === "verified");
  defaultsForm.elements.default_alias_domain.replaceChildren(
    new Option("None: choose it each time", ""),
    ...verified.map((domain) => new Option(domain.name, domain.name)),
  );
  const emails = mailboxes.items.map((destination) => destination.email).sort();
  postmask.mailboxBoxes(defaultsForm, emails, me.default_alias_destinations ?? []);

  const supported = "alias_style" in me;
  if (supported) {
    defaultsForm.elements.default_alias_domain.value = me.default_alias_domain ?? "";
    defaultsForm.elements.alias_style.value = me.alias_style ?? "random";
  } else {
    $("#defaults-unavailable").hidden = false;
    for (const control of defaultsForm.elements) control.disabled = true;
  }

  defaultsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ticked = [...defaultsForm.querySelectorAll('input[name="mailbox"]:checked')].map((box) => box.value);
    const body = {
      default_alias_domain: defaultsForm.elements.default_alias_domain.value || null,
      default_alias_destinations: ticked.length ? ticked : null,
      alias_style: defaultsForm.elements.alias_style.value || "random",
    };
    try {
      me = await postmask.busy(defaultsForm, () => api("PATCH", "/api/me", { body }));
    } catch (error) {
      postmask.showErrors(defaultsForm, error, { sent: body });
      return;
    }
    postmask.clearErrors(defaultsForm);
    announce("Saved: new aliases use these settings.");
  });

  // --- deleting the account -------------------------------------------------------------------------------

  deleteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const confirm = deleteForm.elements.confirm.value.trim();
    if (confirm.toLowerCase() !== me.email.toLowerCase()) {
      postmask.showFieldError(deleteForm, "confirm", `Type ${me.email}, the address you sign in with, to confirm.`);
      return;
    }
    const exportFirst = deleteForm.elements.export_first.checked;
    const question = exportFirst
      ? "Your export downloads first. Then your account and everything in it are deleted, for good."
      : "Your account and everything in it are deleted, for good, without an export.";
    if (!(await postmask.confirmAction(question, "Delete my account"))) return;
    try {
      await postmask.busy(deleteForm, async () => {
        if (exportFirst) await postmask.downloadExport("json");
        await api("DELETE", "/api/me", { body: { confirm } });
      });
    } catch (error) {
      postmask.showErrors(deleteForm, error, { sent: { confirm } });
      return;
    }
    postmask.session.end();
    location.assign("/?reason=account-deleted");
  });
});
