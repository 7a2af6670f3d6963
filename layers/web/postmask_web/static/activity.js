"use strict";
/* What happened to your mail, shared by the pages that show it (the overview, the Activity page, an alias's
   page): activity events as table rows with their reason in plain words, the chart of the last days drawn as
   SVG from GET /api/stats, and an alias's leak state with its one-click switch. Loaded after app.js. */
(() => {
  const { $, api, fromTemplate, setText } = postmask;
  const SVG = "http://www.w3.org/2000/svg";

  const OUTCOMES = {
    forwarded: "Forwarded",
    sent: "Sent",
    blocked: "Blocked",
    dropped: "Dropped",
    refused: "Refused",
    failed: "Failed",
    quarantined: "Quarantined",
    bounced: "Bounced",
    complained: "Complaint",
  };

  // The contract's reasons (snake_case) as a person would say them; an unknown one is shown as written.
  const REASONS = {
    alias_disabled: "the alias is switched off",
    alias_expired: "the alias has expired",
    contact_blocked: "you blocked this sender",
    account_disabled: "the account is disabled by an admin",
    foreign_sender: "the sender is not the alias's site (possible leak)",
    spam: "Amazon SES found spam",
    virus: "Amazon SES found a virus",
    dmarc_fail: "the sender's domain says it did not send it (DMARC)",
    destination_unverified: "this mailbox is not confirmed yet",
    destination_suspended: "this mailbox bounced or complained, and is suspended",
    unauthenticated_reply: "the reply could not be proven to come from your mailbox",
    foreign_recipient: "the reply was also addressed to someone outside postmask",
    not_a_destination: "the reply did not come from one of the alias's mailboxes",
    no_contact: "no contact has this reply address (deleted?)",
    reply_copy: "your own reply, sent to the contact: no copy back to you",
    no_alias: "no alias has this address, and the domain has no catch-all",
    null_sender: "a bounce or automatic reply (no sender)",
    loop: "postmask's own copy came back (a forwarding loop)",
    invalid_recipient: "not an address mail can be sent from",
    domain_unverified: "Amazon SES has not verified the alias's domain yet",
    catch_all: "to the domain's catch-all",
    too_large: "too large for Amazon SES",
    pgp_key_unusable: "the destination's OpenPGP key expired or cannot be used; not sent unencrypted",
    rejected_by_ses: "Amazon SES refused the copy",
    retries_exhausted: "sending failed after every retry",
    delivery_unconfirmed: "Amazon SES did not confirm the copy was sent (it may have arrived)",
    send_error: "Amazon SES did not answer; postmask tries again",
    hard_bounce: "the mailbox does not exist or refused it",
    complaint: "marked as spam by its reader",
  };

  const reasonText = (reason) => (reason ? (REASONS[reason] ?? reason.replaceAll("_", " ")) : "");

  /** "2 tracking pixels and 1 tracked link removed" from a forwarded event's `trackers_removed` ("" for none). */
  function trackersText(removed) {
    const parts = [];
    if (removed?.pixels) parts.push(postmask.plural(removed.pixels, "tracking pixel", "tracking pixels"));
    if (removed?.links) parts.push(postmask.plural(removed.links, "tracked link", "tracked links"));
    return parts.length ? `${parts.join(" and ")} removed` : "";
  }

    /** One event as a row of the template `#activity-row` (includes/activity.html). */
  function eventRow(event) {
    const row = fromTemplate("activity-row");
    row.dataset.outcome = event.outcome;
    const outcome = $('[data-field="outcome"]', row);
    outcome.textContent = OUTCOMES[event.outcome] ?? event.outcome;
    outcome.dataset.outcome = event.outcome;
    setText(row, "reason", reasonText(event.reason));
    $('[data-field="encrypted"]', row).hidden = !event.encrypted;
    const trackers = trackersText(event.trackers_removed);
    setText(row, "trackers", trackers);
    $('[data-field="trackers"]', row).hidden = !trackers;
    if (event.reason === "foreign_sender") row.classList.add("foreign");
    $('[data-field="quarantine_link"]', row).hidden = event.outcome !== "quarantined"; // kept there, to resend
    setText(row, "address", event.address);
    setText(row, "sender", event.sender ?? "—");
    setText(row, "destination", event.destination ? `→ ${event.destination}` : "");
    setText(row, "subject", event.subject ?? "");
    $('[data-field="at"]', row).replaceChildren(postmask.timeElement(event.at));
    return row;
  }

  /** A list of events, newest first, in a section made by includes/activity.html; "Load more" pages on. */
  function eventList(section, { query = {}, pageSize = 25, more = true } = {}) {
    const rows = $("tbody", section);
    const summary = $(".summary", section);
    const loadMore = $(".load-more", section);
    const error = $(".form-error", section);
    let nextToken = null;
    let shown = 0;
    let request = 0;

    async function load({ fromStart, wanted = query }) {
      const mine = (request += 1);
      query = wanted;
      error.textContent = "";
      section.setAttribute("aria-busy", "true");
      let page;
      try {
        const params = { ...query, limit: pageSize, next_token: fromStart ? null : nextToken };
        page = await api("GET", "/api/activity", { query: params });
      } catch (failure) {
        if (mine === request) {
          error.textContent = postmask.errorText(failure) ?? "";
          if (fromStart || shown === 0) summary.textContent = ""; // the error says it: no "Loading…" left behind
        }
        return;
      } finally {
        if (mine === request) section.removeAttribute("aria-busy");
      }
      if (mine !== request) return;
      if (fromStart) {
        rows.replaceChildren();
        shown = 0;
      }
      rows.append(...page.items.map(eventRow));
      shown += page.items.length;
      nextToken = page.next_token;
      loadMore.hidden = !more || !nextToken;
      summary.textContent = shown
        ? `${postmask.plural(shown, "event", "events")} shown${nextToken ? " so far" : ""}.`
        : "Nothing yet: mail that arrives, and what postmask does with it, shows up here.";
    }

    loadMore.addEventListener("click", () => load({ fromStart: false }));
    return { load: (wanted) => load({ fromStart: true, wanted: wanted ?? query }) };
  }

  // --- the chart ------------------------------------------------------------------------------------------

  const SERIES = [
    ["forwarded", "Forwarded"],
    ["sent", "Sent"],
    ["blocked", "Blocked"],
    ["refused", "Refused"],
  ];
  const CHART = { height: 192, top: 12, bottom: 22, left: 30, right: 14, minWidth: 280 };

  function svg(name, attributes = {}, text = null) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    if (text !== null) element.textContent = text;
    return element;
  }

  const shortDate = (date) =>
    new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });

  /** A stacked bar per day (forwarded, sent, blocked, refused) drawn into `figure`, with a legend of totals and
      the numbers as a table for screen readers. `days` is GET /api/stats's list, oldest first. */
  function drawChart(figure, days) {
    const body = $(".chart-body", figure);
    // One unit of the drawing is one CSS pixel of the figure's width: text and bars are never stretched.
    const width = Math.max(CHART.minWidth, Math.floor(body.clientWidth));
    const { height, top, bottom, left, right } = CHART;
    const total = (day) => SERIES.reduce((sum, [key]) => sum + day[key], 0);
    // An even peak, at least 2: the middle grid line is a whole number (0, 1, 2; never "0, 1, 1").
    const peak = Math.max(2, Math.ceil(Math.max(...days.map(total)) / 2) * 2);
    const plotHeight = height - top - bottom;
    const slot = (width - left - right) / days.length;
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      class: "chart",
      role: "img",
      "aria-labelledby": `${figure.id}-caption`,
      width,
      height,
    });
    for (const fraction of [0, 0.5, 1]) {
      const y = top + plotHeight * (1 - fraction);
      chart.append(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
      chart.append(svg("text", { x: left - 4, y: y + 4, class: "axis", "text-anchor": "end" }, Math.round(peak * fraction)));
    }
    days.forEach((day, index) => {
      const x = left + index * slot + slot * 0.15;
      const group = svg("g", { class: "day", "data-date": day.date });
      let base = top + plotHeight;
      for (const [key, label] of SERIES) {
        group.dataset[key] = day[key];
        if (!day[key]) continue;
        const barHeight = (day[key] / peak) * plotHeight;
        base -= barHeight;
        const bar = svg("rect", { x, y: base, width: slot * 0.7, height: barHeight, class: `bar ${key}` });
        bar.append(svg("title", {}, `${shortDate(day.date)}: ${day[key]} ${label.toLowerCase()}`));
        group.append(bar);
      }
      chart.append(group);
    });
    for (const index of [0, Math.floor((days.length - 1) / 2), days.length - 1]) {
      const x = left + index * slot + slot / 2;
      chart.append(svg("text", { x, y: height - 6, class: "axis", "text-anchor": "middle" }, shortDate(days[index].date)));
    }

    const legend = document.createElement("ul");
    legend.className = "legend";
    for (const [key, label] of SERIES) {
      const item = document.createElement("li");
      item.dataset.series = key;
      const swatch = document.createElement("span");
      swatch.className = `swatch ${key}`;
      const count = document.createElement("strong");
      count.dataset.total = key;
      count.textContent = String(days.reduce((sum, day) => sum + day[key], 0));
      item.append(swatch, count, ` ${label.toLowerCase()}`);
      legend.append(item);
    }

    const numbers = document.createElement("div"); // a table ignores a width smaller than its content: wrap it
    numbers.className = "visually-hidden";
    const table = document.createElement("table");
    numbers.append(table);
    const head = table.createTHead().insertRow();
    for (const label of ["Day", ...SERIES.map(([, name]) => name)]) {
      const cell = document.createElement("th");
      cell.textContent = label;
      head.append(cell);
    }
    const rowsOfDays = table.createTBody();
    for (const day of days) {
      const row = rowsOfDays.insertRow();
      row.insertCell().textContent = day.date;
      for (const [key] of SERIES) row.insertCell().textContent = String(day[key]);
    }
    body.replaceChildren(chart, legend, numbers);
  }

  async function loadChart(figure, days = 30) {
    figure.setAttribute("aria-busy", "true");
    try {
      const stats = await api("GET", "/api/stats", { query: { days } });
      drawChart(figure, stats.days);
      let drawnWidth = $(".chart-body", figure).clientWidth;
      new ResizeObserver(() => {
        const now = $(".chart-body", figure).clientWidth;
        if (now !== drawnWidth) {
          drawnWidth = now;
          drawChart(figure, stats.days);
        }
      }).observe($(".chart-body", figure));
    } catch (failure) {
      $(".form-error", figure).textContent = postmask.errorText(failure) ?? "";
    } finally {
      figure.removeAttribute("aria-busy");
    }
  }

  // --- an alias's leak state ------------------------------------------------------------------------------

  /** The leak state of `alias` in a `#leak-card` template copy: who wrote from outside its site, and the
      switch that accepts mail from the site only. `changed(alias)` is told of a switch that took; `activityLink`:
   false on a page that shows the alias's activity already; `named`: false on a page that names the alias. */
  function leakCard(alias, { changed = () => {}, activityLink = true, named = true } = {}) {
    const card = fromTemplate("leak-card");
    if (!named) $("h3", card).remove(); // the page is the alias's: its heading names it already
    const fill = (current) => {
      card.dataset.aliasId = current.id;
      card.classList.toggle("suspected", current.leak.suspected);
      if (named) setText(card, "address", current.address);
      setText(card, "site", current.site ?? "not known yet");
      const senders = current.leak.foreign_senders;
      setText(
        card,
        "leak",
        current.leak.suspected
          ? `${postmask.plural(senders, "sender", "senders")} from outside ${current.site} wrote to it`
          : current.site
            ? `Only ${current.site} has written to it.`
            : "postmask learns its site from the first mail it forwards.",
      );
      $('[data-field="first_foreign_at"]', card).replaceChildren(
        current.leak.first_foreign_at ? postmask.timeElement(current.leak.first_foreign_at) : "",
      );
      const toggle = $('[data-field="block_foreign_senders"]', card);
      toggle.checked = current.block_foreign_senders;
      toggle.disabled = !current.site;
      setText(card, "switch_label", current.site ? `Only accept mail from ${current.site}` : "Only accept mail from its site");
      $('[data-field="activity_link"]', card).href = `/activity?alias_id=${encodeURIComponent(current.id)}`;
      $('[data-field="activity_link"]', card).hidden = !activityLink;
    };
    fill(alias);
    const toggle = $('[data-field="block_foreign_senders"]', card);
    toggle.addEventListener("change", async () => {
      const wanted = toggle.checked;
      postmask.clearRowError(card);
      try {
        const updated = await api("PATCH", `/api/aliases/${encodeURIComponent(alias.id)}`, {
          body: { block_foreign_senders: wanted },
        });
        fill(updated);
        changed(updated);
        postmask.announce(wanted ? `${updated.address} now accepts mail from ${updated.site} only.` : `${updated.address} accepts mail from anyone again.`);
      } catch (failure) {
        toggle.checked = !wanted;
        postmask.showRowError(card, failure);
      }
    });
    return card;
  }

  postmask.activity = { eventRow, eventList, reasonText, loadChart, drawChart, leakCard, OUTCOMES };
})();
