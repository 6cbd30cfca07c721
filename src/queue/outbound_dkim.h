/* DKIM signatures on mail written here (queue_msg.local_origin: authenticated submission,
 * sendmail, bounces) leaving for other domains (RFC 6376), made on a store worker when a
 * job's message files are read: the last moment before sending, after every change estafeta
 * makes to a message. */
#ifndef ESTAFETA_OUTBOUND_DKIM_H
#define ESTAFETA_OUTBOUND_DKIM_H
#include "core/buf.h"
#include "store/store.h"
#include <time.h>

/* Signs msg in place, once with every active key of the domain of its From field (the first
 * mailbox's) or, when that domain has none, of the nearest parent domain that has some (so
 * MAILER-DAEMON@mx.example.org's bounces are signed by example.org, which DMARC's relaxed
 * alignment accepts). A message with 8-bit octets in its body is first made 7-bit
 * (mail/downgrade.h), as RFC 6376 5.3 advises, so no later conversion for a server without
 * 8BITMIME breaks the signature. A message without such a domain is left as it is; a key
 * that cannot sign is logged and left out. */
void outbound_dkim_sign(struct store *st, const char *queue_id, buf *msg, time_t now);
/* The active keys of domain or of its nearest parent that has some (none: *count 0). */
int outbound_signing_rows(struct store *st, const char *domain, struct dkim_key_row **rows,
			  size_t *count, char **error_r);
/* Replaces msg with its 7-bit form when its body has 8-bit octets and one can be made, so
 * that no conversion after signing breaks the signature. */
void outbound_make_7bit(const char *queue_id, buf *msg);
#endif
