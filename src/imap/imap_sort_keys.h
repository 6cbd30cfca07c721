/* What SORT (RFC 5256, RFC 5957) and THREAD compare, read from a message's header section:
 * the base subject, the first From, To and Cc address (its addr-mailbox, and its display
 * form), the sent date and the Message IDs that link replies. Pure functions. */
#ifndef ESTAFETA_IMAP_SORT_KEYS_H
#define ESTAFETA_IMAP_SORT_KEYS_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* At most this many references of a message are followed (the last of its References). */
#define SORT_MAX_REFERENCES 100

struct sort_keys {
	char *subject;         /* base subject (RFC 5256 2.1) */
	bool reply;            /* base subject extraction removed a reply or forward marker */
	char *from, *to, *cc;  /* addr-mailbox of the first address ("" for none) */
	char *display_from, *display_to; /* RFC 5957 3: decoded name, else mailbox@host */
	bool dated;            /* a Date field that parses gave sent */
	time_t sent;
	char *message_id;      /* normalised (imap_thread.h), or NULL */
	strlist refs;          /* References, else the first ID of In-Reply-To */
};

/* Fills k from the header section hdr[0..len); free it with sort_keys_free. */
void sort_keys_read(const char *hdr, size_t len, struct sort_keys *k);
void sort_keys_free(struct sort_keys *k);
#endif
