"use strict";
/*
 * /signin#<code>: the page a sign-in link opens. The code is read from the fragment (never sent to a server
 * by the browser, never in a log), removed from the address bar and the history at once, and posted once to
 * POST /api/sessions/redeem. The session token it returns is kept in localStorage: every tab is signed in.
 */
postmask.page(async () => {
  const { $, api, session } = postmask;
  const code = location.hash.slice(1).trim();
  history.replaceState(null, "", location.pathname); // the code leaves the address bar and the history

  function failed(message) {
    $("#redeem-title").textContent = "This link does not work";
    $("#redeem-status").textContent = "";
    $("#redeem-error").textContent = message;
    $("#redeem-again").hidden = false;
  }

  if (!code) {
    failed("The link is incomplete: open it straight from the message, or ask for a new one.");
    return;
  }
  let signedIn;
  try {
    signedIn = await api("POST", "/api/sessions/redeem", { body: { code }, token: null, signInOnRefusal: false });
  } catch (error) {
    failed(postmask.errorText(error) ?? "");
    return;
  }
  if (session.token() && session.kind() === "session") {
    // This browser was signed in already: that older session is let go, not left behind.
    await api("DELETE", "/api/sessions/current", { signInOnRefusal: false }).catch(() => null);
  }
  session.start(signedIn.token, { kind: "session", id: signedIn.id });
  $("#redeem-status").textContent = "Signed in.";
  location.replace("/"); // not back to this page: the link is spent
});
