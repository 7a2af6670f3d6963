"use strict";
/* The home page: the sign-in form (paste a token) when signed out, a short overview when signed in. */
postmask.page(async () => {
  const { $, api, listAll, session } = postmask;
  const params = new URLSearchParams(location.search);

  const NOTICES = {
    expired: "Your token was refused: it has been revoked or has expired. Sign in again.",
    "signed-out": "You are signed out. The token has been removed from this tab.",
  };

  function showSignIn() {
    const section = $("#sign-in");
    const form = $("#sign-in-form");
    const notice = NOTICES[params.get("reason")];
    if (notice) {
      $("#sign-in-notice").textContent = notice;
      $("#sign-in-notice").hidden = false;
    }
    section.hidden = false;
    form.elements.token.focus();
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
      session.start(token);
      location.assign(postmask.safeReturnPath(params.get("next")));
    });
  }

  async function showOverview() {
    const section = $("#overview");
    section.hidden = false;
    if (params.has("reason") || params.has("next")) history.replaceState(null, "", "/");
    const stats = $(".stats", section);
    try {
      const [me, domains] = await Promise.all([api("GET", "/api/me"), listAll("/api/domains")]);
      postmask.setText(section, "email", me.email);
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

  if (session.token()) await showOverview();
  else showSignIn();
});
