"use strict";
/* The home page: signing in (a link by e-mail, or a pasted API token) when signed out; when signed in, the
   overview: suspected leaks first, the chart of the last 30 days, the latest events. */
postmask.page(async () => {
  const { $, api, listAll, session } = postmask;
  const params = new URLSearchParams(location.search);

  const NOTICES = {
    expired: "Your sign-in was refused: it has expired or been revoked. Sign in again.",
    "signed-out": "You are signed out.",
    "signed-out-everywhere": "You are signed out everywhere: every browser has to sign in again.",
    "account-deleted": "Your account and everything in it are deleted. Thank you for using postmask.",
  };

  function showEmailSignIn() {
    const form = $("#email-form");
    const checkMail = $("#check-mail");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = form.elements.email.value.trim();
      if (!email) {
        postmask.showFieldError(form, "email", "Type the e-mail address of your account.");
        return;
      }
      try {
        await postmask.busy(form, () => api("POST", "/api/sessions", { body: { email }, signInOnRefusal: false }));
      } catch (error) {
        postmask.showErrors(form, error, { sent: { email } });
        return;
      }
      postmask.clearErrors(form);
      postmask.setText(checkMail, "email", email);
      form.hidden = true;
      checkMail.hidden = false;
      $("#try-again").focus();
    });
    $("#try-again").addEventListener("click", () => {
      checkMail.hidden = true;
      form.hidden = false;
      form.elements.email.select();
      form.elements.email.focus();
    });
  }

  function showTokenSignIn() {
    const form = $("#sign-in-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const token = form.elements.token.value.trim();
      if (!token) {
        postmask.showFieldError(form, "token", "Paste a token to sign in.");
        return;
      }
      try {
        await postmask.busy(form, () => api("GET", "/api/me", { token, signInOnRefusal: false }));
      } catch (error) {
        const refused = error instanceof postmask.ApiError && (error.status === 401 || error.status === 403);
        if (refused) {
          postmask.showFieldError(
            form,
            "token",
            "This token was not accepted. Check that you pasted all of it and that it has not been revoked or expired.",
          );
        } else {
          postmask.showErrors(form, error);
        }
        return;
      }
      session.start(token, { kind: "api" });
      location.assign(postmask.safeReturnPath(params.get("next")));
    });
  }

  function showSignIn() {
    const notice = NOTICES[params.get("reason")];
    if (notice) {
      $("#sign-in-notice").textContent = notice;
      $("#sign-in-notice").hidden = false;
    }
    $("#sign-in").hidden = false;
    showEmailSignIn();
    showTokenSignIn();
    $("#email-form").elements.email.focus();
  }

  async function showOverview() {
    const section = $("#overview");
    section.hidden = false;
    if (params.has("reason") || params.has("next")) history.replaceState(null, "", "/");
    const stats = $(".stats", section);
    try {
      const [me, domains] = await Promise.all([api("GET", "/api/me"), listAll("/api/domains")]);
      postmask.setText(section, "email", me.email);
      $("#signed-in-as").hidden = false;
      const aliasCount = domains.items.reduce((sum, domain) => sum + domain.alias_count, 0);
      const more = domains.complete ? "" : "+";
      postmask.setText(section, "domain_count", `${domains.items.length}${more}`);
      postmask.setText(section, "domain_noun", domains.items.length === 1 && !more ? "domain" : "domains");
      postmask.setText(section, "alias_count", `${aliasCount}${more}`);
      postmask.setText(section, "alias_noun", aliasCount === 1 && !more ? "alias" : "aliases");
      $("#get-started").hidden = domains.items.length > 0;
    } catch (error) {
      $("#overview-error").textContent = postmask.errorText(error) ?? "";
    } finally {
      stats.removeAttribute("aria-busy");
    }
  }

  /** Mail that could not be delivered, counted when there is any: it waits in quarantine for a decision. */
  async function showQuarantine() {
    try {
      const page = await api("GET", "/api/quarantine", { query: { limit: 100 } });
      const count = page.items.length;
      const more = page.next_token ? "+" : "";
      postmask.setText($("#overview"), "quarantine_count", `${count}${more}`);
      postmask.setText($("#overview"), "quarantine_noun", count === 1 && !more ? "message" : "messages");
      $("#quarantine-stat").hidden = count === 0;
    } catch (error) {
      $("#overview-error").textContent = postmask.errorText(error) ?? "";
    }
  }

  /** Suspended destinations first too: all their mail has stopped, which a person would not notice otherwise. */
  async function showSuspended() {
    try {
      const { items } = await api("GET", "/api/destinations", { query: { status: "suspended", limit: 20 } });
      $("#suspended-list").replaceChildren(
        ...items.map((destination) => {
          const item = document.createElement("li");
          const address = document.createElement("strong");
          address.className = "address";
          address.textContent = destination.email;
          item.append(address, `: ${destination.suspended_reason ?? "it bounced"}.`);
          return item;
        }),
      );
      $("#suspended").hidden = items.length === 0;
    } catch (error) {
      $("#overview-error").textContent = postmask.errorText(error) ?? "";
    }
  }

  const LEAKS_SHOWN = 5;

  /** Suspected leaks first: a person with one should see it without looking for it. */
  async function showLeaks() {
    try {
      const page = await api("GET", "/api/aliases", { query: { leaked: true, limit: LEAKS_SHOWN } });
      $("#leak-cards").replaceChildren(...page.items.map((alias) => postmask.activity.leakCard(alias)));
      $("#all-leaks").hidden = !page.next_token;
      $("#leaks").hidden = page.items.length === 0;
    } catch (error) {
      $("#overview-error").textContent = postmask.errorText(error) ?? "";
    }
  }

  if (session.token()) {
    await Promise.all([
      showOverview(),
      showQuarantine(),
      showSuspended(),
      showLeaks(),
      postmask.activity.loadChart($("#chart")),
      postmask.activity.eventList($("#latest"), { pageSize: 10, more: false }).load(),
    ]);
  }
  else showSignIn();
});
