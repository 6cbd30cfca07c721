/* Signing outbound mail; see outbound_dkim.h. */
#include "queue/outbound_dkim.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "mail/address_list.h"
#include "mail/dkim_key.h"
#include "mail/dkim_sign.h"
#include "mail/downgrade.h"
#include "mail/header.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void first_domain(const struct address_item *item, void *arg)
{
	char **domain = arg;
	if (*domain == NULL && item->kind == ADDRESS_ITEM_MAILBOX && item->domain != NULL)
		*domain = xstrdup(item->domain);
}

/* The domain of the From field's first mailbox, lower-cased, or NULL. */
static char *from_domain(const char *msg, size_t hdr_len)
{
	buf from;
	buf_init(&from);
	char *domain = NULL;
	if (header_get(msg, hdr_len, "From", &from))
		address_list_walk(from.data, from.len, first_domain, &domain);
	buf_free(&from);
	for (char *p = domain; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return domain;
}

int outbound_signing_rows(struct store *st, const char *domain, struct dkim_key_row **rows,
			  size_t *count, char **error_r)
{
	*rows = NULL;
	*count = 0;
	for (const char *d = domain; d != NULL && strchr(d, '.') != NULL; d = strchr(d, '.') + 1) {
		if (store_dkim_list(st, d, true, rows, count, error_r) < 0)
			return -1;
		if (*count > 0)
			return 0;
		free(*rows);
	}
	*rows = NULL;
	return 0;
}

void outbound_make_7bit(const char *queue_id, buf *msg)
{
	size_t hdr_len = header_end(msg->data, msg->len);
	if (!mime_has_8bit(msg->data + hdr_len, msg->len - hdr_len))
		return;
	buf seven;
	buf_init(&seven);
	if (mime_downgrade(msg->data, msg->len, &seven) < 0) {
		buf_free(&seven);
		return; /* it goes 8-bit or not at all (smtp_client.c), signed as it is */
	}
	log_info("queue=%s converted to 7-bit before signing", queue_id);
	buf_free(msg);
	*msg = seven;
}

/* The keys of rows that can sign, into keys (room for count); their selectors, comma-separated,
 * into selectors. Returns how many. */
static size_t usable_keys(const char *queue_id, const struct dkim_key_row *rows, size_t count,
			  struct dkim_signing_key *keys, buf *selectors)
{
	size_t usable = 0;
	for (size_t i = 0; i < count; i++) {
		EVP_PKEY *key = dkim_key_from_pem(rows[i].private_pem);
		if (key == NULL) {
			log_error("queue=%s dkim key %s of %s cannot be read; it is left out", queue_id,
				  rows[i].selector, rows[i].domain);
			continue;
		}
		keys[usable++] = (struct dkim_signing_key){ rows[i].domain, rows[i].selector, key };
		buf_printf(selectors, "%s%s", selectors->len > 0 ? "," : "", rows[i].selector);
	}
	return usable;
}

void outbound_dkim_sign(struct store *st, const char *queue_id, buf *msg, time_t now)
{
	size_t hdr_len = header_end(msg->data, msg->len);
	char *domain = hdr_len > 0 ? from_domain(msg->data, hdr_len) : NULL;
	if (domain == NULL)
		return;
	struct dkim_key_row *rows = NULL;
	size_t count = 0;
	char *error = NULL;
	if (outbound_signing_rows(st, domain, &rows, &count, &error) < 0) {
		log_error("queue=%s dkim cannot read the keys of %s: %s; sending unsigned", queue_id,
			  domain, error);
		free(error);
	}
	struct dkim_signing_key *keys = xcalloc(count + 1, sizeof(*keys));
	buf selectors, signatures;
	buf_init(&selectors);
	buf_init(&signatures);
	size_t usable = usable_keys(queue_id, rows, count, keys, &selectors);
	if (usable > 0) {
		outbound_make_7bit(queue_id, msg);
		if (dkim_sign(msg->data, msg->len, keys, usable, now, &signatures) < 0) {
			log_error("queue=%s dkim signing failed for %s; sending unsigned", queue_id,
				  keys[0].domain);
		} else {
			log_info("queue=%s dkim signed d=%s s=%s", queue_id, keys[0].domain, selectors.data);
			buf_append(&signatures, msg->data, msg->len);
			buf_free(msg);
			*msg = signatures;
			buf_init(&signatures);
		}
	}
	for (size_t i = 0; i < usable; i++)
		EVP_PKEY_free(keys[i].key);
	free(keys);
	buf_free(&selectors);
	buf_free(&signatures);
	dkim_key_rows_free(rows, count);
	free(domain);
}
