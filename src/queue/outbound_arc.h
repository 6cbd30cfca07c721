/* ARC sets on mail this server forwards (RFC 8617 5.1): a message received on port 25 that
 * goes on to other domains (an alias or list with remote members) leaves with an ARC set
 * recording our Authentication-Results for it (queue_msg.arc_results), so its next hop can
 * trust our checks when our forwarding breaks the author's DKIM signature. Made on a store
 * worker when a job's message files are read, like outbound_dkim.h's signatures. */
#ifndef ESTAFETA_OUTBOUND_ARC_H
#define ESTAFETA_OUTBOUND_ARC_H
#include "core/buf.h"
#include "store/store.h"
#include <time.h>

/* Seals msg in place with the first RSA key (active) of hostname's domain: hostname itself
 * or its nearest parent domain with keys, as for bounces. results: the Authentication-
 * Results value recorded. A message that cannot be sealed (no key, a chain that did not
 * pass, arc_seal.h) goes as it is, which is logged. */
void outbound_arc_seal(struct store *st, const char *queue_id, const char *hostname,
		       const char *results, buf *msg, time_t now);
#endif
