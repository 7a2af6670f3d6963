"use strict";
/* The quarantine page: mail that could not be delivered; resend it (once per mailbox), to another verified
   mailbox of yours, or delete it. */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  const PAGE_SIZE = 50;
  const REASONS = {
    rejected_by_ses: "Refused by Amazon SES",
    too_large: "Too large for SES",
    destination_suspended: "Mailbox suspended",
    retries_exhausted: "Sending failed",
    delivery_unconfirmed: "Perhaps delivered",
    pgp_key_unusable: "OpenPGP key unusable",
  };

  const verified = await postmask
    .listAll("/api/destinations", { query: { status: "verified" } })
    .catch(() => ({ items: [] })); // without them, only "Resend" (to the mailbox it was for) is offered

  const pages = postmask.pagedList({
    list: $("#quarantine-list"),
    summary: $("#list-summary"),
    loadMore: $("#load-more"),
    path: "/api/quarantine",
    pageSize: PAGE_SIZE,
    render: card,
    noun: ["message", "messages"],
    empty: "Nothing in quarantine: every message was delivered or decided.",
  });

  function kilobytes(size) {
    return size >= 1048576 ? `${(size / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(size / 1024))} KB`;
  }

  function fill(item, held) {
    setText(item, "subject", held.subject || "(no subject)");
    setText(item, "reason", REASONS[held.reason] ?? held.reason);
    setText(item, "address", held.address);
    setText(item, "sender", held.sender || "(unknown sender)");
    setText(item, "destination", held.destination);
    setText(item, "size", kilobytes(held.size));
    $('[data-field="quarantined_at"]', item).replaceChildren(postmask.timeElement(held.quarantined_at));
    $('[data-field="expires_at"]', item).replaceChildren(postmask.timeElement(held.expires_at));
    setText(item, "resent", held.resent_to.length ? `Resent to ${held.resent_to.join(", ")}` : "");
    const select = $('[data-field="other"]', item);
    const others = verified.items.filter((d) => !held.resent_to.includes(d.email.toLowerCase()));
    select.replaceChildren(...others.map((d) => new Option(d.email, d.email)));
    $('[data-action="resend"]', item).disabled = held.resent_to.includes(held.destination.toLowerCase());
    $('[data-action="resend-to"]', item).disabled = others.length === 0;
  }

  function card(initial) {
    let held = initial;
    const item = fromTemplate("quarantined-item");
    item.dataset.id = held.id;
    fill(item, held);
    const path = () => `/api/quarantine/${encodeURIComponent(held.id)}`;

    async function resend(button, destination) {
      postmask.clearRowError(item);
      button.disabled = true;
      try {
        await api("POST", `${path()}/resend`, { body: destination ? { destination } : {} });
        held = await api("GET", path());
      } catch (error) {
        postmask.showRowError(item, error);
        button.disabled = false;
        return;
      }
      fill(item, held);
      announce(`Resent to ${destination ?? held.destination}.`);
    }

    /* The header fields, read when first opened (GET one reads them from the stored message; the list does not).
       Mail is hostile input: the API gives them decoded and cleaned, and they are only ever set as text. */
    const details = $('[data-field="headers"]', item);
    let headersShown = false;
    details.addEventListener("toggle", async () => {
      if (!details.open || headersShown) return;
      postmask.clearRowError(item);
      const status = $('[data-field="headers_status"]', item);
      status.textContent = "Loading…";
      let found;
      try {
        found = await api("GET", path());
      } catch (error) {
        status.textContent = "";
        postmask.showRowError(item, error);
        return;
      }
      headersShown = true;
      if (found.headers === null) {
        status.textContent = "The stored message is gone (it expired, or was deleted): it can no longer be resent.";
        return;
      }
      status.textContent = found.headers.length ? "" : "The message has no header fields.";
      status.hidden = found.headers.length > 0;
      $('[data-field="header_fields"]', item).replaceChildren(
        ...found.headers.flatMap((field) => {
          const name = document.createElement("dt");
          const value = document.createElement("dd");
          name.textContent = field.name;
          value.textContent = field.value;
          return [name, value];
        }),
      );
    });

    $('[data-action="resend"]', item).addEventListener("click", (event) => resend(event.currentTarget, null));
    $('[data-action="resend-to"]', item).addEventListener("click", (event) =>
      resend(event.currentTarget, $('[data-field="other"]', item).value),
    );
    $('[data-action="delete"]', item).addEventListener("click", async () => {
      postmask.clearRowError(item);
      if (!(await postmask.confirmAction("Delete this message for good?", "Delete message"))) return;
      try {
        await api("DELETE", path());
      } catch (error) {
        postmask.showRowError(item, error);
        return;
      }
      item.remove();
      pages.describe();
      announce("Deleted.");
    });
    return item;
  }

  await pages.load();
});
