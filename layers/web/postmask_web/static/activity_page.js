"use strict";
/* The Activity page: every event of every alias, or of one (?alias_id=, with its leak state), filtered by
   outcome (?outcome=), newest first. */
postmask.page(async () => {
  const { $, api } = postmask;
  const params = new URLSearchParams(location.search);
  const filters = $("#filters");
  const aliasId = params.get("alias_id");
  const outcome = params.get("outcome") ?? "";
  if ([...filters.elements.outcome.options].some((option) => option.value === outcome)) {
    filters.elements.outcome.value = outcome;
  }

  const wanted = () => ({ alias_id: aliasId, outcome: filters.elements.outcome.value || null });
  const list = postmask.activity.eventList($("#events"));

  filters.addEventListener("change", () => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(wanted())) if (value) query.set(name, value);
    history.replaceState(null, "", query.size ? `/activity?${query}` : "/activity");
    list.load(wanted());
  });
  filters.addEventListener("submit", (event) => event.preventDefault());

  async function showAlias() {
    const box = $("#alias-filter");
    try {
      const alias = await api("GET", `/api/aliases/${encodeURIComponent(aliasId)}`);
      postmask.setText(box, "address", alias.address);
      $("#alias-leak").replaceChildren(postmask.activity.leakCard(alias, { activityLink: false, named: false }));
    } catch (error) {
      postmask.setText(box, "address", "an alias you do not have");
      if (!(error instanceof postmask.ApiError && error.status === 404)) throw error;
    }
    box.hidden = false;
  }

  await Promise.all([aliasId ? showAlias() : null, list.load(wanted())]);
});
