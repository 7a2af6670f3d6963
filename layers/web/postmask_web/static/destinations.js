"use strict";
/* The destinations page: list with their status, add (a link is mailed), send a new link, delete, and each one's
   OpenPGP key (add by pasting or choosing the .asc file, see, remove). */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  const PAGE_SIZE = 50;
  const RESEND_INTERVAL_MS = 60_000; // POST /api/destinations/{id}/resend: at most one a minute
  const STATUS = {
    pending: { badge: "Waiting for confirmation", explain: "Open the link mailed to it. Until then nothing is forwarded to it." },
    verified: { badge: "Verified", explain: "Mail for your aliases is forwarded here." },
    suspended: { badge: "Suspended", explain: "Nothing is forwarded here: " },
  };

  const list = $("#destination-list");
  const summary = $("#list-summary");
  const loadMore = $("#load-more");
  const addForm = $("#add-form");

  const pages = postmask.pagedList({
    list,
    summary,
    loadMore,
    path: "/api/destinations",
    pageSize: PAGE_SIZE,
    render: card,
    sort: (a, b) => a.email.localeCompare(b.email),
    noun: ["destination", "destinations"],
    empty: "No destinations yet. Add one above, or name one in an alias.",
  });

  function fill(item, destination) {
    item.dataset.status = destination.status;
    setText(item, "email", destination.email);
    const badge = $('[data-field="status"]', item);
    const status = STATUS[destination.status] ?? { badge: destination.status, explain: "" };
    badge.textContent = status.badge;
    badge.dataset.status = destination.status;
    const reason = destination.status === "suspended" ? `${destination.suspended_reason ?? "it bounced"}. Send a new link to use it again.` : "";
    setText(item, "explain", status.explain + reason);
    setText(item, "alias_count", `Used by ${postmask.plural(destination.alias_count, "alias", "aliases")}`);
    $('[data-field="created_at"]', item).replaceChildren(postmask.timeElement(destination.created_at));
    const resend = $('[data-action="resend"]', item);
    resend.hidden = destination.status === "verified";
    resend.setAttribute("aria-label", `Send a new link to ${destination.email}`);
    $('[data-action="delete"]', item).setAttribute("aria-label", `Delete ${destination.email}`);
    const key = destination.pgp;
    $('[data-field="pgp_key"]', item).hidden = !key;
    $('[data-field="pgp_add"]', item).hidden = Boolean(key);
    if (key) {
      setText(item, "pgp_fingerprint", key.fingerprint.replace(/(.{4})(?!$)/g, "$1 "));
      const expiry = $('[data-field="pgp_expiry"]', item);
      if (key.expires_at) {
        expiry.replaceChildren("expires ", postmask.timeElement(key.expires_at));
      } else {
        expiry.textContent = "does not expire";
      }
      $('[data-action="remove-key"]', item).setAttribute("aria-label", `Remove the encryption key of ${destination.email}`);
    }
  }

  function card(initial) {
    let destination = initial;
    const item = fromTemplate("destination-item");
    item.dataset.id = destination.id;
    fill(item, destination);
    const path = () => `/api/destinations/${encodeURIComponent(destination.id)}`;

    // What the last "Send a new link" did, and when the next may go (the API allows one a minute): said in the
    // card until then, the button off meanwhile; then the note goes.
    let noteTimer = null;
    function noteResent(text, until) {
      const resend = $('[data-action="resend"]', item);
      setText(item, "resent", text);
      resend.disabled = true;
      clearTimeout(noteTimer);
      noteTimer = setTimeout(() => {
        setText(item, "resent", "");
        resend.disabled = false;
      }, Math.max(until - Date.now(), 0));
    }
    const clock = (at) => at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

    $('[data-action="resend"]', item).addEventListener("click", async (event) => {
      postmask.clearRowError(item);
      const button = event.currentTarget;
      button.disabled = true;
      try {
        destination = await api("POST", `${path()}/resend`);
      } catch (error) {
        button.disabled = false;
        if (error instanceof postmask.ApiError && error.status === 429) {
          // One a minute per destination, and one every 10 minutes (5 a day) per address, whoever asks: the
          // answer's Retry-After says which.
          const wait = (error.retryAfterSeconds ?? RESEND_INTERVAL_MS / 1000) * 1000;
          const next = new Date(Date.now() + wait);
          const rule = wait > RESEND_INTERVAL_MS ? "one every 10 minutes and 5 a day per address" : "one a minute";
          noteResent(`A link was sent to this address too recently (${rule}). Try again at ${clock(next)}.`, next);
          return;
        }
        postmask.showRowError(item, error);
        return;
      }
      fill(item, destination);
      const sent = new Date();
      const next = new Date(sent.getTime() + RESEND_INTERVAL_MS);
      noteResent(
        `A new link was sent at ${clock(sent)}; the previous one no longer works. Another can be sent at ${clock(next)} (one a minute).`,
        next,
      );
      announce(`A new link was sent to ${destination.email}. The previous one no longer works.`);
    });

    const keyForm = $(".pgp-form", item);
    keyForm.elements.key_file.addEventListener("change", async () => {
      const file = keyForm.elements.key_file.files[0];
      if (file) keyForm.elements.public_key.value = await file.text();
    });
    keyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { public_key: keyForm.elements.public_key.value.trim(), fallback: keyForm.elements.fallback.value };
      if (!body.public_key) {
        postmask.showFieldError(keyForm, "public_key", "Paste the public key, or choose its .asc file.");
        return;
      }
      try {
        await postmask.busy(keyForm, () => api("PUT", `${path()}/pgp`, { body }));
        destination = await api("GET", path());
      } catch (error) {
        postmask.showErrors(keyForm, error, { sent: body });
        return;
      }
      postmask.clearErrors(keyForm);
      keyForm.reset();
      $('[data-field="pgp_add"]', item).open = false;
      fill(item, destination);
      announce(`Mail to ${destination.email} is now encrypted with key ${destination.pgp.fingerprint}.`);
    });

    $('[data-action="remove-key"]', item).addEventListener("click", async () => {
      postmask.clearRowError(item);
      const question = `Remove the encryption key of ${destination.email}? Mail to it is then sent unencrypted.`;
      if (!(await postmask.confirmAction(question, "Remove key"))) return;
      try {
        await api("DELETE", `${path()}/pgp`);
        destination = await api("GET", path());
      } catch (error) {
        postmask.showRowError(item, error);
        return;
      }
      fill(item, destination);
      announce(`Mail to ${destination.email} is no longer encrypted.`);
    });

    $('[data-action="delete"]', item).addEventListener("click", async () => {
      postmask.clearRowError(item);
      const question = `Delete ${destination.email}? Aliases that still forward to it must be changed first.`;
      if (!(await postmask.confirmAction(question, "Delete destination"))) return;
      try {
        await api("DELETE", path());
      } catch (error) {
        postmask.showRowError(item, error);
        return;
      }
      item.remove();
      pages.describe();
      announce(`Deleted ${destination.email}.`);
      addForm.elements.email.focus();
    });
    return item;
  }

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { email: addForm.elements.email.value.trim() };
    if (!body.email) {
      postmask.showFieldError(addForm, "email", "Enter the address to forward to, for example me@example.net.");
      return;
    }
    let destination;
    try {
      destination = await postmask.busy(addForm, () => api("POST", "/api/destinations", { body }));
    } catch (error) {
      postmask.showErrors(addForm, error, { sent: body, fieldFor: { 409: "email" } });
      return;
    }
    postmask.clearErrors(addForm);
    addForm.reset();
    const item = card(destination);
    item.classList.add("new");
    list.prepend(item);
    pages.describe();
    announce(`Added ${destination.email}. Open the link mailed to it to confirm it.`);
    $("h3", item).setAttribute("tabindex", "-1");
    $("h3", item).focus();
  });

  await pages.load();
});
