"""The hosts e-mail service providers track opens and clicks through (docs/decisions/0029).

postmask's own list, each host with a public page that names it as the provider's tracking domain (the
provider's documentation where it says so, else an independent page), not copied from a tracker list: the lists
other services use (Disconnect's "Email" category, which Firefox Relay uses) are licensed CC BY-NC-SA, which
postmask cannot ship. An entry matches the host and its subdomains. An operator adds hosts they are entitled to
use with the stack parameter `TrackerListS3Uri` (an S3 object, one host per line, `#` comments), read once per
cold start.
"""

from __future__ import annotations

import os
from functools import cache
from typing import NamedTuple

from postmask.mail.trackers import Hosts
from postmask.observability import logger


class Source(NamedTuple):
    """Where an entry comes from: a public page that names the host as the provider's open or click tracking
    domain. `by_provider`: the provider's own documentation (or its staff, on its own forum); False: an independent
    page, the provider's own saying so not found. A host no page was found for is not listed (decision 0029)."""

    url: str
    by_provider: bool


# Checked on 2026-12-06 against the pages themselves (each quoted in the comment above its entry).
OWN_HOSTS: dict[str, Source] = {
    # Mandrill (Mailchimp Transactional): "By default, the open tracking image and all click-tracking URLs
    # reference mandrillapp.com."
    "mandrillapp.com": Source(
        "https://mandrill.zendesk.com/hc/en-us/articles/360038797994-How-to-Use-a-Custom-Tracking-Domain", True
    ),
    # Mailchimp: "List-manage.com is the domain Mailchimp uses for click tracking, unsubscribe links, and
    # view-in-browser links" (<dc>.list-manage.com/track/click, /track/open.php). Mailchimp's own page not found.
    "list-manage.com": Source("https://mailflowauthority.com/definitions/list-manage-com-explained", False),
    # SendGrid: link branding serves "the click-tracked links, opens, and images in your emails ... from your
    # domain rather than sendgrid.net". Only its click and open host (u<n>.ct.sendgrid.net) is listed, not all of
    # sendgrid.net, whose images are ordinary pictures too.
    "ct.sendgrid.net": Source(
        "https://www.twilio.com/docs/sendgrid/api-reference/link-branding/create-a-branded-link", True
    ),
    # Amazon SES: "awstrack.me is Amazon SES's default click-tracking domain" (<id>.r.<region>.awstrack.me). AWS's
    # page (docs.aws.amazon.com/ses/latest/dg/configure-custom-open-click-domains.html) says the pixel and the
    # links are on "a server operated by SES" without naming it.
    "awstrack.me": Source("https://zackblog.work/post/132", False),
    # Postmark: "The tracking domain that the user will see is click.pstmrk.it."
    "pstmrk.it": Source("https://postmarkapp.com/developer/user-guide/tracking-links", True),
    # Klaviyo: trk.klclick.com, "our shared click tracking domain" (a Klaviyo staff answer on its community).
    "klclick.com": Source(
        "https://community.klaviyo.com/campaigns-flows-and-sms-30/why-do-my-campaign-urls-say-trk-klclick-com-221",
        True,
    ),
    # Salesforce Marketing Cloud Engagement: "The URLs for the Engagement click processors are either the default
    # values, such as cl.exct.net, or branded domains".
    "exct.net": Source(
        "https://help.salesforce.com/s/articleView?id=mktg.mc_es_link_tracking.htm&language=en_US&type=5", True
    ),
    # Salesforce Marketing Cloud Next: email links' tracker domain cdp3.tracking.e360.salesforce.com by default.
    "tracking.e360.salesforce.com": Source(
        "https://help.salesforce.com/s/articleView?id=mktg.mktg_admin_domains_ref.htm&language=en_US&type=5", True
    ),
    # Constant Contact: "links are routed through r20.rs6.net (Constant Contact's click tracking redirect
    # domain)". Constant Contact's own page not found.
    "rs6.net": Source("https://www.consentstack.io/vendors/constant-contact", False),
}

TRACKER_LIST_ENV = "TRACKER_LIST_S3_URI"


def parse_list(text: str) -> frozenset[str]:
    """Hosts of an operator list: one a line, `#` starts a comment, blank lines and anything that is not a
    host name skipped."""
    hosts = set()
    for line in text.splitlines():
        host = line.split("#", 1)[0].strip().lower().rstrip(".")
        if host and "." in host and all(label and label.replace("-", "").isalnum() for label in host.split(".")):
            hosts.add(host)
    return frozenset(hosts)


@cache
def hosts() -> Hosts:
    """postmask's hosts and the operator's (read at the first call, once per container). A list that cannot be
    read costs its hosts, logged, never the mail."""
    return Hosts(frozenset(OWN_HOSTS) | _operator_hosts(os.environ.get(TRACKER_LIST_ENV, "").strip()))


def _operator_hosts(uri: str) -> frozenset[str]:
    if not uri:
        return frozenset()
    from postmask.mail import inbox  # the S3 client, made only when there is a list to read

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        text = bytes(inbox.read(bucket, key)).decode("utf-8", "replace")
    except Exception:
        logger.exception("operator tracker list could not be read; postmask's own list is used", uri=uri)
        return frozenset()
    found = parse_list(text)
    logger.info("operator tracker list read", uri=uri, hosts=len(found))
    return found
