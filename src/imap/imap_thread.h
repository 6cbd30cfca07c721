/* THREAD's algorithms (RFC 5256 3): ORDEREDSUBJECT and REFERENCES over the keys of the
 * searched messages, written as the THREAD response's thread lists; and the normalised
 * Message IDs the keys hold. Pure functions. */
#ifndef ESTAFETA_IMAP_THREAD_H
#define ESTAFETA_IMAP_THREAD_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One searched message, given in mailbox (sequence) order, which breaks ties of dates. */
struct thread_message {
	uint32_t number;          /* what the response names: sequence number or UID */
	time_t sent;              /* the sent date (RFC 5256 2.2) */
	const char *subject;      /* the base subject (mail/base_subject.h) */
	bool reply;               /* its extraction removed a reply or forward marker */
	const char *message_id;   /* normalised (thread_msgids), NULL when none is valid */
	const strlist *refs;      /* the references, first to last (RFC 5256 REFERENCES) */
};

enum thread_alg { THREAD_ORDEREDSUBJECT, THREAD_REFERENCES };

/* Appends the thread lists of msgs[0..n) by alg, each "(...)", to out (nothing when n is 0). */
void imap_thread_write(enum thread_alg alg, const struct thread_message *msgs, size_t n, buf *out);

/* Appends the valid msg-ids of the field value[0..len) to out, normalised so that quoting
 * does not matter: "<\"a b\"@x>" and "<a b@x>" are one ID, kept without the angle brackets.
 * A msg-id is valid with an "@" between a non-empty left and right. */
void thread_msgids(const char *value, size_t len, strlist *out);

/* The collation of SORT and THREAD: strings compared octet by octet with ASCII letters in
 * upper case (the ASCII part of i;unicode-casemap), the empty string first. */
int imap_sort_strcmp(const char *a, const char *b);
#endif
