/* ENVELOPE and BODYSTRUCTURE; see imap_envelope.h. Addresses are read by address_list.c; a
 * mailbox without a domain gets host NIL, as Dovecot sends it. */
#include "imap/imap_envelope.h"
#include "imap/imap_string.h"
#include "mail/address_list.h"
#include "mail/header.h"
#include <string.h>
#include <strings.h>

static void write_nstring(buf *out, const char *s)
{
	if (s == NULL)
		buf_puts(out, "NIL");
	else
		imap_write_string(out, s, strlen(s));
}

static void write_address(buf *out, const char *name, const char *adl, const char *mailbox,
			  const char *host)
{
	buf_putc(out, '(');
	write_nstring(out, name);
	buf_putc(out, ' ');
	write_nstring(out, adl);
	buf_putc(out, ' ');
	write_nstring(out, mailbox);
	buf_putc(out, ' ');
	write_nstring(out, host);
	buf_putc(out, ')');
}

/* A group is told by its start (mailbox = the name, host NIL) and end (all NIL), 7.4.2; so
 * a mailbox missing a part says so in words, as Dovecot does, rather than look like one. */
static void write_item(const struct address_item *it, void *arg)
{
	buf *out = arg;
	if (it->kind == ADDRESS_ITEM_GROUP_START)
		write_address(out, NULL, NULL, it->name, NULL);
	else if (it->kind == ADDRESS_ITEM_GROUP_END)
		write_address(out, NULL, NULL, NULL, NULL);
	else
		write_address(out, it->name, it->route, it->local != NULL ? it->local : "MISSING_MAILBOX",
			      it->domain != NULL ? it->domain : "MISSING_DOMAIN");
}

/* env-from etc. = "(" 1*address ")" / nil */
static void write_addresses(buf *out, const char *value)
{
	size_t start = out->len;
	buf_putc(out, '(');
	address_list_walk(value, strlen(value), write_item, out);
	if (out->len == start + 1) {
		out->len = start;
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, ')');
	}
}

/* envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to
 *            SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
 * Sender and Reply-To default to From (RFC 3501 7.4.2). */
void imap_envelope_write(const char *hdr, size_t len, buf *out)
{
	static const char *const fields[] = { "Date", "Subject", "From", "Sender", "Reply-To", "To",
					      "Cc", "Bcc", "In-Reply-To", "Message-ID" };
	buf v;
	buf_init(&v);
	buf_putc(out, '(');
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (i > 0)
			buf_putc(out, ' ');
		buf_clear(&v);
		bool has = header_get(hdr, len, fields[i], &v);
		bool address = i >= 2 && i <= 7;
		if (!has && (i == 3 || i == 4))
			has = header_get(hdr, len, "From", &v);
		if (!has)
			buf_puts(out, "NIL");
		else if (address)
			write_addresses(out, v.data);
		else
			imap_write_string(out, v.data, v.len);
	}
	buf_putc(out, ')');
	buf_free(&v);
}

/* ---- body structure ---- */

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil. RFC 2231 extended
 * values go out as Dovecot sends them: name*, with charset'language'%-encoding kept. */
static void write_params(buf *out, const struct mime_param *params, size_t count)
{
	if (count == 0) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_putc(out, ' ');
		if (params[i].extended) {
			buf name;
			buf_init(&name);
			buf_printf(&name, "%s*", params[i].name);
			imap_write_string(out, name.data, name.len);
			buf_free(&name);
		} else {
			write_nstring(out, params[i].name);
		}
		buf_putc(out, ' ');
		write_nstring(out, params[i].value);
	}
	buf_putc(out, ')');
}

/* body-ext-1part / body-ext-mpart after the first field: body-fld-dsp SP body-fld-lang SP
 * body-fld-loc. Content-Language "en, fr" becomes ("en" "fr"). */
static void write_ext(buf *out, const struct mime_part *p)
{
	buf_putc(out, ' ');
	if (p->disposition.value == NULL) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		write_nstring(out, p->disposition.value);
		buf_putc(out, ' ');
		write_params(out, p->disposition.params, p->disposition.param_count);
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	if (p->language == NULL) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		const char *s = p->language;
		bool first = true;
		while (*s != '\0') {
			s += strspn(s, " ,\t");
			if (*s == '(') { /* a comment, not a language tag (RFC 3282 2) */
				const char *close = strchr(s, ')');
				s = close != NULL ? close + 1 : s + strlen(s);
				continue;
			}
			size_t n = strcspn(s, " ,\t(");
			if (n == 0)
				break;
			if (!first)
				buf_putc(out, ' ');
			imap_write_string(out, s, n);
			first = false;
			s += n;
		}
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	write_nstring(out, p->location);
}

void imap_bodystructure_write(const struct mime_tree *tree, int idx, const char *msg,
			      bool extended, buf *out)
{
	const struct mime_part *p = &tree->parts[idx];
	buf_putc(out, '(');
	if (strcasecmp(p->type, "multipart") == 0) {
		/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
		for (int c = p->first_child; c != MIME_NONE; c = tree->parts[c].next_sibling)
			imap_bodystructure_write(tree, c, msg, extended, out);
		buf_putc(out, ' ');
		write_nstring(out, p->subtype);
		if (extended) {
			buf_putc(out, ' ');
			write_params(out, p->params, p->param_count);
			write_ext(out, p);
		}
		buf_putc(out, ')');
		return;
	}
	/* body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
	 * body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
	 *                   body-fld-octets */
	write_nstring(out, p->type);
	buf_putc(out, ' ');
	write_nstring(out, p->subtype);
	buf_putc(out, ' ');
	/* A text part without parameters is us-ascii (RFC 2045 5.2); Dovecot says so. */
	if (p->param_count == 0 && strcasecmp(p->type, "text") == 0)
		buf_puts(out, "(\"charset\" \"us-ascii\")");
	else
		write_params(out, p->params, p->param_count);
	buf_putc(out, ' ');
	write_nstring(out, p->id);
	buf_putc(out, ' ');
	write_nstring(out, p->description);
	buf_putc(out, ' ');
	write_nstring(out, p->encoding != NULL ? p->encoding : "7bit");
	buf_printf(out, " %zu", p->body_len);
	if (mime_part_is_message(p) && p->first_child != MIME_NONE) {
		/* body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines */
		const struct mime_part *m = &tree->parts[p->first_child];
		buf_putc(out, ' ');
		imap_envelope_write(msg + m->hdr_off, m->hdr_len, out);
		buf_putc(out, ' ');
		imap_bodystructure_write(tree, p->first_child, msg, extended, out);
		buf_printf(out, " %zu", p->body_lines);
	} else if (strcasecmp(p->type, "text") == 0) {
		buf_printf(out, " %zu", p->body_lines);
	}
	if (extended) {
		buf_putc(out, ' ');
		write_nstring(out, p->md5);
		write_ext(out, p);
	}
	buf_putc(out, ')');
}

void imap_structure_strings(const char *msg, size_t len, buf *envelope, buf *body,
			    buf *bodystructure)
{
	struct mime_tree tree;
	mime_parse(msg, len, &mime_default_limits, &tree);
	imap_envelope_write(msg, tree.parts[0].hdr_len, envelope);
	imap_bodystructure_write(&tree, 0, msg, false, body);
	imap_bodystructure_write(&tree, 0, msg, true, bodystructure);
	mime_tree_free(&tree);
}
