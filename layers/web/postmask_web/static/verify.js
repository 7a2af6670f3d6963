"use strict";
/*
 * The /verify page: the link mailed to a destination is /verify#<secret>. The secret is in the fragment, which
 * the browser never sends to a server (nor in a Referer); this script posts it to the public API route and
 * says what happened. The fragment is removed from the address bar and the history at once.
 */
postmask.page(async () => {
  const { $, api } = postmask;
  const title = $("#verify-title");
  const result = $("#verify-result");
  const next = $("#verify-next");

  const REASONS = {
    404: "This link is not valid. A newer link may have replaced it: ask for a new one on the Destinations page.",
    410: "This link has expired (links work for 7 days). Ask for a new one on the Destinations page.",
  };

  function say(heading, text, outcome) {
    title.textContent = heading;
    result.textContent = text;
    result.classList.remove("success", "failure");
    if (outcome) result.classList.add(outcome);
  }

  async function confirm() {
    let secret = location.hash.slice(1);
    try {
      secret = decodeURIComponent(secret);
    } catch {
      // a link mangled on its way (a stray %): sent as it is, and refused as unknown
    }
    history.replaceState(null, "", location.pathname);
    next.hidden = true;
    if (!secret) {
      say("No link to confirm", "Open the link from the mail postmask sent to the address you want to confirm.");
      return;
    }
    say("Confirming…", "Checking the link.");
    try {
      const verified = await api("POST", "/api/destinations/verify", { body: { token: secret }, token: null });
      say("Confirmed", `${verified.email} is verified. Mail for your aliases is forwarded to it from now on.`, "success");
      next.hidden = !postmask.session.token();
    } catch (error) {
      const known = error instanceof postmask.ApiError ? REASONS[error.status] : undefined;
      say("Not confirmed", known ?? postmask.errorText(error) ?? "", "failure");
    }
  }

  // Another link opened in this tab changes only the fragment: the page is not loaded again.
  window.addEventListener("hashchange", () => {
    if (location.hash.length > 1) confirm();
  });
  await confirm();
});
