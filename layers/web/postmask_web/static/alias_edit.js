"use strict";
/* The alias editor (templates/includes/alias_edit.html), shared by the aliases list and an alias's own page:
   destinations, the name shown on mail sent from it, note, website and expiry, saved with one PATCH. */
postmask.aliasEditor = (() => {
  const { $, api, setText } = postmask;
  const dialog = $("#edit-dialog");
  const form = $("#edit-form");
  let editing = null;
  let onSaved = async () => {};

  /** "a@x.org, b@y.org\nc@z.org" -> ["a@x.org", "b@y.org", "c@z.org"] */
  const addressesIn = (text) => text.split(/[\s,;]+/).filter(Boolean);

  /** An ISO timestamp as a datetime-local value in the reader's time zone ("" for none). */
  function localValue(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }

  function open(alias, { saved }) {
    editing = alias;
    onSaved = saved;
    postmask.clearErrors(form);
    setText(form, "address", alias.address);
    form.elements.destinations.value = alias.destinations.join("\n");
    form.elements.display_name.value = alias.display_name ?? "";
    form.elements.note.value = alias.note;
    form.elements.site.value = alias.site ?? "";
    form.elements.expires_at.value = localValue(alias.expires_at);
    dialog.showModal();
    form.elements.destinations.focus();
  }

  $('[data-action="close"]', form).addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const expires = form.elements.expires_at.value;
    const body = {
      destinations: addressesIn(form.elements.destinations.value),
      display_name: form.elements.display_name.value.trim() || null,
      note: form.elements.note.value,
      site: form.elements.site.value.trim() || null,
      expires_at: expires ? new Date(expires).toISOString() : null,
    };
    if (body.destinations.length === 0) {
      postmask.showFieldError(form, "destinations", "Enter at least one address to forward to.");
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
    await onSaved(alias);
  });

  /** What deleting an alias really does (store.aliases.delete): the address is freed, on your domain only. */
  const deleteQuestion = (address) =>
    `Delete ${address}? Mail to it is no longer forwarded (it goes to the domain's catch-all, if any, or is dropped), ` +
    "and replies through its contacts stop. Its counts and contacts are gone; you can create the same address again later.";

  return { open, addressesIn, deleteQuestion };
})();
