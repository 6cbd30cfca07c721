/* Sealing forwarded mail; see outbound_arc.h. */
#include "queue/outbound_arc.h"
#include "core/log.h"
#include "mail/arc_seal.h"
#include "mail/dkim_key.h"
#include "queue/outbound_dkim.h"
#include <stdlib.h>

/* The first active RSA key of rows that reads, or NULL; *row the row it is of. */
static EVP_PKEY *rsa_key(const struct dkim_key_row *rows, size_t count, size_t *row)
{
	for (size_t i = 0; i < count; i++) {
		EVP_PKEY *key = dkim_key_from_pem(rows[i].private_pem);
		if (key != NULL && dkim_key_algorithm(key) == DKIM_RSA) {
			*row = i;
			return key;
		}
		EVP_PKEY_free(key);
	}
	return NULL;
}

void outbound_arc_seal(struct store *st, const char *queue_id, const char *hostname,
		       const char *results, buf *msg, time_t now)
{
	struct dkim_key_row *rows = NULL;
	size_t count = 0, row = 0;
	char *error = NULL;
	if (outbound_signing_rows(st, hostname, &rows, &count, &error) < 0) {
		log_error("queue=%s arc cannot read the keys of %s: %s; forwarding unsealed", queue_id,
			  hostname, error);
		free(error);
		return;
	}
	EVP_PKEY *key = rsa_key(rows, count, &row);
	if (key == NULL) {
		log_info("queue=%s arc: no RSA key for %s or a parent domain; forwarding unsealed",
			 queue_id, hostname);
		dkim_key_rows_free(rows, count);
		return;
	}
	outbound_make_7bit(queue_id, msg);
	struct dkim_signing_key k = { rows[row].domain, rows[row].selector, key };
	buf set;
	buf_init(&set);
	const char *why = NULL;
	if (arc_seal(msg->data, msg->len, results, &k, now, &set, &why) < 0) {
		log_info("queue=%s arc: not sealed, %s", queue_id, why);
	} else {
		log_info("queue=%s arc sealed d=%s s=%s", queue_id, k.domain, k.selector);
		buf_append(&set, msg->data, msg->len);
		buf_free(msg);
		*msg = set;
		buf_init(&set);
	}
	buf_free(&set);
	EVP_PKEY_free(key);
	dkim_key_rows_free(rows, count);
}
