/* RCPT (RFC 5321 4.1.1.3): adds a recipient. Port 25 takes only our own domains (no relay);
 * submission takes any address after AUTH, within the user's hourly recipient limit. Our
 * addresses are resolved here, so an unknown user is refused at once (550 5.1.1) rather than
 * bounced later. */
#include "smtp/smtp.h"
#include "core/log.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain must be accepted; it goes to the
 * postmaster of the first of our domains that has one. */
static char *postmaster_address(struct smtp_session *s)
{
	strlist domains;
	strlist_init(&domains);
	char *error = NULL, *found = NULL;
	if (store_domain_list(s->store, &domains, &error) == 0) {
		for (size_t i = 0; i < domains.count && found == NULL; i++) {
			char *candidate = xasprintf("postmaster@%s", domains.items[i]);
			struct resolution r;
			resolution_init(&r);
			if (resolve_recipient(s->store, candidate, "", 0, NULL, &r, &error) == RESOLVE_OK)
				found = candidate;
			else
				free(candidate);
			resolution_free(&r);
			xfree(&error);
		}
	}
	free(error);
	strlist_free(&domains);
	return found;
}

/* A recipient that reaches one account (added to the targets from index first) over its
 * quota, counting the SIZE the client declared: mail for it waits, 452 4.2.2 (RFC 3463:
 * mailbox full; the sender's server retries), or with quota.permanent_failure is refused,
 * 552 5.2.2. A recipient reaching several accounts (a list, an alias) is taken whatever
 * their quotas: one full mailbox must not hold back the others. 1 refused (answered), 0
 * taken. */
static int refuse_over_quota(struct smtp_session *s, const char *address, size_t first)
{
	const struct resolution *t = &s->tx->targets;
	if (t->local_count != first + 1)
		return 0;
	struct quota q;
	char *error = NULL;
	int r = store_quota_get(s->store, t->local[first].account_id,
				s->server->quota_exclude_trash_junk, &q, &error);
	if (r < 0) {
		log_error("session=%s smtp quota lookup failed: %s", conn_id(s->conn), error);
		free(error);
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", address);
		return 1;
	}
	if (r == 0 || quota_allows(&q, s->tx->mail.has_size ? s->tx->mail.size : 0, 1))
		return 0;
	log_info("session=%s smtp recipient=%s over quota", conn_id(s->conn), t->local[first].address);
	if (s->server->quota_permanent)
		smtp_reply(s, "552 5.2.2 <%s>: Mailbox full", address);
	else
		smtp_reply(s, "452 4.2.2 <%s>: Mailbox full, try again later", address);
	return 1;
}

/* rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
 *        [SP Rcpt-parameters] CRLF */
void cmd_rcpt(struct smtp_session *s, const char *arg, size_t len)
{
	struct smtp_tx *tx = s->tx;
	struct smtp_rcpt_args r;
	enum smtp_parse_error e = smtp_parse_rcpt(arg, len, tx->mail.smtputf8, &r);
	if (e != SMTP_PARSE_OK) {
		smtp_reply_parse_error(s, e, SMTP_PATH_RECIPIENT);
		return;
	}
	if (!s->esmtp && (r.notify != 0 || r.orcpt[0] != '\0')) {
		smtp_reply(s, "555 5.5.4 Parameters need EHLO");
		return;
	}
	if (tx->rcpt_count >= s->server->max_recipients) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (!smtp_within_hourly_limits(s, tx->rcpt_count + 1))
		return;
	char *address;
	if (r.to.domain[0] == '\0') {
		address = postmaster_address(s);
		if (address == NULL) {
			smtp_reply(s, "550 5.1.1 <Postmaster>: no postmaster is configured here");
			return;
		}
	} else {
		char formatted[ADDRESS_MAX_PATH * 4 + 4];
		if (address_format(&r.to, formatted, sizeof(formatted)) < 0) {
			smtp_reply_parse_error(s, SMTP_PARSE_PATH_TOO_LONG, SMTP_PATH_RECIPIENT);
			return;
		}
		address = xstrdup(formatted);
	}

	struct store *st = s->store;
	char *error = NULL;
	int local = resolve_is_local(st, address, &error);
	enum resolve_result res = RESOLVE_ERROR;
	if (local == 0 && s->service->mode == SMTP_MODE_RELAY) {
		smtp_reply(s, "554 5.7.1 <%s>: Relay access denied", address);
		goto out;
	}
	size_t locals = tx->targets.local_count, remotes = tx->targets.remote_count;
	if (local >= 0)
		res = resolve_recipient(st, address, s->server->recipient_delimiter, r.notify,
					r.orcpt, &tx->targets, &error);
	switch (res) {
	case RESOLVE_OK:
		if (refuse_over_quota(s, address, locals) == 0)
			break;
		resolution_truncate(&tx->targets, locals, remotes);
		goto out;
	case RESOLVE_UNKNOWN:
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", address);
		goto out;
	case RESOLVE_EMPTY:
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address expands to no mailbox", address);
		goto out;
	case RESOLVE_TOO_DEEP:
		smtp_reply(s, "554 5.4.6 <%s>: Alias nesting too deep", address);
		goto out;
	case RESOLVE_ERROR:
		log_error("session=%s smtp lookup failed: %s", conn_id(s->conn), error);
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", address);
		goto out;
	}
	tx->rcpts = xrealloc(tx->rcpts, (tx->rcpt_count + 1) * sizeof(*tx->rcpts));
	struct smtp_rcpt *rc = &tx->rcpts[tx->rcpt_count++];
	rc->address = address;
	rc->notify = r.notify;
	rc->orcpt = r.orcpt[0] != '\0' ? xstrdup(r.orcpt) : NULL;
	address = NULL;
	smtp_reply(s, "250 2.1.5 Ok");
out:
	free(address);
	free(error);
}
