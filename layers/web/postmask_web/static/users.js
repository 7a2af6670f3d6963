"use strict";
/* The users page, for admins: create a user (their first token shown once, with a copy button), list
   everyone, disable a user (their tokens are refused and their mail blocked) or enable them again. */
postmask.page(async () => {
  const { $, api, announce, fromTemplate, setText } = postmask;
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (error) {
    $("#users-error").textContent = postmask.errorText(error) ?? "";
    return;
  }
  if (!me.is_admin) {
    $("#not-admin").hidden = false;
    return;
  }
  const list = $("#user-list");

  function fill(row, user) {
    setText(row, "email", user.email);
    $('[data-field="admin"]', row).hidden = !user.is_admin;
    $('[data-field="disabled"]', row).hidden = !user.disabled;
    $('[data-field="created_at"]', row).replaceChildren(postmask.timeElement(user.created_at));
    const button = $('[data-action="toggle"]', row);
    button.textContent = user.disabled ? "Enable" : "Disable";
    button.setAttribute("aria-label", `${button.textContent} ${user.email}`);
    button.hidden = user.id === me.id; // an admin cannot disable themselves
    row.classList.toggle("disabled", user.disabled);
  }

  function userRow(initial) {
    let user = initial;
    const row = fromTemplate("user-item");
    row.dataset.id = user.id;
    fill(row, user);
    $('[data-action="toggle"]', row).addEventListener("click", async (event) => {
      const button = event.currentTarget;
      postmask.clearRowError(row);
      const disabling = !user.disabled;
      if (disabling) {
        const question = `Disable ${user.email}? Their tokens and sign-ins stop working within a minute, and mail to their aliases is blocked until you enable them again.`;
        if (!(await postmask.confirmAction(question, "Disable"))) return;
      }
      button.disabled = true;
      try {
        user = await api("PATCH", `/api/users/${encodeURIComponent(user.id)}`, { body: { disabled: disabling } });
      } catch (error) {
        postmask.showRowError(row, error);
        return;
      } finally {
        button.disabled = false;
      }
      fill(row, user);
      announce(`${user.email} ${user.disabled ? "disabled" : "enabled again"}.`);
    });
    return row;
  }

  const pages = postmask.pagedList({
    list,
    summary: $("#list-summary"),
    loadMore: $("#load-more"),
    path: "/api/users",
    pageSize: 50,
    render: userRow,
    noun: ["user", "users"],
    empty: "No users.",
  });

  const form = $("#create-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { email: form.elements.email.value.trim() };
    const problem = body.email ? postmask.emailProblem(body.email) : "Enter their e-mail address.";
    if (problem) {
      postmask.showFieldError(form, "email", problem);
      return;
    }
    let created;
    try {
      created = await postmask.busy(form, () => api("POST", "/api/users", { body }));
    } catch (error) {
      postmask.showErrors(form, error, { sent: body, fieldFor: { 409: "email" } });
      return;
    }
    postmask.clearErrors(form);
    form.reset();
    $("#created-email").textContent = created.user.email;
    $("#created-token").textContent = created.token;
    $("#created").hidden = false;
    list.append(userRow({ ...created.user, disabled: false }));
    pages.describe();
    announce(`Created ${created.user.email}. Copy their token now: it is not shown again.`);
  });
  $("#copy-created").addEventListener("click", (event) =>
    postmask.copyText($("#created-token").textContent, event.currentTarget, { secret: true }),
  );

  await pages.load();
  $("#admin-only").hidden = false; // once listed: a user created now is added to the list once
});
