"use strict";
/* The domains page: list (load more), add, delete, catch-all address, DNS records and verification. */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  const PAGE_SIZE = 25;
  const STATUS_TEXT = { verified: "Verified", pending: "Waiting for DNS", failed: "Verification failed" };
  // A record's own status (SES checks the DKIM CNAMEs and the MAIL FROM's MX): whether SES found it.
  const RECORD_STATUS_TEXT = { verified: "Found", pending: "Not found yet", failed: "Not found" };
  const DNS_FIELDS = ["name", "value"];

  const list = $("#domain-list");
  const summary = $("#list-summary");
  const loadMore = $("#load-more");
  const addForm = $("#add-form");

  const pages = postmask.pagedList({
    list,
    summary,
    loadMore,
    path: "/api/domains",
    pageSize: PAGE_SIZE,
    render: domainCard,
    noun: ["domain", "domains"],
    empty: "No domains yet. Add one above.",
  });

  // --- one domain -----------------------------------------------------------------------------------------

  function dnsRow(record) {
    const row = fromTemplate("dns-row");
    setText(row, "type", record.priority === undefined || record.priority === null ? record.type : `${record.type} ${record.priority}`);
    for (const field of DNS_FIELDS) {
      setText(row, field, record[field]);
      const button = $(`[data-action="copy-${field}"]`, row);
      button.setAttribute("aria-label", `Copy the ${field} of the ${record.type} record`);
      button.addEventListener("click", () => postmask.copyText(record[field], button));
    }
    setText(row, "purpose", record.purpose ?? "");
    const badge = $('[data-field="record_status"]', row);
    badge.hidden = !record.status;
    if (record.status) {
      badge.textContent = RECORD_STATUS_TEXT[record.status] ?? record.status;
      badge.dataset.status = record.status;
      badge.setAttribute("aria-label", `SES: ${badge.textContent}`);
    }
    return row;
  }

  function fillRecords(card, domain) {
    const records = Array.isArray(domain.dns_records) ? domain.dns_records : [];
    $('[data-field="dns"]', card).hidden = records.length === 0;
    $('[data-field="dns_rows"]', card).replaceChildren(...records.map(dnsRow));
    const report = $('input[name="dmarc_report_address"]', card);
    if (document.activeElement !== report) report.value = domain.dmarc_report_address ?? "";
  }

  function fillCard(card, domain) {
    setText(card, "name", domain.name);
    const link = $('[data-field="aliases_link"]', card);
    link.href = `/aliases?${new URLSearchParams({ domain: domain.name })}`;
    setText(card, "alias_count", postmask.plural(domain.alias_count, "alias", "aliases"));
    const catchAll = $('input[name="catch_all_destination"]', card);
    catchAll.value = domain.catch_all_destination ?? "";
    fillStatus(card, domain);
    $('[data-action="delete"]', card).setAttribute("aria-label", `Delete ${domain.name}`);
    $('[data-action="check"]', card).setAttribute("aria-label", `Check ${domain.name} again`);
  }

  // What SES says of the domain and its records; a refresh changes only this, never a field being edited.
  function fillStatus(card, domain) {
    const status = domain.verification?.status;
    const badge = $('[data-field="status"]', card);
    badge.hidden = !status;
    if (status) {
      badge.textContent = STATUS_TEXT[status] ?? status;
      badge.dataset.status = status;
    }
    fillRecords(card, domain);
  }

  // Label, input and error of a card's form are tied together by ids unique on the page; the input.
  function tieField(form, name, labelField, idPrefix) {
    const input = form.elements[name];
    input.id = postmask.uniqueId(idPrefix);
    $(`[data-field="${labelField}"]`, form).htmlFor = input.id;
    const fieldError = $(`[data-error-for="${name}"]`, form);
    fieldError.id = `${input.id}-error`;
    input.setAttribute("aria-describedby", fieldError.id);
    return input;
  }

  function domainCard(initial) {
    let domain = initial;
    const card = fromTemplate("domain-item");
    card.dataset.name = domain.name;
    const form = $('[data-form="catch-all"]', card);
    const input = tieField(form, "catch_all_destination", "catch_all_label", "catch-all");
    fillCard(card, domain);
    const refreshed = (fresh) => {
      domain = fresh;
      fillStatus(card, domain);
    };
    wireRecords(card, () => domain, refreshed, (changed) => {
      domain = changed;
      fillCard(card, domain);
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = input.value.trim();
      const body = { catch_all_destination: value || null };
      try {
        domain = await postmask.busy(form, () =>
          api("PATCH", `/api/domains/${encodeURIComponent(domain.name)}`, { body }),
        );
      } catch (error) {
        postmask.showErrors(form, error, { sent: body });
        return;
      }
      postmask.clearErrors(form);
      fillCard(card, domain);
      announce(
        domain.catch_all_destination
          ? `Mail to unknown addresses on ${domain.name} now goes to ${domain.catch_all_destination}.`
          : `Mail to unknown addresses on ${domain.name} is now dropped.`,
      );
    });

    // SES checks DNS on its own schedule; asking for the domain reads where it has got to.
    const check = $('[data-action="check"]', card);
    check.addEventListener("click", async () => {
      postmask.clearRowError(card);
      check.disabled = true;
      try {
        refreshed(await api("GET", `/api/domains/${encodeURIComponent(domain.name)}`));
      } catch (error) {
        postmask.showRowError(card, error);
        return;
      } finally {
        check.disabled = false;
      }
      const status = domain.verification?.status;
      announce(`${domain.name}: ${STATUS_TEXT[status] ?? status ?? "no status yet"}.`);
    });

    $('[data-action="delete"]', card).addEventListener("click", async () => {
      postmask.clearRowError(card);
      const question = `Delete ${domain.name}? postmask stops receiving its mail. A domain with aliases cannot be deleted.`;
      if (!(await postmask.confirmAction(question, "Delete domain"))) return;
      try {
        await api("DELETE", `/api/domains/${encodeURIComponent(domain.name)}`);
      } catch (error) {
        postmask.showRowError(card, error);
        return;
      }
      card.remove();
      pages.describe();
      announce(`Deleted ${domain.name}.`);
      addForm.elements.name.focus();
    });
    return card;
  }

  // The records of a page carry no MAIL FROM status (SES lists none): opening them asks for the domain itself,
  // which also refreshes its verification status. The DMARC report address is saved from the same place, since
  // it changes the DMARC record.
  function wireRecords(card, current, refreshed, changed) {
    const details = $('[data-field="dns"]', card);
    details.addEventListener("toggle", async () => {
      if (!details.open) return;
      try {
        refreshed(await api("GET", `/api/domains/${encodeURIComponent(current().name)}`));
      } catch {
        // The records already shown stay; the next opening asks again.
      }
    });
    const form = $('[data-form="dmarc-report"]', card);
    const input = tieField(form, "dmarc_report_address", "dmarc_label", "dmarc-report");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { dmarc_report_address: input.value.trim() || null };
      let domain;
      try {
        domain = await postmask.busy(form, () =>
          api("PATCH", `/api/domains/${encodeURIComponent(current().name)}`, { body }),
        );
      } catch (error) {
        postmask.showErrors(form, error, { sent: body });
        return;
      }
      postmask.clearErrors(form);
      changed(domain);
      announce(
        domain.dmarc_report_address
          ? `DMARC reports for ${domain.name} go to ${domain.dmarc_report_address}: publish the new DMARC record.`
          : `The DMARC record of ${domain.name} names no report address now: publish it again.`,
      );
    });
  }

  // --- add ------------------------------------------------------------------------------------------------

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = addForm.elements;
    const body = { name: fields.name.value.trim() };
    const catchAll = fields.catch_all_destination.value.trim();
    if (catchAll) body.catch_all_destination = catchAll;
    if (!body.name) {
      postmask.showFieldError(addForm, "name", "Enter the domain name, for example example.org.");
      return;
    }
    let domain;
    try {
      domain = await postmask.busy(addForm, () => api("POST", "/api/domains", { body }));
    } catch (error) {
      postmask.showErrors(addForm, error, { sent: body, fieldFor: { 409: "name" } });
      return;
    }
    postmask.clearErrors(addForm);
    addForm.reset();
    const card = domainCard(domain);
    card.classList.add("new");
    list.prepend(card);
    // What to do next is publish the records: open them (which also asks SES where the domain stands now).
    const details = $('[data-field="dns"]', card);
    if (!details.hidden) details.open = true;
    pages.describe();
    const dns = domain.dns_records?.length ? " Publish its DNS records so mail can reach it." : "";
    announce(`Added ${domain.name}.${dns}`);
    $("h3", card).setAttribute("tabindex", "-1");
    $("h3", card).focus();
  });

  await pages.load();
});
