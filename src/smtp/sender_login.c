/* What an authenticated user may do on submission: the addresses it may send as (envelope
 * sender, From and Sender fields), and its hourly limits.
 *
 * Owned addresses follow Postfix's smtpd_sender_login_maps with
 * reject_sender_login_mismatch: the account's own address and the aliases that lead to it
 * alone (an alias with several targets, such as a team's, belongs to none of them, so no
 * member can speak for the others), each also with a +extension.
 *
 * The limits count what the store recorded as accepted in the last hour (store_deliver writes
 * it in the message's own transaction): a restart does not reset them and every node of a
 * shared store sees the same counts, which in-memory counters would not give. */
#include "smtp/smtp.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "mail/address_list.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* address without its +extension ("alice+tag@x" gives "alice@x"), or NULL when it has none. */
static char *without_extension(const char *address, const char *delim)
{
	const char *at = strrchr(address, '@');
	size_t base = strcspn(address, delim);
	if (*delim == '\0' || at == NULL || address + base >= at)
		return NULL;
	return xasprintf("%.*s%s", (int)base, address, at);
}

static bool owned_as_given(const char *address, const char *user, const strlist *aliases)
{
	return strcasecmp(address, user) == 0 || strlist_contains(aliases, address);
}

void smtp_sender_aliases_read(struct smtp_session *s)
{
	strlist_free(&s->own_aliases);
	strlist_init(&s->own_aliases);
	char *error = NULL;
	if (s->user != NULL &&
	    store_aliases_only_to(s->store, s->user, &s->own_aliases, &error) < 0) {
		log_error("session=%s smtp alias lookup failed: %s", conn_id(s->conn), error);
		free(error);
	}
}

bool smtp_sender_owned(const struct smtp_session *s, const char *address)
{
	if (*address == '\0' || s->user == NULL)
		return false;
	char *plain = without_extension(address, s->server->recipient_delimiter);
	bool own = owned_as_given(address, s->user, &s->own_aliases) ||
		   (plain != NULL && owned_as_given(plain, s->user, &s->own_aliases));
	free(plain);
	return own;
}

char *smtp_foreign_author(struct smtp_session *s, const char *hdr, size_t len)
{
	strlist authors;
	strlist_init(&authors);
	address_list_authors(hdr, len, &authors);
	char *foreign = NULL;
	for (size_t i = 0; i < authors.count && foreign == NULL; i++)
		if (!smtp_sender_owned(s, authors.items[i]))
			foreign = xstrdup(authors.items[i]);
	strlist_free(&authors);
	return foreign;
}

bool smtp_within_hourly_limits(struct smtp_session *s, size_t adding)
{
	struct smtp_server *srv = s->server;
	long long max = adding == 0 ? srv->max_messages_per_hour : srv->max_recipients_per_hour;
	if (s->service->mode != SMTP_MODE_SUBMISSION || s->user == NULL || max <= 0)
		return true;
	int64_t messages, recipients;
	char *error = NULL;
	if (store_submitted_since(s->store, s->user_id, time(NULL) - 3600, &messages, &recipients,
				  &error) < 0) {
		log_error("session=%s smtp limit lookup failed: %s", conn_id(s->conn), error);
		free(error);
		smtp_reply(s, "451 4.3.0 Temporary lookup failure");
		return false;
	}
	const char *what = adding == 0 ? "messages" : "recipients";
	long long used = adding == 0 ? messages : recipients + (long long)adding - 1;
	if (used < max)
		return true;
	log_warn("session=%s smtp limit user=%s %s_per_hour=%lld reached", conn_id(s->conn), s->user,
		 what, max);
	smtp_reply(s, "451 4.7.1 <%s>: too many %s in the last hour (at most %lld); try again later",
		   s->user, what, max);
	return false;
}
