/* Address lists as header fields carry them (RFC 5322 3.4: From, To, Cc, Bcc, Reply-To):
 * mailboxes with or without display names, groups, comments, obsolete routes. The reader is
 * tolerant in the way Dovecot's message-address.c is: a list that breaks the grammar still
 * gives the addresses that can be read. Pure functions. */
#ifndef ESTAFETA_ADDRESS_LIST_H
#define ESTAFETA_ADDRESS_LIST_H
#include "core/buf.h"
#include "core/strlist.h"
#include <stddef.h>

enum address_item_kind {
	ADDRESS_ITEM_MAILBOX,
	ADDRESS_ITEM_GROUP_START, /* name is the group's display name */
	ADDRESS_ITEM_GROUP_END,
};

/* name and local are unquoted, still encoded as written (RFC 2047 words stay); route is an
 * obsolete source route ("@a,@b", RFC 5322 4.4). Each is NULL when absent. */
struct address_item {
	enum address_item_kind kind;
	const char *name, *route, *local, *domain;
};

typedef void address_item_fn(const struct address_item *item, void *arg);

/* Calls fn for every item of the list value[0..len), in order. */
void address_list_walk(const char *value, size_t len, address_item_fn *fn, void *arg);

/* Appends the address of every mailbox in the From and Sender fields of the header section
 * hdr[0..len) (RFC 5322 3.6.2: who wrote the message, who sent it) to out, duplicates left
 * out: "local@domain", or the local part alone when the domain is missing. */
void address_list_authors(const char *hdr, size_t len, strlist *out);

/* Appends a mailbox as a header field carries it: "local@domain", or "Name <local@domain>"
 * with the name quoted when it must be (RFC 5322 3.2.3 specials) or as RFC 2047 encoded words
 * when it is not ASCII. */
void address_write_mailbox(buf *out, const char *name, const char *addr);
#endif
