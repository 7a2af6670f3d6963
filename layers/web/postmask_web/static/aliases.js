"use strict";
/* The aliases page: list (search, filters, load more), create, edit, switch on and off, delete; several at
   once (select, then enable, disable or delete); import a file (checked first) and export everything. */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  const PAGE_SIZE = 25;
  const SEARCH_DELAY_MS = 250; // wait for a pause in typing before searching

  const rows = $("#alias-rows");
  const summary = $("#list-summary");
  const loadMore = $("#load-more");
  const filters = $("#filters");
  const createSection = $("#create-section");
  const createForm = $("#create-form");
  const newAlias = $("#new-alias");

  let nextToken = null;
  let shown = 0;
  let listRequest = 0; // only the answer to the latest request may fill the table


  // --- the list -------------------------------------------------------------------------------------------

  function currentFilters() {
    return {
      q: filters.elements.q.value.trim(),
      domain: filters.elements.domain.value,
      enabled: filters.elements.enabled.value,
      leaked: filters.elements.leaked.value,
    };
  }

  function describeList(filtered) {
    if (shown > 0) {
      const more = nextToken ? " so far" : "";
      summary.textContent = `${postmask.plural(shown, "alias", "aliases")} shown${more}.`;
    } else {
      summary.textContent = filtered ? "No alias matches this search." : "No aliases yet. Create one with “New alias”.";
    }
  }

  async function loadPage({ fromStart }) {
    const request = (listRequest += 1);
    const wanted = currentFilters();
    const query = { ...wanted, limit: PAGE_SIZE, next_token: fromStart ? null : nextToken };
    $("#list-error").textContent = "";
    rows.closest("table").setAttribute("aria-busy", "true");
    let page;
    try {
      page = await api("GET", "/api/aliases", { query });
    } catch (error) {
      if (request === listRequest) {
        $("#list-error").textContent = postmask.errorText(error) ?? "";
        if (fromStart || shown === 0) summary.textContent = ""; // the error says it: no "Loading…" left behind
      }
      return;
    } finally {
      if (request === listRequest) rows.closest("table").removeAttribute("aria-busy");
    }
    if (request !== listRequest) return;
    if (fromStart) {
      rows.replaceChildren();
      shown = 0;
      selected.clear();
    }
    for (const alias of page.items) rows.append(aliasRow(alias));
    shown += page.items.length;
    nextToken = page.next_token;
    loadMore.hidden = !nextToken;
    describeList(Boolean(wanted.q || wanted.domain || wanted.enabled || wanted.leaked));
    updateBulkBar();
  }

  function filtersChanged() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(currentFilters())) if (value) params.set(name, value);
    const query = params.toString();
    history.replaceState(null, "", query ? `/aliases?${query}` : "/aliases");
    return loadPage({ fromStart: true });
  }

  let searchTimer = null;
  filters.elements.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(filtersChanged, SEARCH_DELAY_MS);
  });
  filters.addEventListener("change", (event) => {
    if (event.target !== filters.elements.q) filtersChanged();
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    filtersChanged();
  });
  loadMore.addEventListener("click", () => loadPage({ fromStart: false }));

  // --- one row --------------------------------------------------------------------------------------------

  // The status of the user's destinations (address in lower case -> pending / verified / suspended): an
  // alias's destinations show which ones receive nothing yet. Reloaded when a create or edit may add some.
  const destinationStatus = new Map();

  async function loadDestinationStatus() {
    const { items } = await postmask.listAll("/api/destinations");
    destinationStatus.clear();
    for (const destination of items) destinationStatus.set(destination.email.toLowerCase(), destination.status);
  }

  const NOT_RECEIVING = {
    pending: { text: "pending", title: "Waiting for confirmation: nothing is forwarded until the link mailed to it is opened" },
    suspended: { text: "suspended", title: "Suspended after a bounce or complaint: nothing is forwarded to it" },
  };

  function destinationItem(address) {
    const item = document.createElement("li");
    item.textContent = address;
    const status = NOT_RECEIVING[destinationStatus.get(address.toLowerCase())];
    if (status) {
      const badge = document.createElement("span"); // not a link: the row's tab order stays what it was
      badge.className = "badge small";
      badge.dataset.status = destinationStatus.get(address.toLowerCase());
      badge.textContent = status.text;
      badge.title = status.title;
      item.append(" ", badge);
    }
    return item;
  }

  function fillRow(row, alias) {
    setText(row, "address", alias.address);
    const pick = $('[data-field="selected"]', row);
    pick.checked = selected.has(alias.id);
    pick.setAttribute("aria-label", `Select ${alias.address}`);
    row.classList.toggle("selected", pick.checked);
    // Its own page: contacts, reply addresses, writing to someone new.
    $('[data-action="open"]', row).href = `/aliases/${encodeURIComponent(alias.id)}`;
    const destinations = $('[data-field="destinations"]', row);
    destinations.replaceChildren(...alias.destinations.map(destinationItem));
    setText(row, "note", alias.note);
    setText(row, "site", alias.site ? `for ${alias.site}` : "");
    const leak = $('[data-field="leak"]', row);
    leak.hidden = !alias.leak.suspected;
    leak.href = `/activity?alias_id=${encodeURIComponent(alias.id)}`;
    leak.title = `${postmask.plural(alias.leak.foreign_senders, "sender", "senders")} from outside ${alias.site} wrote to it`;
    leak.setAttribute("aria-label", `Possible leak of ${alias.address}: ${leak.title}`);
    row.classList.toggle("leaked", alias.leak.suspected);
    const enabled = $('[data-field="enabled"]', row);
    enabled.checked = alias.enabled;
    enabled.setAttribute("aria-label", `Enabled: ${alias.address}`);
    row.classList.toggle("disabled", !alias.enabled);
    setText(row, "forwarded_count", String(alias.forwarded_count));
    setText(row, "blocked_count", String(alias.blocked_count));
    const lastUsed = [alias.last_forwarded_at, alias.last_blocked_at].filter(Boolean).sort().pop();
    $('[data-field="last_used"]', row).replaceChildren(postmask.timeElement(lastUsed));
    $('[data-action="copy"]', row).setAttribute("aria-label", `Copy ${alias.address}`);
    $('[data-action="edit"]', row).setAttribute("aria-label", `Edit ${alias.address}`);
    $('[data-action="delete"]', row).setAttribute("aria-label", `Delete ${alias.address}`);
  }

  // The latest state of every alias on the page, by id. A row reads it when clicked, so a row that a list
  // reload replaced while a request was in flight still ends up showing what the server answered.
  const known = new Map();
  const selected = new Set(); // ids of the aliases ticked for a bulk action

  function show(alias) {
    known.set(alias.id, alias);
    for (const row of rows.querySelectorAll(`tr[data-id="${CSS.escape(alias.id)}"]`)) fillRow(row, alias);
  }

  function aliasRow(alias) {
    const id = alias.id;
    const current = () => known.get(id);
    const path = `/api/aliases/${encodeURIComponent(id)}`;
    const row = fromTemplate("alias-row");
    row.dataset.id = id;
    known.set(id, alias);
    fillRow(row, alias);

    $('[data-field="selected"]', row).addEventListener("change", (event) => {
      if (event.currentTarget.checked) selected.add(id);
      else selected.delete(id);
      row.classList.toggle("selected", event.currentTarget.checked);
      updateBulkBar();
    });

    $('[data-action="copy"]', row).addEventListener("click", (event) =>
      postmask.copyText(current().address, event.currentTarget),
    );

    const enabled = $('[data-field="enabled"]', row);
    enabled.addEventListener("change", async () => {
      postmask.clearRowError(row);
      const wanted = enabled.checked;
      enabled.disabled = true;
      try {
        const saved = await api("PATCH", path, { body: { enabled: wanted } });
        show(saved);
        announce(`${saved.address} ${saved.enabled ? "enabled: mail is forwarded" : "disabled: mail is blocked"}.`);
      } catch (error) {
        enabled.checked = current().enabled; // the switch shows what the server holds, not what was asked
        postmask.showRowError(row, error);
      } finally {
        enabled.disabled = false;
      }
    });

    $('[data-action="edit"]', row).addEventListener("click", () => openEditor(current()));

    $('[data-action="delete"]', row).addEventListener("click", async () => {
      postmask.clearRowError(row);
      const { address } = current();
      if (!(await postmask.confirmAction(postmask.aliasEditor.deleteQuestion(address), "Delete alias"))) return;
      try {
        await api("DELETE", path);
      } catch (error) {
        postmask.showRowError(row, error);
        return;
      }
      const focusAfter = row.nextElementSibling ?? row.previousElementSibling;
      forget(id);
      describeList(Object.values(currentFilters()).some(Boolean));
      updateBulkBar();
      announce(`Deleted ${address}.`);
      (focusAfter?.isConnected ? $('[data-action="delete"]', focusAfter) : newAlias).focus();
    });
    return row;
  }

  /** An alias that is gone: out of the page, the selection and the count. */
  function forget(id) {
    known.delete(id);
    selected.delete(id);
    const gone = [...rows.querySelectorAll(`tr[data-id="${CSS.escape(id)}"]`)];
    for (const shownRow of gone) shownRow.remove();
    shown -= gone.length;
  }

  // --- several at once ------------------------------------------------------------------------------------

  const BULK_LIMIT = 100; // ids per POST /api/aliases/bulk
  const bulkBar = $("#bulk-bar");
  const selectAll = $("#select-all");
  const bulkButtons = [...bulkBar.querySelectorAll("[data-bulk]")];

  function updateBulkBar() {
    bulkBar.hidden = shown === 0;
    const count = selected.size;
    $("#selected-count").textContent = count ? `${postmask.plural(count, "alias", "aliases")} selected` : "None selected";
    for (const button of bulkButtons) button.disabled = count === 0;
    selectAll.checked = count > 0 && count === shown;
    selectAll.indeterminate = count > 0 && count < shown;
  }

  selectAll.addEventListener("change", () => {
    for (const row of rows.querySelectorAll("tr.alias")) {
      const pick = $('[data-field="selected"]', row);
      pick.checked = selectAll.checked;
      row.classList.toggle("selected", selectAll.checked);
      if (selectAll.checked) selected.add(row.dataset.id);
      else selected.delete(row.dataset.id);
    }
    updateBulkBar();
  });

  const BULK_DONE = { enable: "Enabled", disable: "Disabled", delete: "Deleted" };

  async function bulk(action) {
    const ids = [...selected];
    $("#bulk-error").textContent = "";
    if (action === "delete") {
      const question = `Delete ${postmask.plural(ids.length, "alias", "aliases")}? Mail to them is no longer forwarded (it goes to the domain's catch-all, if any, or is dropped), and replies through their contacts stop. You can create the same addresses again later.`;
      if (!(await postmask.confirmAction(question, "Delete aliases"))) return;
    }
    for (const button of bulkButtons) button.disabled = true;
    const succeeded = [];
    const failed = [];
    try {
      for (let start = 0; start < ids.length; start += BULK_LIMIT) {
        const body = { action, ids: ids.slice(start, start + BULK_LIMIT) };
        const outcome = await api("POST", "/api/aliases/bulk", { body });
        succeeded.push(...outcome.succeeded);
        failed.push(...outcome.failed);
      }
    } catch (error) {
      $("#bulk-error").textContent = postmask.errorText(error) ?? "";
    }
    for (const id of succeeded) {
      if (action === "delete") forget(id);
      else {
        selected.delete(id);
        show({ ...known.get(id), enabled: action === "enable" });
      }
    }
    for (const { id, message } of failed) {
      for (const row of rows.querySelectorAll(`tr[data-id="${CSS.escape(id)}"]`)) {
        $('[data-field="error"]', row).textContent = message;
      }
    }
    describeList(Object.values(currentFilters()).some(Boolean));
    updateBulkBar();
    const done = succeeded.length ? `${BULK_DONE[action]} ${postmask.plural(succeeded.length, "alias", "aliases")}.` : "";
    const notDone = failed.length ? ` ${postmask.plural(failed.length, "alias was", "aliases were")} not changed.` : "";
    if (done || notDone) announce((done + notDone).trim());
  }

  for (const button of bulkButtons) button.addEventListener("click", () => bulk(button.dataset.bulk));

  // --- import and export ----------------------------------------------------------------------------------

  const portingSection = $("#porting-section");
  const showPorting = $("#show-porting");
  const importForm = $("#import-form");
  const importPlan = $("#import-plan");
  const importConfirm = $("#import-confirm");
  let checkedImport = null; // the file checked by a dry run, waiting for "Import"

  showPorting.addEventListener("click", () => {
    portingSection.hidden = !portingSection.hidden;
    showPorting.setAttribute("aria-expanded", String(!portingSection.hidden));
    if (!portingSection.hidden) $("#export-json").focus();
  });

  async function download(format) {
    $("#export-error").textContent = "";
    try {
      await postmask.downloadExport(format);
      announce(`Your export (${format.toUpperCase()}) is downloading.`);
    } catch (error) {
      $("#export-error").textContent = postmask.errorText(error) ?? "";
    }
  }

  $("#export-json").addEventListener("click", () => download("json"));
  $("#export-csv").addEventListener("click", () => download("csv"));

  function showImportReport(report, { dryRun }) {
    const lines = [];
    const created = postmask.plural(report.created, "alias", "aliases");
    if (dryRun) lines.push(report.created ? `${created} will be created.` : "Nothing new to import.");
    else lines.push(`Imported ${created}.`);
    if (report.skipped) lines.push(`${postmask.plural(report.skipped, "alias", "aliases")} you have already: skipped.`);
    if (report.errors.length) {
      const count = report.errors.length;
      const verb = dryRun ? "will not be" : count === 1 ? "was not" : "were not";
      lines.push(`${postmask.plural(count, "row", "rows")} ${verb} imported:`);
    }
    $("#import-summary").textContent = lines.join(" ");
    $("#import-problems").replaceChildren(
      ...report.errors.map(({ row, message }) => {
        const item = document.createElement("li");
        // The API's report names its query parameter; the form calls it by its label.
        const said = message.replace("give default_destination", "fill in “Forward rows that name no mailbox to”");
        item.textContent = row === null ? said : `Row ${row}: ${said}`;
        return item;
      }),
    );
    const mailboxes = report.new_destinations ?? [];
    if (mailboxes.length) {
      const item = document.createElement("li");
      item.className = "mailboxes";
      item.textContent = `${dryRun ? "New mailboxes, to be confirmed" : "Confirmation links mailed to"}: ${mailboxes.join(", ")}`;
      $("#import-problems").prepend(item);
    }
    importPlan.hidden = false;
    importConfirm.hidden = !dryRun || report.created === 0;
    $("#import-cancel").textContent = importConfirm.hidden ? "Close" : "Cancel";
    importConfirm.textContent = `Import ${created}`;
  }

  function resetImport() {
    checkedImport = null;
    importPlan.hidden = true;
  }

  importForm.elements.file.addEventListener("change", resetImport);
  importForm.elements.default_destination.addEventListener("input", resetImport);
  $("#import-cancel").addEventListener("click", () => {
    resetImport();
    importForm.elements.file.focus();
  });

  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    resetImport();
    const file = importForm.elements.file.files[0];
    if (!file) {
      postmask.showFieldError(importForm, "file", "Choose the file to import.");
      return;
    }
    const json = file.type === "application/json" || /\.json$/i.test(file.name);
    const raw = { type: json ? "application/json" : "text/csv", data: await file.text() };
    const query = { default_destination: importForm.elements.default_destination.value.trim() };
    let report;
    try {
      report = await postmask.busy(importForm, () =>
        api("POST", "/api/import", { raw, query: { ...query, dry_run: "true" } }),
      );
    } catch (error) {
      postmask.showErrors(importForm, error, { sent: query });
      return;
    }
    postmask.clearErrors(importForm);
    // One key per checked file: a retried "Import" (a lost answer) imports it once.
    const key = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
    checkedImport = { raw, query, key };
    showImportReport(report, { dryRun: true });
    announce($("#import-summary").textContent);
    (importConfirm.hidden ? $("#import-cancel") : importConfirm).focus();
  });

  importConfirm.addEventListener("click", async () => {
    if (!checkedImport) return;
    const { raw, query, key } = checkedImport;
    importConfirm.disabled = true;
    let report;
    try {
      report = await api("POST", "/api/import", { raw, query, headers: { "Idempotency-Key": key } });
    } catch (error) {
      postmask.showErrors(importForm, error);
      return;
    } finally {
      importConfirm.disabled = false;
    }
    checkedImport = null;
    showImportReport(report, { dryRun: false });
    announce($("#import-summary").textContent);
    await Promise.all([loadDomains(), loadDestinationStatus()]).catch(() => {});
    await loadPage({ fromStart: true });
  });

  // --- edit (static/alias_edit.js) -----------------------------------------------------------------------

  function openEditor(alias) {
    postmask.aliasEditor.open(alias, {
      saved: async (saved) => {
        await loadDestinationStatus().catch(() => {}); // new destinations are pending: show it
        show(saved);
        announce(`Saved ${saved.address}.${pendingNote(saved)}`);
      },
    });
  }

  // --- create ---------------------------------------------------------------------------------------------

  function showCreate(open) {
    createSection.hidden = !open;
    newAlias.setAttribute("aria-expanded", String(open));
    if (open) (createForm.elements.domain.disabled ? $("#no-domains a") : createForm.elements.domain).focus();
    else newAlias.focus();
  }

  /** The create form's "Forward to" as the user's defaults have it (their default domain chosen too). */
  async function resetCreateForm() {
    const { defaults, domain } = await postmask.aliasEditor.mailboxes();
    await postmask.aliasEditor.fillPicker(createForm, defaults, { keepTyped: true });
    const domains = createForm.elements.domain;
    if (domain && !new URLSearchParams(location.search).get("domain") && [...domains.options].some((o) => o.value === domain)) {
      domains.value = domain;
    }
  }

  newAlias.addEventListener("click", () => showCreate(createSection.hidden));
  $("#create-cancel").addEventListener("click", () => showCreate(false));

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = createForm.elements;
    const body = { domain: fields.domain.value, destinations: postmask.aliasEditor.chosenIn(createForm) };
    const localPart = fields.local_part.value.trim();
    if (localPart) body.local_part = localPart; // empty: the service picks a random one
    if (fields.note.value) body.note = fields.note.value;
    if (fields.site.value.trim()) body.site = fields.site.value.trim();
    body.trackers = fields.trackers.value;
    if (body.destinations.length === 0) {
      postmask.showFieldError(createForm, "destinations", "Tick a mailbox or type an address to forward to.");
      return;
    }
    // Checked here as the API checks them, said in the form's words.
    const localPartProblem = postmask.localPartProblem(localPart);
    if (localPartProblem) {
      postmask.showFieldError(createForm, "local_part", localPartProblem);
      return;
    }
    const destinationProblem = body.destinations.map(postmask.emailProblem).find(Boolean);
    if (destinationProblem) {
      postmask.showFieldError(createForm, "destinations", destinationProblem);
      return;
    }
    let alias;
    try {
      alias = await postmask.busy(createForm, () => api("POST", "/api/aliases", { body }));
    } catch (error) {
      // 409: the address is taken; 404: the domain is not (or no longer) yours.
      postmask.showErrors(createForm, error, { sent: body, fieldFor: { 409: "local_part", 404: "domain" } });
      return;
    }
    await loadDestinationStatus().catch(() => {}); // new destinations are pending: show it
    postmask.clearErrors(createForm);
    postmask.aliasEditor.forgetMailboxes();
    fields.destinations.value = "";
    await resetCreateForm().catch(() => {});
    fields.local_part.value = "";
    fields.note.value = "";
    fields.site.value = "";
    fields.trackers.value = "pixels"; // the API's default
    createSection.hidden = true;
    newAlias.setAttribute("aria-expanded", "false");
    const row = aliasRow(alias);
    row.classList.add("new");
    rows.prepend(row);
    shown += 1;
    describeList(false);
    updateBulkBar(); // the first alias brings the bar; "All shown" is no longer all
    announce(`Created ${alias.address}.${pendingNote(alias)}`);
    $('[data-action="copy"]', row).focus();
  });

  /** " Confirm x first: ..." when some of the alias's destinations receive nothing yet. */
  function pendingNote(alias) {
    const pending = alias.destinations.filter((address) => destinationStatus.get(address.toLowerCase()) === "pending");
    if (pending.length === 0) return "";
    return ` Nothing is forwarded to ${pending.join(", ")} until the link mailed there is opened.`;
  }

  // --- start ----------------------------------------------------------------------------------------------

  async function loadDomains() {
    const { items } = await postmask.listAll("/api/domains");
    const options = items.map((domain) => new Option(domain.name, domain.name));
    createForm.elements.domain.replaceChildren(...options);
    const filter = filters.elements.domain;
    const chosen = new URLSearchParams(location.search).get("domain") ?? "";
    filter.replaceChildren(new Option("All domains", ""), ...items.map((domain) => new Option(domain.name, domain.name)));
    if (chosen && !items.some((domain) => domain.name === chosen)) filter.append(new Option(chosen, chosen));
    filter.value = chosen;
    createForm.elements.domain.disabled = items.length === 0;
    $("#no-domains").hidden = items.length > 0;
    if (chosen) createForm.elements.domain.value = chosen;
  }

  const params = new URLSearchParams(location.search);
  filters.elements.q.value = params.get("q") ?? "";
  filters.elements.enabled.value = ["true", "false"].includes(params.get("enabled")) ? params.get("enabled") : "";
  filters.elements.leaked.value = ["true", "false"].includes(params.get("leaked")) ? params.get("leaked") : "";
  try {
    await Promise.all([loadDomains(), loadDestinationStatus()]);
    await resetCreateForm();
  } catch (error) {
    const text = postmask.errorText(error);
    if (text === null) return; // the token was refused: on the way to sign-in
    $("#list-error").textContent = text;
  }
  await loadPage({ fromStart: true });
});
