"use strict";
/*
 * postmask in the browser: the session, the API client and the DOM helpers every page shares. Page scripts
 * use it through the `postmask` global.
 *
 * The session is a token kept in localStorage, so every tab of this browser is signed in: a session token
 * from a sign-in link (kind "session", with its id), or an API token pasted by a developer (kind "api").
 * Signing out revokes a session token; a pasted API token is only forgotten (a program may still use it).
 *
 * User data reaches the page only as text: textContent, input values and attributes, never as HTML.
 */
const postmask = (() => {
  const TOKEN_KEY = "postmask.token";
  const KIND_KEY = "postmask.token-kind";
  const ID_KEY = "postmask.token-id";
  // Where a sign-in may send the user back to (the `next` parameter comes from the URL: never trust it).
  const RETURN_PAGES = new Set(["/aliases", "/domains", "/destinations", "/account", "/settings", "/users", "/activity"]);

  const session = {
    token: () => localStorage.getItem(TOKEN_KEY),
    /** "session" (signed in with a link) or "api" (a pasted token). */
    kind: () => (localStorage.getItem(KIND_KEY) === "session" ? "session" : "api"),
    /** The token's id when it is known (a session's, from the sign-in). */
    id: () => localStorage.getItem(ID_KEY),
    start: (token, { kind = "api", id = null } = {}) => {
      localStorage.setItem(KIND_KEY, kind);
      if (id) localStorage.setItem(ID_KEY, id);
      else localStorage.removeItem(ID_KEY);
      localStorage.setItem(TOKEN_KEY, token); // last: other tabs react to this key
    },
    end: () => {
      localStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(KIND_KEY);
      localStorage.removeItem(ID_KEY);
    },
  };

  // Tabs opened before the session moved to localStorage kept a pasted token in sessionStorage: carry it over.
  const legacy = sessionStorage.getItem(TOKEN_KEY);
  if (legacy !== null) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (!session.token()) session.start(legacy, { kind: "api" });
  }

  /** Thrown when the token was refused: the page is already on its way to the sign-in form. */
  class SignedOut extends Error {}

  class ApiError extends Error {
    constructor(status, body, retryAfterSeconds = null) {
      super(describeFailure(status, body));
      this.status = status;
      this.detail = Array.isArray(body?.detail) ? body.detail : [];
      this.retryAfterSeconds = retryAfterSeconds; // a 429's Retry-After: when the request may succeed
    }
  }

  function describeFailure(status, body) {
    if (status === 0) return "Could not reach postmask. Check your connection and try again.";
    if (status === 429) return "Too many requests at once. Wait a moment and try again.";
    if (status >= 500) return `Something went wrong on our side (error ${status}). Please try again.`;
    if (typeof body?.message === "string" && body.message) return body.message;
    return `The request failed (error ${status}).`;
  }

  function toSignIn(reason) {
    const params = new URLSearchParams();
    if (reason) params.set("reason", reason);
    if (location.pathname !== "/") params.set("next", location.pathname + location.search);
    const query = params.toString();
    location.assign(query ? `/?${query}` : "/");
  }

  function safeReturnPath(next) {
    if (!next) return "/";
    const url = new URL(next, location.origin);
    return url.origin === location.origin && RETURN_PAGES.has(url.pathname) ? url.pathname + url.search : "/";
  }

  /**
   * Call the JSON API. Resolves to the parsed body (null for 204); rejects with ApiError. A refused token
   * (401, or 403 from the authorizer) ends the session and returns to sign-in, unless `signInOnRefusal`
   * is false (the sign-in form itself). `raw` sends `{type, data}` as it is (a file); `blob` resolves to
   * the body as a Blob (a download); `headers` are added (an Idempotency-Key).
   */
  async function api(
    method,
    path,
    { body, raw, query, headers: extra = {}, blob = false, token = session.token(), signInOnRefusal = true } = {},
  ) {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const headers = { Accept: blob ? "*/*" : "application/json", ...extra };
    if (token) headers.Authorization = `Bearer ${token}`; // none for a public route (a link's secret is its own)
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    } else if (raw !== undefined) {
      headers["Content-Type"] = raw.type;
      init.body = raw.data;
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, null);
    }
    if ((response.status === 401 || response.status === 403) && signInOnRefusal) {
      session.end();
      toSignIn("expired");
      throw new SignedOut();
    }
    if (blob && response.ok) return response.blob();
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
      throw new ApiError(response.status, data, Number.isFinite(retryAfter) ? retryAfter : null);
    }
    return data;
  }

  /** Every item of a list route, following next_token (at most `pages` pages). */
  async function listAll(path, { query = {}, pages = 10 } = {}) {
    const items = [];
    let nextToken = null;
    for (let page = 0; page < pages; page += 1) {
      const data = await api("GET", path, { query: { ...query, limit: 100, next_token: nextToken } });
      items.push(...data.items);
      nextToken = data.next_token;
      if (!nextToken) return { items, complete: true };
    }
    return { items, complete: false };
  }

  /**
   * A list page's "load more" list: each page of `path` rendered into `list` (sorted by `sort` when given),
   * the button shown while more follow, the count said in `summary` ("3 contacts shown so far."), an error in
   * `#list-error`. `load()` fetches the next page; `describe()` says the count again after an add or a delete.
   */
  function pagedList({ list, summary, loadMore, path, pageSize, render, sort, noun, empty }) {
    let nextToken = null;
    function describe() {
      const count = list.children.length;
      summary.textContent =
        count === 0 ? empty : `${plural(count, noun[0], noun[1])} shown${nextToken ? " so far" : ""}.`;
    }
    async function load() {
      const errorBox = $("#list-error");
      errorBox.textContent = "";
      let page;
      try {
        page = await api("GET", path, { query: { limit: pageSize, next_token: nextToken } });
      } catch (error) {
        errorBox.textContent = errorText(error) ?? "";
        if (list.children.length === 0) summary.textContent = ""; // the error says it: no "Loading…" left behind
        return;
      }
      const items = sort ? [...page.items].sort(sort) : page.items;
      for (const item of items) list.append(render(item));
      nextToken = page.next_token;
      loadMore.hidden = !nextToken;
      describe();
    }
    loadMore.addEventListener("click", load);
    return { load, describe };
  }

  /** Download the caller's export (GET /api/export) as a file; rejects as `api` does. */
  async function downloadExport(format = "json") {
    const blob = await api("GET", "/api/export", { query: { format }, blob: true });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `postmask-export-${new Date().toISOString().slice(0, 10)}.${format}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  // --- errors next to what caused them -------------------------------------------------------------------

  /** The form field a 422 `loc` names: ["body", "destinations", 0] -> "destinations". */
  function fieldOf(loc) {
    if (!Array.isArray(loc)) return "form";
    const [where, name] = loc;
    return (where === "body" || where === "query" || where === "path") && typeof name === "string" ? name : "form";
  }

  /** A message as a sentence. Only an ordinary first word is capitalised: one that is a name (an address,
   * a domain such as "co.uk", an API field) keeps its spelling. */
  function sentence(text) {
    const trimmed = String(text).trim();
    const first = trimmed.split(/\s/, 1)[0];
    const capital = /^[a-z]+[,:;]?$/.test(first) ? trimmed.charAt(0).toUpperCase() + trimmed.slice(1) : trimmed;
    return /[.!?]$/.test(capital) ? capital : `${capital}.`;
  }

  const NOT_AN_EMAIL = /^value is not a valid email address: /;

  // What the API checks, checked here first and said in the form's words (the API's own message for a pattern
  // is the regular expression). The same rules as postmask.schemas.common.LocalPart.
  const LOCAL_PART = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
  const RULES = {
    local_part:
      "Use only letters, digits and . _ + - (no spaces), at most 64 characters, not starting or ending with a dot, and no two dots in a row.",
  };
  // A plausible address: something, an @, a domain with a dot. The API's check is stricter; this catches typing.
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  /** The form's own words for a local part the API would refuse; null when it is fine (or empty). */
  function localPartProblem(value) {
    if (!value) return null;
    return value.length <= 64 && LOCAL_PART.test(value) ? null : RULES.local_part;
  }

  /** The form's words for an e-mail address the API would refuse; null when it looks fine. */
  function emailProblem(value) {
    return EMAIL.test(value) ? null : `“${value}” is not a valid e-mail address. An address looks like name@example.org.`;
  }

  /** A 422 issue in plain words. `sent` is the body that was sent, to name the value that was refused. */
  function plainWords(issue, sent) {
    const [, field, index] = Array.isArray(issue.loc) ? issue.loc : [];
    if (issue.type === "missing") return "This is required.";
    if (issue.type === "string_pattern_mismatch" && RULES[field]) return RULES[field];
    // A message that begins with the API's name of the field ("default_destination is not ...") names it "This".
    const message = String(issue.msg ?? "is not valid")
      .replace(/^Value error, /, "")
      .replace(new RegExp(`^${field} (?=is )`), "This ");
    const inList = typeof index === "number" && Array.isArray(sent?.[field]);
    const value = inList ? sent[field][index] : sent?.[field];
    if (/^not a valid domain name\b/i.test(message)) {
      // The API's detail is written for the JSON Schema reader (label lengths, IDNA codepoints): shorter here.
      return "This is not a valid domain name. A domain looks like example.org: letters, digits and hyphens, separated by dots.";
    }
    if (NOT_AN_EMAIL.test(message) && typeof value === "string") {
      return sentence(`“${value}” is not a valid e-mail address. ${message.replace(NOT_AN_EMAIL, "")}`);
    }
    return sentence(inList ? `“${value}”: ${message}` : message);
  }

  function clearErrors(form) {
    for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  /**
   * Show an error from `api` in `form`: each 422 issue next to the field its `loc` names, any other
   * error next to the field `fieldFor[status]` (e.g. 409 -> the name that is taken) or for the whole form.
   */
  function showErrors(form, error, { sent = {}, fieldFor = {} } = {}) {
    clearErrors(form);
    if (error instanceof SignedOut) return;
    if (!(error instanceof ApiError)) console.error(error);
    const general = form.querySelector('[data-error-for="form"]');
    let first = null;
    const place = (name, message) => {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) ?? general;
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      const input = form.elements.namedItem(name);
      if (input instanceof HTMLElement) {
        input.setAttribute("aria-invalid", "true");
        first ??= input;
      }
    };
    if (!(error instanceof ApiError)) {
      place("form", "Something unexpected went wrong. Reload the page and try again.");
    } else if (error.status === 422 && error.detail.length) {
      for (const issue of error.detail) place(fieldOf(issue.loc), plainWords(issue, sent));
    } else {
      place(fieldFor[error.status] ?? "form", error.message);
    }
    first?.focus();
  }

  /** A field's own error, found before anything is sent (e.g. an empty list of destinations). */
  function showFieldError(form, name, message) {
    clearErrors(form);
    form.querySelector(`[data-error-for="${CSS.escape(name)}"]`).textContent = message;
    const input = form.elements.namedItem(name);
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  /** What to tell the user about an error that belongs to no field; null when the page is leaving. */
  function errorText(error) {
    if (error instanceof SignedOut) return null;
    if (error instanceof ApiError) return error.message;
    console.error(error);
    return "Something unexpected went wrong. Reload the page and try again.";
  }

  /** An error that belongs to one row or card (a switch, a delete), shown in its `data-field="error"`. */
  function showRowError(row, error) {
    const text = errorText(error);
    if (text !== null) row.querySelector('[data-field="error"]').textContent = text;
  }

  function clearRowError(row) {
    row.querySelector('[data-field="error"]').textContent = "";
  }

  /** Run `action` with the form's submit button disabled, so a double click sends one request. */
  async function busy(form, action) {
    const buttons = form.querySelectorAll('button[type="submit"]');
    for (const button of buttons) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      return await action();
    } finally {
      for (const button of buttons) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }

  // --- DOM --------------------------------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);

  /** A fresh copy of a <template>'s first element. */
  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function setText(root, field, text) {
    $(`[data-field="${field}"]`, root).textContent = text;
  }

  let uniqueCounter = 0;
  const uniqueId = (prefix) => `${prefix}-${(uniqueCounter += 1)}`;

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many}`;
  }

  /** A timestamp as a <time> element in the reader's locale, or `fallback` text when there is none. */
  function timeElement(iso, fallback = "Never") {
    if (!iso) return document.createTextNode(fallback);
    const element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    return element;
  }

  let statusTimer = null;
  /** A short message for everyone: shown, and read out by screen readers (role=status). */
  function announce(message) {
    const status = $("#status");
    status.textContent = message;
    status.classList.add("visible");
    keepClearOf(status);
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => {
      status.classList.remove("visible");
      document.documentElement.style.removeProperty("--toast-space");
    }, 5000);
  }

  // The control last in use: a submit button loses focus while it is disabled for the request (busy).
  let lastFocused = null;
  document.addEventListener("focusin", (event) => {
    lastFocused = event.target;
  });

  /** The toast floats over the bottom of the screen: the page gains room below its end (--toast-space), and
   * the control in use (the button just pressed, the field being filled) moves up out from under it. */
  function keepClearOf(toast) {
    const margin = 16; // the toast's own distance from the bottom edge (1rem)
    const toastTop = window.innerHeight - toast.offsetHeight - margin;
    document.documentElement.style.setProperty("--toast-space", `${toast.offsetHeight + 2 * margin}px`);
    const active = document.activeElement;
    const focused = active && active !== document.body ? active : lastFocused;
    if (!focused?.isConnected || toast.contains(focused)) return;
    const overlap = focused.getBoundingClientRect().bottom - toastTop + margin / 2;
    if (overlap > 0) window.scrollBy({ top: overlap, behavior: "instant" });
  }

  /** Copy `text`; a `secret` (a token) is not repeated in the announcement others may see or hear. */
  async function copyText(text, button, { secret = false } = {}) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      announce(secret ? "Could not copy; select the token and copy it yourself." : `Could not copy; select the text and copy it yourself: ${text}`);
      return;
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
    announce(secret ? "Copied the token." : `Copied ${text}`);
  }

  /** Ask before a destructive action; resolves to true when the user confirms. */
  function confirmAction(question, confirmLabel) {
    const dialog = $("#confirm-dialog");
    $("#confirm-text", dialog).textContent = question;
    $("#confirm-yes", dialog).textContent = confirmLabel;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    });
  }

  /** A box to tick per mailbox in `form`'s `mailboxes` list, ticked when `chosen` names it (in any case);
   * its `no-mailboxes` hint shown when there is none. The "Forward to" picker and the settings use it. */
  function mailboxBoxes(form, emails, chosen) {
    const wanted = new Set(chosen.map((address) => address.toLowerCase()));
    $('[data-field="mailboxes"]', form).replaceChildren(
      ...emails.map((email) => {
        const item = document.createElement("li");
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = "mailbox";
        box.value = email;
        box.checked = wanted.has(email.toLowerCase());
        label.append(box, ` ${email}`);
        item.append(label);
        return item;
      }),
    );
    $('[data-field="no-mailboxes"]', form).hidden = emails.length > 0;
  }

  // --- page start --------------------------------------------------------------------------------------------

  /** Run a page's `main` once the page may show: pages that need a session send signed-out users away. */
  function page(main) {
    const signedIn = Boolean(session.token());
    if (document.body.hasAttribute("data-requires-session") && !signedIn) return;
    Promise.resolve()
      .then(main)
      .catch((error) => {
        if (!(error instanceof SignedOut)) console.error(error);
      });
  }

  /**
   * Sign out of this browser: a session token is revoked first (DELETE /api/sessions/current), then the
   * token is forgotten, in every tab. A revocation that fails (offline) still forgets it here.
   */
  async function signOut(reason = "signed-out") {
    if (session.token() && session.kind() === "session") {
      try {
        await api("DELETE", "/api/sessions/current", { signInOnRefusal: false });
      } catch (error) {
        if (!(error instanceof ApiError)) console.error(error);
      }
    }
    session.end();
    location.assign(`/?reason=${encodeURIComponent(reason)}`);
  }

  // Scripts are deferred: the document is parsed when this runs.
  const signedIn = Boolean(session.token());
  document.body.classList.toggle("signed-in", signedIn);
  if (document.body.hasAttribute("data-requires-session") && !signedIn) toSignIn();
  $("#sign-out").addEventListener("click", (event) => {
    event.currentTarget.disabled = true;
    signOut();
  });
  // Another tab signed in or out: this one follows.
  window.addEventListener("storage", (event) => {
    if (event.key !== TOKEN_KEY && event.key !== null) return;
    const now = Boolean(session.token());
    if (now === document.body.classList.contains("signed-in")) return;
    if (now) location.reload();
    else location.assign("/?reason=signed-out");
  });

  return {
    session,
    signOut,
    api,
    listAll,
    pagedList,
    downloadExport,
    ApiError,
    SignedOut,
    safeReturnPath,
    showErrors,
    showFieldError,
    localPartProblem,
    emailProblem,
    errorText,
    clearErrors,
    showRowError,
    clearRowError,
    busy,
    $,
    fromTemplate,
    setText,
    uniqueId,
    plural,
    timeElement,
    announce,
    copyText,
    confirmAction,
    mailboxBoxes,
    page,
  };
})();
