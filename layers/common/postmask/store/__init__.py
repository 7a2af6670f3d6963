"""The store: the only code in postmask that knows DynamoDB. Its key design, in one place.

One table, `pk` (partition) and `sk` (sort), no secondary index. Everything a user owns lives in that
user's partitions (`USER#<id>`, and `DEST#<id>` for their destinations), so every user-facing read is keyed by
the caller's own id: another user's item is not "forbidden", it is simply not there (404). Global uniqueness is
held by marker items written in the same transaction as the item they guard.

| item                 | pk                   | sk                | holds                                          |
|----------------------|----------------------|-------------------|------------------------------------------------|
| user                 | `USER#<user_id>`     | `PROFILE`         | email, is_admin, created_at, alias_count and   |
|                      |                      |                   | aliases_counted (MaxAliasesPerUser, store/quota)|
|                      |                      |                   | default_alias_domain, default_alias_destinations,|
|                      |                      |                   | alias_style (PATCH /api/me, decision 0005)     |
| user's e-mail marker | `EMAIL#<email>`      | `EMAIL`           | user_id (one user per e-mail)                  |
| admins' directory    | `USERS`              | `USER#<user_id>`  | id, email, is_admin, created_at, disabled      |
|                      |                      |                   | (GET /api/users; decision 0041)                |
| account disabled     | `DEST#<user_id>`     | `ACCOUNT`         | status "disabled", while it is: the forwarder  |
|                      |                      |                   | reads it with the destinations (decision 0041) |
| API token            | `USER#<user_id>`     | `TOKEN#<token_id>`| name, kind (api/session), scope (all/          |
|                      |                      |                   | aliases:create, decision 0004), sha-256 of the |
|                      |                      |                   | secret, expiry, last use                       |
| token lookup         | `TOKEN#<sha256 of the secret>` | `TOKEN` | user_id, token_id, is_admin, scope, expiry,   |
|                      |                      |                   | last use                                       |
| domain               | `USER#<user_id>`     | `DOMAIN#<name>`   | created_at, alias_count, catch_all_destination,|
|                      |                      |                   | dkim_tokens (SES Easy DKIM, for dns_records)   |
| domain marker        | `DOMAIN#<name>`      | `DOMAIN`          | owner_id, created_at, catch_all_destination    |
|                      |                      |                   | (forwarder); no destination may be on a domain |
|                      |                      |                   | that has one (a ConditionCheck in the write,   |
|                      |                      |                   | store.markers)                                 |
| domain in its tree   | `TREE#<last 2 labels>` | `DOMAIN#<name>` | owner_id, created_at: parents and subdomains   |
|                      |                      |                   | of a name share its tree (decision 0073)       |
| tree's version       | `TREE#<last 2 labels>` | `DOMAIN`        | version, bumped by every registration in it    |
| alias                | `USER#<user_id>`     | `ALIAS#<alias_id>`| the whole Alias, counts included               |
| address route        | `ADDRESS#<address>`  | `ADDRESS`         | owner_id, alias_id, destinations, enabled,     |
|                      |                      |                   | expires_at: what the forwarder needs, one read |
| destination          | `DEST#<user_id>`     | `DEST#<dest_id>`  | email, status pending/verified/suspended,      |
|                      |                      |                   | suspended_reason, created_at, verified_at,     |
|                      |                      |                   | alias_count, catch_all_count, token_hash,      |
|                      |                      |                   | token_expires_at, resent_at (store/destinations)|
| verification link    | `VERIFY#<sha256 of   | `VERIFY`          | user_id, destination_id, expires_at,           |
|                      | the link's secret>`  |                   | purge_at (TTL: 30 days after it expires)       |
| delivery record      | `MAIL#<ses msg id>`  | `SEND#<rcpt>#<dest>` | status sending/sent/too_large/rejected/     |
|                      |                      |                   | quarantined,                                   |
|                      |                      |                   | lease_until, token, ses_message_id, reason     |
|                      |                      |                   | (SES's error code), purge_at (TTL)             |
| outcome counted      | `MAIL#<ses msg id>`  | `COUNTED#<rcpt>`  | outcome, alias_id, at, purge_at (TTL)          |
| loop marker          | `MAIL#<ses msg id>`  | `HOP`             | token (random; the copies' X-Postmask-Hop),    |
|                      |                      |                   | purge_at (TTL)                                 |
| message accounted    | `MAIL#<ses msg id>`  | `ACCOUNTED`       | outcomes {recipient: forwarded, blocked,       |
|                      |                      |                   | quarantined...}, at, purge_at (TTL): the daily |
|                      |                      |                   | reconciliation's check (decision 0026)         |
| quarantined copy     | `QUAR#<user_id>`     | `MSG#<quarantine_id>` | message_id, address, alias_id, destination,|
|                      |                      |                   | reason, sender, subject, size, object_key      |
|                      |                      |                   | (quarantine/<user>/<id>), quarantined_at,      |
|                      |                      |                   | expires_at, resent_to, purge_at (TTL:          |
|                      |                      |                   | QuarantineDays) (store/quarantine.py, 0025)    |
| quarantine notice    | `QUAR#<user_id>`     | `NOTICE#<alias_id or address>` | sent_at, token, purge_at: one |
|                      |                      |                   | notice per alias an hour                       |
| thread record        | `THREAD#<alias>`     | `OUT#<sha256 of outside id>#<dest>` | inside_id: the Message-ID `dest` |
|   (outside -> inside)|                      |                   | received it by; outside_id, purge_at (TTL)     |
| thread record        | `THREAD#<alias>`     | `IN#<sha256 of inside id>` | outside_id: the id the outside knows; |
|   (inside -> outside)|                      |                   | inside_id, destination, purge_at (TTL)         |
| contact              | `CONTACTS#<alias_id>`| `CONTACT#<contact_id>` | email, name, reply_address, blocked, counts,|
|                      |                      |                   | owner_id, alias_address (store/contacts.py)    |
| contact by sender    | `CONTACTS#<alias_id>`| `SENDER#<email>`  | contact_id, reply_address, blocked: the        |
|                      |                      |                   | forwarder's lookup, in its one BatchGetItem    |
| reply address        | `REPLY#<reply addr>` | `REPLY`           | owner_id, alias_id, alias_address, contact_id, |
|                      |                      |                   | email, name: the reply path's one GetItem      |
| sign-in code         | `SIGNIN#<sha256 of the code>` | `CODE`   | user_id, is_admin, expires_at, purge_at (TTL): |
|                      |                      |                   | 15 minutes, deleted when redeemed              |
| sign-in codes voided | `SIGNIN#USER#<user_id>` | `VOIDED`       | voided_before: a redeem voids the account's    |
|                      |                      |                   | older codes, purge_at (TTL)                    |
| sign-in link count   | `SIGNINLIMIT#<sha256 of the address>` | `LIMIT` | sent (times in the last hour), version, |
|                      |                      |                   | purge_at (TTL, an hour after the last link)    |
| link spacing         | `RATE#TO#<sha256 of the address>` | `LAST` | sent_at, purge_at (TTL): one link per 10 minutes |
|                      |                      |                   | to an outside address (store/link_limits.py)   |
| links a day          | `RATE#TO#<sha256 of the address>` | `DAY#<YYYY-MM-DD>` | sent (at most 5), purge_at (TTL) |
| new destinations     | `RATE#USER#<user_id>` | `NEWDEST#<YYYY-MM-DD>` | added (at most 20 a day), purge_at (TTL) |
| idempotency record   | `IDEMPOTENCY#<user_id>` | `<function>.respond#<sha256 of [user, key]>` | Powertools' status, |
|                      |                      |                   | validation (request hash), data (the sealed    |
|                      |                      |                   | response), purge_at (TTL, 24 h)                |
| activity event       | `ACT#<user_id>`      | `EV#<at>#<id>`    | the event (store/activity.py), purge_at (TTL:  |
|                      |                      |                   | ActivityRetentionDays)                         |
| its alias's copy     | `ACT#<user_id>#<alias_id>` | `EV#<at>#<id>` | the same event                            |
| a day's counts       | `ACT#<user_id>`      | `DAY#<YYYY-MM-DD>`| forwarded, sent, blocked, refused, dropped,    |
|                      |                      |                   | purge_at (92 days) (store/stats.py)            |
| foreign sender seen  | `FOREIGN#<alias_id>` | `FROM#<sha256 of the address>` | at, purge_at (400 days)           |
|                      |                      |                   | (store/leaks.py; the alias item holds site,    |
|                      |                      |                   | block_foreign_senders, leak_*)                 |

Aliases, domains, destinations and contacts also carry `version`, bumped by each change a user makes (the ETag;
`If-Match` is a condition on the write: postmask.versions, decision 0103).

Ids are ULID-shaped (time first), so `ALIAS#…` sort keys are in creation order and "newest first" is a
`Query` with `ScanIndexForward=False`. A destination's id is not: it is derived from its owner and address
(130 bits of a SHA-256, `destinations.destination_id`), so a write that names an address finds the
destination's key without reading, and two users' same address are two destinations. Destinations live in a
partition of their owner's that holds nothing else (`DEST#<user_id>`, not `USER#`), so that the forwarder may
read their status without being able to read anything else of a user (IAM `dynamodb:LeadingKeys`). A token is
also found by its hash: `TOKEN#<sha256 of the secret>/TOKEN` holds what the authorizer needs (one `GetItem`),
written and deleted with the owner's view (store/tokens.py). A session token (sign-in by link) is such a token
with `kind: "session"` and an expiry.

Access patterns and their cost (tests/integration/test_call_counts.py and `make bench` hold the code to these):
- get one domain / alias / token / user: 1 `GetItem` on the caller's partition;
- the authorizer: 1 `GetItem` of the token, and at most once per TOKEN_LAST_USED_RESOLUTION_SECONDS a
  `TransactWriteItems` for its last_used_at; a token's revocation, like an alias's change, reads then writes;
  a domain's catch-all change and a domain's delete read it (1 `GetItem`) then write (1 transaction);
- list domains / aliases / tokens: 1 `Query` (filters may need a few more pages, see `_dynamo.query_page`);
- create alias / user: 1 `TransactWriteItems` (item + marker(s) + `alias_count`, + one `ConditionCheck` per
  destination domain), conditional, so uniqueness, ownership and "no destination inside postmask" hold under
  concurrent requests; an alias with a random local part first reads the user's `alias_style` (1 `GetItem`);
  a password manager's (the compatible routes) 1 `Query` of the profile and the domains' names (`DOMAIN#` to
  `PROFILE`), + 1 `Query` of the verified destinations when no default is set, then the transaction;
- change the settings for new aliases (`PATCH /api/me`): 1 `UpdateItem` of the profile, after 1 `GetItem` of
  a default domain (and SES's word on it) and 1 `BatchGetItem` of default destinations when they are given;
- create domain: 1 `Query` of its tree (who holds it, a parent or a subdomain) + 1 `TransactWriteItems` (owner
  view, marker, tree item, the tree's version as read, a `ConditionCheck` on the catch-all's domain; and the
  removal of lapsed claims, whose aliases are deleted just before, whose catch-alls are read first, 1
  `GetItem` each); an admin's removal: 1 `GetItem` (the marker's owner and catch-all) + 1 `TransactWriteItems`;
- change or delete an alias: 1 `GetItem` (for its address) + 1 `TransactWriteItems` (alias + route, + one
  `ConditionCheck` per destination domain when destinations are given); a catch-all's change checks its
  domain the same way;
- ask for a sign-in link: 1 `GetItem` + 1 conditional `PutItem` of the address's link count, whatever the
  address (the mailer, invoked asynchronously, then reads the e-mail marker and profile and writes the code);
  redeem a code: 1 `GetItem` + 1 `TransactWriteItems` (code deleted on condition, token written); sign out:
  as a token's revocation;
- every write that names destinations (an alias's, a domain's catch-all) counts their use (`alias_count`,
  `catch_all_count`) in its own transaction; an address the user has no destination for yet makes that
  transaction fail on it, and a second one creates it pending with its link (`destinations.transact_with`):
  1 transaction when the destinations exist, 2 the first time (+ 1 `Query` of the user's domains for the
  sender of the link). A transaction holds at most 100 actions: an alias's is at most 3 + 10 checks + 20
  (10 new destinations and their links), a change's 2 + 10 + 20 + 10 (destinations counted off);
- destinations: get 1 `GetItem`, list 1 `Query`, create 1 transaction (+ the sender's `Query`), delete 1
  conditional `DeleteItem` (refused while counted in use); a resend 1 `GetItem` + the sender's `Query` + 1
  transaction (the one route that makes 3 calls); the public verify 1 `GetItem` (`VERIFY#`) + 1 conditional
  `UpdateItem` (the destination);
- forwarder, per message: 1 `GetItem` on the route per recipient (+1 on the domain marker for an unknown
  address, for the catch-all); when a recipient is to be forwarded, 1 `BatchGetItem` of the status of every
  destination it would go to (at most 100 per call: more only for a message to many recipients with many
  destinations; `pk`, `sk`, `status` only); when a verified destination is left, 1 conditional `PutItem` for
  the loop marker (+1 `GetItem` per `X-Postmask-Hop` the message carries, at most 3: is it our own copy come
  back?); per destination sent 1 conditional `PutItem` (claim) and 1 `UpdateItem` (sent, too_large or
  rejected); per recipient 1 `BatchGetItem` of thread records when the message names ids in
  In-Reply-To/References, 1 `BatchWriteItem` of the copies' thread records when it has a Message-ID, and 1
  `TransactWriteItems` (outcome record + the alias's counters), so retries never send or count twice. A
  message to an alias with two verified destinations, before activity: 1 GetItem, 1 BatchGetItem, 3 PutItem, 2
  UpdateItem, 1 BatchWriteItem, 1 TransactWriteItems; with it, see "activity" below
  (tests/integration/forwarding/test_forwarder_call_counts.py). `MAIL#`
  items expire through the table's TTL attribute `purge_at` after 30 days (store/deliveries.py), `THREAD#`
  items after 400 days (store/threads.py: the records serve threads in both directions, the replies of issue
  16 included);
- contacts (decision 0110): the forwarder reads the SENDER# items of a message's From, To and Cc (at most 20) in
  the same `BatchGetItem` as the destinations' status; a blocked sender's mail is blocked (the count's transaction
  counts it on the contact too); when a copy is sent, the contacts still missing are created in 1
  `TransactWriteItems` (three items each), and the contact's `received_count` moves in the counting transaction.
  So a message from a known sender costs no more calls than before, one from a new sender one transaction more;
- the reply path (mail to a reply address, decision 0111): 1 `GetItem` (`REPLY#`), 1 `GetItem` (the alias's
  route), 1 `BatchGetItem` (the sender's status as a destination), + 1 `BatchGetItem` of other reply addresses
  the message names, + 1 `BatchGetItem` of `IN#` thread records when it names ids; 1 conditional `PutItem`
  (claim) and 1 `UpdateItem`, 1 `BatchWriteItem` (its thread pair) when it has a Message-ID, 1
  `TransactWriteItems` (the contact's `sent_count`, once per message and reply address);
- contacts API: list 1 `GetItem` (the alias) + 1 `Query`; create 1 `GetItem` + 1 `TransactWriteItems`; get 1
  `BatchGetItem` (contact and alias); change or delete 1 `BatchGetItem` + 1 `TransactWriteItems`;
- activity: each decision the forwarder, the reply path or the feedback function makes is 1 `TransactWriteItems`
  (the event on condition it is new, its alias's copy, the day's `ADD`), so a retry neither adds nor counts;
  in the forwarder one per copy sent (or failed), per block, drop or refusal, per destination skipped, per
  reply sent or refused. A message to an alias with two verified destinations from a sender it knows: 1 GetItem,
  1 BatchGetItem, 3 PutItem, 2 UpdateItem, 1 BatchWriteItem, 3 TransactWriteItems (the count, and one event per
  copy); from a new sender one transaction more (the contact). Leak detection: 1 transaction once
  per alias (its site, from the first forwarded sender), 1 per message from a foreign sender (counted once per
  sender by its condition), + 1 conditional `UpdateItem` per new foreign sender (the alias's one notice) and 1
  `GetItem` (the owner's e-mail) for the notice itself (docs/decisions/0120);
- `GET /api/activity`: 1 `Query` of the user's (or, with `?alias_id=`, the alias's own) partition, + 1
  `GetItem` only when an alias's first page is empty (yours, or 404?); `GET /api/stats`: 1 `Query` (at most 90
  items);
- feedback (a bounce or complaint): 1 conditional `UpdateItem` per destination suspended, 1 transaction per
  event recorded.

- quarantine (decision 0025): a copy given up costs the forwarder 1 conditional `PutItem` (the copy), its activity
  transaction, and, at most once an hour per alias, 1 conditional `PutItem` (the notice's slot) + 1 `Query` (what
  is waiting) + 1 `GetItem` (the owner's e-mail); the routes: list 1 `Query` (+ 1 `GetItem` for an alias with
  nothing quarantined), get 1 `GetItem`, delete 1 `DeleteItem`, resend 1 `GetItem` + 1 `BatchGetItem` (the
  destination's status) + the copy's contacts as the forwarder reads them + 1 claim and 1 completion + 1
  `UpdateItem` (`resent_to`); every message 1 `PutItem` more for its ACCOUNTED record (decision 0026).

No `Scan`, ever: a test fails the suite if one is made.
"""
