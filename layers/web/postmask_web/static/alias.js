"use strict";
/* An alias's page (/aliases/<id>): its encryption switch, its leak state, its trackers (the mode and what was removed),
   its recent activity (static/activity.js), its contacts with
   their reply addresses, counts and block switches, and "write to someone new", which creates a contact and
   shows the address to write to. */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  const PAGE_SIZE = 50;
  const aliasId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
  const aliasPath = `/api/aliases/${encodeURIComponent(aliasId)}`;
  const list = $("#contact-list");
  const summary = $("#list-summary");
  const loadMore = $("#load-more");
  const writeForm = $("#write-form");
  let alias = null;

  try {
    alias = await api("GET", aliasPath);
  } catch (error) {
    $("#alias-loading").hidden = true;
    // A missing alias (deleted, or not yours) shows only that: no contacts to load, nobody to write to.
    $("#alias-error").textContent = error.status === 404 ? "There is no such alias among yours." : postmask.errorText(error) ?? "";
    return;
  }
  const summaryCard = $("#alias-summary");
  const enabled = $("#alias-enabled");

  function showAlias() {
    document.title = `${alias.address} · postmask`;
    $("#alias-title").textContent = alias.address;
    $("#alias-address").textContent = alias.address;
    $("#alias-state").textContent = alias.enabled ? "Enabled" : "Disabled: its mail is blocked";
    $("#alias-counts").textContent = `${alias.forwarded_count} forwarded, ${alias.blocked_count} blocked`;
    $("#alias-destinations").textContent = alias.destinations.join(", ");
    const details = [];
    if (alias.display_name) details.push(`Mail sent from it shows the name “${alias.display_name}”.`);
    if (alias.expires_at) {
      const at = new Date(alias.expires_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      details.push(`${new Date(alias.expires_at) <= new Date() ? "Expired" : "Expires"} ${at}.`);
    }
    if (alias.note) details.push(`Note: ${alias.note}`);
    $("#alias-details").textContent = details.join(" ");
    $("#alias-details").hidden = details.length === 0;
    enabled.checked = alias.enabled;
    enabled.setAttribute("aria-label", `Enabled: forward mail sent to ${alias.address}`);
    // Its leak state and the switch that accepts mail from its site only.
    $("#alias-leak").replaceChildren(postmask.activity.leakCard(alias, { activityLink: false, named: false }));
    showTrackers();
  }

  const trackersForm = $("#trackers-form");
  function showTrackers() {
    const { pixels, links } = alias.trackers_removed;
    $("#trackers-totals").textContent =
      pixels + links === 0
        ? "Nothing removed from its mail yet."
        : `Removed from its mail so far: ${postmask.plural(pixels, "tracking pixel", "tracking pixels")} and ` +
          `${postmask.plural(links, "tracked link", "tracked links")}.`;
    trackersForm.elements.trackers.value = alias.trackers;
  }
  $("#alias-loading").hidden = true;
  showAlias();
  $("#copy-alias").addEventListener("click", (event) => postmask.copyText(alias.address, event.currentTarget));
  summaryCard.hidden = false;
  $("#alias-body").hidden = false;

  const encrypt = $("#alias-encrypt");
  encrypt.checked = alias.encrypt !== false;
  encrypt.addEventListener("change", async () => {
    const wanted = encrypt.checked;
    $("#encrypt-error").textContent = "";
    encrypt.disabled = true;
    try {
      alias = await api("PATCH", aliasPath, { body: { encrypt: wanted } });
    } catch (error) {
      encrypt.checked = !wanted;
      $("#encrypt-error").textContent = postmask.errorText(error) ?? "";
      return;
    } finally {
      encrypt.disabled = false;
    }
    encrypt.checked = alias.encrypt;
    announce(alias.encrypt ? "Its mail is encrypted to destinations with a key." : "Its mail is sent unencrypted.");
  });

  const TRACKERS_SAVED = {
    off: "Trackers are left in its mail.",
    pixels: "Tracking pixels are removed from its mail.",
    pixels_and_links: "Tracking pixels and tracked links are removed from its mail.",
  };
  // A choice is saved with its button, not on change: arrowing through the choices would save each one.
  trackersForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { trackers: trackersForm.elements.trackers.value };
    try {
      alias = await postmask.busy(trackersForm, () => api("PATCH", aliasPath, { body }));
    } catch (error) {
      postmask.showErrors(trackersForm, error, { sent: body });
      return;
    }
    postmask.clearErrors(trackersForm);
    showAlias();
    announce(TRACKERS_SAVED[alias.trackers] ?? "Saved.");
  });

  enabled.addEventListener("change", async () => {
    postmask.clearRowError(summaryCard);
    const wanted = enabled.checked;
    enabled.disabled = true;
    try {
      alias = await api("PATCH", aliasPath, { body: { enabled: wanted } });
    } catch (error) {
      postmask.showRowError(summaryCard, error);
    } finally {
      enabled.disabled = false;
    }
    showAlias(); // the switch shows what the server holds, not what was asked
    if (alias.enabled === wanted) {
      announce(`${alias.address} ${alias.enabled ? "enabled: mail is forwarded" : "disabled: mail is blocked"}.`);
    }
  });

  $("#edit-alias").addEventListener("click", () =>
    postmask.aliasEditor.open(alias, {
      saved: async (saved) => {
        alias = saved;
        showAlias();
        announce(`Saved ${alias.address}.`);
        $("#edit-alias").focus();
      },
    }),
  );

  $("#delete-alias").addEventListener("click", async () => {
    postmask.clearRowError(summaryCard);
    if (!(await postmask.confirmAction(postmask.aliasEditor.deleteQuestion(alias.address), "Delete alias"))) return;
    try {
      await api("DELETE", aliasPath);
    } catch (error) {
      postmask.showRowError(summaryCard, error);
      return;
    }
    summaryCard.hidden = true;
    $("#alias-body").hidden = true;
    $("#alias-leak").replaceChildren();
    const gone = $("#alias-gone");
    gone.textContent = `Deleted ${alias.address}. `;
    const back = document.createElement("a");
    back.href = "/aliases";
    back.textContent = "Back to your aliases";
    gone.append(back);
    gone.hidden = false;
    back.focus();
  });

  $("#alias-activity-link").href = `/activity?alias_id=${encodeURIComponent(alias.id)}`;
  const recent = postmask.activity.eventList($("#alias-activity"), {
    query: { alias_id: alias.id },
    pageSize: 10,
    more: false,
  });

  const pages = postmask.pagedList({
    list,
    summary,
    loadMore,
    path: `${aliasPath}/contacts`,
    pageSize: PAGE_SIZE,
    render: card,
    noun: ["contact", "contacts"],
    empty: "No contacts yet: they appear when someone writes to the alias, or when you write to someone new.",
  });

  function fill(item, contact) {
    setText(item, "name", contact.name ?? "");
    setText(item, "email", contact.name ? `<${contact.email}>` : contact.email);
    setText(item, "reply_address", contact.reply_address);
    for (const count of ["received_count", "sent_count", "blocked_count"]) setText(item, count, String(contact[count]));
    const last = [contact.last_received_at, contact.last_sent_at].filter(Boolean).sort().pop();
    $('[data-field="last_mail"]', item).replaceChildren(postmask.timeElement(last));
    const blocked = $('[data-field="blocked"]', item);
    blocked.checked = contact.blocked;
    blocked.setAttribute("aria-label", `Block ${contact.email}`);
    item.classList.toggle("blocked", contact.blocked);
    $('[data-action="copy"]', item).setAttribute("aria-label", `Copy the reply address of ${contact.email}`);
    $('[data-action="delete"]', item).setAttribute("aria-label", `Delete ${contact.email}`);
  }

  function card(initial) {
    let contact = initial;
    const item = fromTemplate("contact-item");
    item.dataset.id = contact.id;
    fill(item, contact);
    const path = () => `${aliasPath}/contacts/${encodeURIComponent(contact.id)}`;

    $('[data-action="copy"]', item).addEventListener("click", (event) =>
      postmask.copyText(contact.reply_address, event.currentTarget),
    );

    const blocked = $('[data-field="blocked"]', item);
    blocked.addEventListener("change", async () => {
      postmask.clearRowError(item);
      const wanted = blocked.checked;
      blocked.disabled = true;
      try {
        contact = await api("PATCH", path(), { body: { blocked: wanted } });
      } catch (error) {
        blocked.checked = !wanted;
        postmask.showRowError(item, error);
        return;
      } finally {
        blocked.disabled = false;
      }
      fill(item, contact);
      announce(`${contact.email} ${contact.blocked ? "blocked: their mail to the alias is blocked" : "unblocked"}.`);
    });

    $('[data-action="delete"]', item).addEventListener("click", async () => {
      postmask.clearRowError(item);
      const question = `Delete ${contact.email}? Their reply address stops working at once.`;
      if (!(await postmask.confirmAction(question, "Delete contact"))) return;
      try {
        await api("DELETE", path());
      } catch (error) {
        postmask.showRowError(item, error);
        return;
      }
      item.remove();
      pages.describe();
      announce(`Deleted ${contact.email}.`);
    });
    return item;
  }

  writeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { email: writeForm.elements.email.value.trim() };
    const name = writeForm.elements.name.value.trim();
    if (name) body.name = name;
    if (!body.email) {
      postmask.showFieldError(writeForm, "email", "Enter the address to write to, for example someone@example.com.");
      return;
    }
    let contact;
    try {
      contact = await postmask.busy(writeForm, () => api("POST", `${aliasPath}/contacts`, { body }));
    } catch (error) {
      postmask.showErrors(writeForm, error, { sent: body, fieldFor: { 409: "email" } });
      return;
    }
    postmask.clearErrors(writeForm);
    writeForm.reset();
    $("#write-address").textContent = contact.reply_address;
    $("#write-from").textContent = alias.destinations.join(" or ");
    $("#write-to").textContent = contact.email;
    $("#write-result").hidden = false;
    const item = card(contact);
    item.classList.add("new");
    list.prepend(item);
    pages.describe();
    announce(`Write to ${contact.reply_address} to reach ${contact.email} from ${alias.address}.`);
  });
  $("#copy-write").addEventListener("click", (event) =>
    postmask.copyText($("#write-address").textContent, event.currentTarget),
  );

  await Promise.all([pages.load(), recent.load()]);
});
