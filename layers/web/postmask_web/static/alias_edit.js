"use strict";
/* The alias editor (templates/includes/alias_edit.html), shared by the aliases list and an alias's own page:
   destinations, the name shown on mail sent from it, note, website, expiry and trackers, saved with one PATCH. And the
   "Forward to" picker of the create form and the editor: confirmed mailboxes ticked, other addresses typed. */
postmask.aliasEditor = (() => {
  const { $, api, setText } = postmask;
  const dialog = $("#edit-dialog");
  const form = $("#edit-form");
  let editing = null;
  let onSaved = async () => {};

  /** "a@x.org, b@y.org\nc@z.org" -> ["a@x.org", "b@y.org", "c@z.org"] */
  const addressesIn = (text) => text.split(/[\s,;]+/).filter(Boolean);

  // --- the "Forward to" picker -------------------------------------------------------------------------

  let mailboxesLoaded = null;
  /** The caller's confirmed mailboxes and their defaults for new aliases (GET /api/me's
   * default_alias_destinations, else the oldest mailbox), loaded once. */
  function mailboxes() {
    mailboxesLoaded ??= Promise.all([
      postmask.listAll("/api/destinations", { query: { status: "verified" } }),
      api("GET", "/api/me"),
    ]).then(([{ items }, me]) => {
      // Listed by address; without a default of the user's own, the oldest mailbox is ticked (their first).
      const oldest = [...items].sort((a, b) => a.created_at.localeCompare(b.created_at)).slice(0, 1);
      const emails = items.map((destination) => destination.email).sort();
      const defaults = me.default_alias_destinations ?? oldest.map((destination) => destination.email);
      return { emails, defaults, domain: me.default_alias_domain ?? null };
    });
    return mailboxesLoaded;
  }

  /** Another call to `mailboxes()` reads them again (a create or edit may have added some). */
  function forgetMailboxes() {
    mailboxesLoaded = null;
  }

  const sameAddress = (a, b) => a.toLowerCase() === b.toLowerCase();

  /** Fill `form`'s picker: a box per mailbox, ticked when `chosen` names it; the rest of `chosen` typed below
   * (unless `keepTyped` and something is typed there already). */
  async function fillPicker(targetForm, chosen, { keepTyped = false } = {}) {
    const { emails } = await mailboxes();
    postmask.mailboxBoxes(targetForm, emails, chosen);
    const typed = targetForm.elements.destinations;
    if (keepTyped && typed.value.trim()) return; // typed before the mailboxes arrived: theirs, kept
    typed.value = chosen.filter((address) => !emails.some((email) => sameAddress(address, email))).join("\n");
  }

  /** The addresses `form`'s picker names: the ticked mailboxes, then the typed ones. */
  function chosenIn(targetForm) {
    const ticked = [...targetForm.querySelectorAll('input[name="mailbox"]:checked')].map((box) => box.value);
    return [...ticked, ...addressesIn(targetForm.elements.destinations.value)];
  }

  /** An ISO timestamp as a datetime-local value in the reader's time zone ("" for none). */
  function localValue(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }

  async function open(alias, { saved }) {
    editing = alias;
    onSaved = saved;
    postmask.clearErrors(form);
    setText(form, "address", alias.address);
    await fillPicker(form, alias.destinations);
    form.elements.display_name.value = alias.display_name ?? "";
    form.elements.note.value = alias.note;
    form.elements.site.value = alias.site ?? "";
    form.elements.expires_at.value = localValue(alias.expires_at);
    form.elements.trackers.value = alias.trackers;
    dialog.showModal();
    (form.querySelector('input[name="mailbox"]') ?? form.elements.destinations).focus();
  }

  $('[data-action="close"]', form).addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const expires = form.elements.expires_at.value;
    const body = {
      destinations: chosenIn(form),
      display_name: form.elements.display_name.value.trim() || null,
      note: form.elements.note.value,
      site: form.elements.site.value.trim() || null,
      expires_at: expires ? new Date(expires).toISOString() : null,
      trackers: form.elements.trackers.value,
    };
    if (body.destinations.length === 0) {
      postmask.showFieldError(form, "destinations", "Tick a mailbox or type an address to forward to.");
      return;
    }
    const problem = body.destinations.map(postmask.emailProblem).find(Boolean);
    if (problem) {
      postmask.showFieldError(form, "destinations", problem);
      return;
    }
    let alias;
    try {
      alias = await postmask.busy(form, () => api("PATCH", `/api/aliases/${encodeURIComponent(editing.id)}`, { body }));
    } catch (error) {
      postmask.showErrors(form, error, { sent: body });
      return;
    }
    dialog.close();
    forgetMailboxes();
    await onSaved(alias);
  });

  /** What deleting an alias really does (store.aliases.delete): the address is freed, on your domain only. */
  const deleteQuestion = (address) =>
    `Delete ${address}? Mail to it is no longer forwarded (it goes to the domain's catch-all, if any, or is dropped), ` +
    "and replies through its contacts stop. Its counts and contacts are gone; you can create the same address again later.";

  return { open, addressesIn, deleteQuestion, mailboxes, forgetMailboxes, fillPicker, chosenIn };
})();
