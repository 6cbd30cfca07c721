/* The fields are taken as FETCH ENVELOPE would show them (the first field of each name),
 * so SORT agrees with what a client displays. */
#include "imap/imap_sort_keys.h"
#include "core/xalloc.h"
#include "imap/imap_thread.h"
#include "mail/address_list.h"
#include "mail/base_subject.h"
#include "mail/header.h"
#include "mail/mime.h"
#include <stdlib.h>
#include <string.h>

/* The first mailbox of an address list, as address_list_walk gives it. */
struct first_mailbox {
	bool found;
	char *mailbox, *display;
};

static void take_first(const struct address_item *item, void *arg)
{
	struct first_mailbox *f = arg;
	if (f->found || item->kind != ADDRESS_ITEM_MAILBOX)
		return;
	f->found = true;
	f->mailbox = xstrdup(item->local != NULL ? item->local : "");
	buf d;
	buf_init(&d);
	if (item->name != NULL)
		mime_header_decode(item->name, strlen(item->name), &d);
	if (d.len == 0 && item->local != NULL) /* RFC 5957 3: addr-mailbox@addr-host */
		buf_printf(&d, item->domain != NULL ? "%s@%s" : "%s", item->local, item->domain);
	f->display = buf_steal(&d);
}

static void first_address(const char *hdr, size_t len, const char *name, char **mailbox,
			  char **display)
{
	buf v;
	buf_init(&v);
	struct first_mailbox f = { 0 };
	if (header_get(hdr, len, name, &v))
		address_list_walk(v.data, v.len, take_first, &f);
	buf_free(&v);
	*mailbox = f.found ? f.mailbox : xstrdup("");
	if (display != NULL)
		*display = f.found ? f.display : xstrdup("");
	else
		free(f.display);
}

void sort_keys_read(const char *hdr, size_t len, struct sort_keys *k)
{
	memset(k, 0, sizeof(*k));
	strlist_init(&k->refs);
	buf v;
	buf_init(&v);
	header_get(hdr, len, "Subject", &v);
	buf base;
	buf_init(&base);
	k->reply = base_subject(v.data, v.len, &base);
	k->subject = buf_steal(&base);
	first_address(hdr, len, "From", &k->from, &k->display_from);
	first_address(hdr, len, "To", &k->to, &k->display_to);
	first_address(hdr, len, "Cc", &k->cc, NULL);
	buf_clear(&v);
	k->dated = header_get(hdr, len, "Date", &v) && header_date_time(v.data, v.len, &k->sent);
	strlist ids;
	strlist_init(&ids);
	buf_clear(&v);
	if (header_get(hdr, len, "Message-ID", &v))
		thread_msgids(v.data, v.len, &ids);
	if (ids.count > 0)
		k->message_id = xstrdup(ids.items[0]);
	/* References (the last ones: the parent is the last), else the first valid ID of
	 * In-Reply-To (RFC 5256 REFERENCES) */
	buf_clear(&v);
	if (header_get(hdr, len, "References", &v))
		thread_msgids(v.data, v.len, &k->refs);
	if (k->refs.count > SORT_MAX_REFERENCES) {
		size_t drop = k->refs.count - SORT_MAX_REFERENCES;
		for (size_t i = 0; i < drop; i++)
			free(k->refs.items[i]);
		memmove(k->refs.items, k->refs.items + drop, SORT_MAX_REFERENCES * sizeof(char *));
		k->refs.count = SORT_MAX_REFERENCES;
	}
	buf_clear(&v);
	strlist_free(&ids);
	if (k->refs.count == 0 && header_get(hdr, len, "In-Reply-To", &v))
		thread_msgids(v.data, v.len, &ids);
	if (k->refs.count == 0 && ids.count > 0)
		strlist_add(&k->refs, ids.items[0]);
	strlist_free(&ids);
	buf_free(&v);
}

void sort_keys_free(struct sort_keys *k)
{
	free(k->subject);
	free(k->from);
	free(k->to);
	free(k->cc);
	free(k->display_from);
	free(k->display_to);
	free(k->message_id);
	strlist_free(&k->refs);
}
