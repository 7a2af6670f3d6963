"""The hosts e-mail service providers track opens and clicks through (docs/decisions/0029).

postmask's own list, written from each provider's public documentation of its tracking (the source beside
each entry), not copied from a tracker list: the lists other services use (Disconnect's "Email" category, which
Firefox Relay uses) are licensed CC BY-NC-SA, which postmask cannot ship. An entry matches the host and its
subdomains. An operator adds hosts they are entitled to use with the stack parameter `TrackerListS3Uri` (an S3
object, one host per line, `#` comments), read once per cold start.
"""

from __future__ import annotations

import os
from functools import cache

from postmask.mail.trackers import Hosts
from postmask.observability import logger

OWN_HOSTS: dict[str, str] = {
    # Mailchimp: opens at <dc>.list-manage.com/track/open.php, clicks at <dc>.list-manage.com/track/click
    "list-manage.com": "https://mailchimp.com/help/about-open-tracking/",
    # Mandrill (Mailchimp Transactional): mandrillapp.com/track/open.php and /track/click
    "mandrillapp.com": "https://mailchimp.com/developer/transactional/docs/tracking-reports/",
    # SendGrid: u<n>.ct.sendgrid.net/wf/open and /ls/click when no link branding is set up
    "ct.sendgrid.net": "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/how-to-set-up-link-branding",
    # Amazon SES: <region>.awstrack.me/I0/... (opens) and /L0/... (clicks) without a custom tracking domain
    "awstrack.me": "https://docs.aws.amazon.com/ses/latest/dg/configure-custom-open-click-domains.html",
    # Postmark: click.pstmrk.it (link tracking)
    "pstmrk.it": "https://postmarkapp.com/support/article/1142-how-does-link-tracking-work",
    # Mailjet: <x>.mjt.lu (open and click tracking)
    "mjt.lu": "https://documentation.mailjet.com/hc/en-us/articles/360042412774",
    # HubSpot: <x>.hubspotlinks.com (click tracking), track.hubspot.com
    "hubspotlinks.com": "https://knowledge.hubspot.com/marketing-email/manage-email-tracking",
    "track.hubspot.com": "https://knowledge.hubspot.com/marketing-email/manage-email-tracking",
    # Klaviyo: trk.klclick.com / ctrk.klclick.com (click tracking)
    "klclick.com": "https://help.klaviyo.com/hc/en-us/articles/115005084928",
    # Salesforce Marketing Cloud (ExactTarget): click.exacttarget.com, cl.exct.net
    "exacttarget.com": "https://help.salesforce.com/s/articleView?id=sf.mc_es_link_tracking.htm",
    "exct.net": "https://help.salesforce.com/s/articleView?id=sf.mc_es_link_tracking.htm",
    # Constant Contact: r20.rs6.net/tn.jsp (click redirects)
    "rs6.net": "https://knowledgebase.constantcontact.com/articles/KnowledgeBase/5784-understanding-click-tracking",
    # Campaign Monitor: <x>.createsend1.com / cmail<n>.com tracking links
    "createsend1.com": "https://help.campaignmonitor.com/s/article/link-tracking",
    # Customer.io: track.customer.io / e.customeriomail.com
    "customeriomail.com": "https://customer.io/docs/journeys/link-tracking/",
    "track.customer.io": "https://customer.io/docs/journeys/link-tracking/",
    # Mailtrack (Gmail extension): mailtrack.io/trace
    "mailtrack.io": "https://mailtrack.io/en/faq",
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
