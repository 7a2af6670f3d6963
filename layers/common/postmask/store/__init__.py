"""The store: the only code in postmask that knows DynamoDB. Its key design, in one place.

One table, `pk` (partition) and `sk` (sort), no secondary index. Everything a user owns lives in that
user's partition, so every user-facing read is keyed by the caller's own id: another user's item is not
"forbidden", it is simply not there (404). Global uniqueness is held by marker items written in the same
transaction as the item they guard.

| item                 | pk                   | sk                | holds                                          |
|----------------------|----------------------|-------------------|------------------------------------------------|
| user                 | `USER#<user_id>`     | `PROFILE`         | email, is_admin, created_at                    |
| user's e-mail marker | `EMAIL#<email>`      | `EMAIL`           | user_id (one user per e-mail)                  |
| API token            | `USER#<user_id>`     | `TOKEN#<token_id>`| name, sha-256 of the secret, expiry, last use  |
| domain               | `USER#<user_id>`     | `DOMAIN#<name>`   | created_at, alias_count, catch_all_destination,|
|                      |                      |                   | dkim_tokens (SES Easy DKIM, for dns_records)   |
| domain marker        | `DOMAIN#<name>`      | `DOMAIN`          | owner_id, catch_all_destination (forwarder);   |
|                      |                      |                   | no destination may be on a domain that has one |
|                      |                      |                   | (a ConditionCheck in the write, store.markers) |
| alias                | `USER#<user_id>`     | `ALIAS#<alias_id>`| the whole Alias, counts included               |
| address route        | `ADDRESS#<address>`  | `ADDRESS`         | owner_id, alias_id, destinations, enabled,     |
|                      |                      |                   | expires_at: what the forwarder needs, one read |
| delivery record      | `MAIL#<ses msg id>`  | `SEND#<rcpt>#<dest>` | status sending/sent/too_large/rejected,     |
|                      |                      |                   | lease_until, token, ses_message_id, reason     |
|                      |                      |                   | (SES's error code), purge_at (TTL)             |
| outcome counted      | `MAIL#<ses msg id>`  | `COUNTED#<rcpt>`  | outcome, alias_id, at, purge_at (TTL)          |
| loop marker          | `MAIL#<ses msg id>`  | `HOP`             | token (random; the copies' X-Postmask-Hop),    |
|                      |                      |                   | purge_at (TTL)                                 |
| thread record        | `THREAD#<alias>`     | `OUT#<sha256 of outside id>#<dest>` | inside_id: the Message-ID `dest` |
|   (outside -> inside)|                      |                   | received it by; outside_id, purge_at (TTL)     |
| thread record        | `THREAD#<alias>`     | `IN#<sha256 of inside id>` | outside_id: the id the outside knows; |
|   (inside -> outside)|                      |                   | inside_id, destination, purge_at (TTL)         |

Ids are ULID-shaped (time first), so `ALIAS#…` sort keys are in creation order and "newest first" is a
`Query` with `ScanIndexForward=False`. A token's secret reads `pm_<user_id>_<token_id>_<random>`: the
authorizer finds the token item with one `GetItem` and compares hashes in constant time.

Access patterns and their cost (tests/integration/test_call_counts.py and `make bench` hold the code to these):
- get one domain / alias / token / user: 1 `GetItem` on the caller's partition;
- the authorizer: 1 `GetItem` of the token, and at most once per TOKEN_LAST_USED_RESOLUTION_SECONDS a
  `TransactWriteItems` for its last_used_at; a token's revocation, like an alias's change, reads then writes;
  a domain's catch-all is 1 transaction then 1 `GetItem` for the answer;
- list domains / aliases / tokens: 1 `Query` (filters may need a few more pages, see `_dynamo.query_page`);
- create domain / alias / user: 1 `TransactWriteItems` (item + marker(s) + `alias_count`, + one
  `ConditionCheck` per destination domain), conditional, so uniqueness, ownership and "no destination inside
  postmask" hold under concurrent requests;
- change or delete an alias: 1 `GetItem` (for its address) + 1 `TransactWriteItems` (alias + route);
- forwarder, per message: 1 `GetItem` on the route per recipient (+1 on the domain marker for an unknown
  address, for the catch-all); when something is to be sent, 1 conditional `PutItem` for the loop marker
  (+1 `GetItem` per `X-Postmask-Hop` the message carries, at most 3: is it our own copy come back?); per
  destination 1 conditional `PutItem` (claim) and 1 `UpdateItem` (sent, too_large or rejected); per
  recipient 1 `BatchGetItem` of thread records when the message names ids in In-Reply-To/References, 1
  `BatchWriteItem` of the copies' thread records when it has a Message-ID, and 1 `TransactWriteItems`
  (outcome record + the alias's counters), so retries never send or count twice. A message to an alias with
  two destinations: 1 GetItem, 3 PutItem, 2 UpdateItem, 1 BatchWriteItem, 1 TransactWriteItems
  (tests/integration/forwarding/test_forwarder_call_counts.py). `MAIL#` items expire through the table's TTL
  attribute `purge_at` after 30 days (store/deliveries.py), `THREAD#` items after 400 days (store/threads.py:
  the records serve threads in both directions, the replies of issue 16 included).

No `Scan`, ever: a test fails the suite if one is made.
"""
