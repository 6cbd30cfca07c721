/* The mail client's session, its IMAP helpers and the commands that read and manage mail;
 * composing is in mail_send.c. See mail.h. */
#include "mua/mail_internal.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/text.h"
#include "mua/render.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int mail_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("estafeta mail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int fail_free(char *error)
{
	mail_fail("%s", error);
	free(error);
	return 1;
}

int mail_imap(struct mail_session *s)
{
	if (s->imap != NULL)
		return 0;
	char *error = NULL;
	if (mail_account_server(&s->acct, true, &error) < 0 || mail_account_password(&s->acct, &error) < 0)
		return fail_free(error);
	s->imap = imap_client_open(s->acct.imap.host, s->acct.imap.port, s->acct.imap.implicit_tls,
				   s->acct.verify, s->acct.user, s->acct.password, &error);
	return s->imap == NULL ? fail_free(error) : 0;
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void on_search(const struct imap_value *top, void *arg)
{
	struct mail_session *s = arg;
	if (!imap_value_is(&top->items[1], "SEARCH"))
		return;
	s->uids = xrealloc(s->uids, (s->count + top->count) * sizeof(*s->uids));
	for (size_t i = 2; i < top->count; i++)
		s->uids[s->count++] = (uint32_t)strtoul(imap_value_str(&top->items[i]), NULL, 10);
}

int mail_select(struct mail_session *s, const char *folder)
{
	if (mail_imap(s) != 0)
		return 1;
	if (folder == NULL)
		folder = s->folder != NULL ? s->folder : "INBOX";
	char *error = NULL;
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	imap_cmd_raw(&cmd, "SELECT ");
	imap_cmd_mailbox(s->imap, &cmd, folder);
	int r = imap_run(s->imap, &cmd, NULL, NULL, &error);
	imap_cmd_free(&cmd);
	s->count = 0;
	if (r == 0)
		r = imap_simple(s->imap, on_search, s, &error, "UID SEARCH ALL");
	if (r < 0)
		return fail_free(error);
	qsort(s->uids, s->count, sizeof(*s->uids), cmp_uid);
	char *name = xstrdup(folder);
	free(s->folder);
	s->folder = name;
	return 0;
}

int mail_uid(struct mail_session *s, const char *arg, uint32_t *uid)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || n == 0 || n > s->count) {
		if (s->count == 0)
			return mail_fail("no message %s: %s is empty", arg, s->folder);
		return mail_fail("no message %s in %s (1 to %zu)", arg, s->folder, s->count);
	}
	*uid = s->uids[n - 1];
	return 0;
}

struct fetched {
	uint32_t uid;
	buf *out;
	bool found;
};

static void on_fetch_body(const struct imap_value *top, void *arg)
{
	struct fetched *f = arg;
	if (top->count < 4 || !imap_value_is(&top->items[2], "FETCH"))
		return;
	const struct imap_value *att = &top->items[3];
	if ((uint32_t)strtoul(imap_value_str(imap_value_get(att, "UID")), NULL, 10) != f->uid)
		return;
	const struct imap_value *body = imap_value_get(att, "BODY[]");
	if (body != NULL && body->kind == IMAP_STRING) {
		buf_append(f->out, body->data, body->len);
		f->found = true;
	}
}

int mail_fetch(struct mail_session *s, uint32_t uid, bool peek, buf *out)
{
	struct fetched f = { uid, out, false };
	char *error = NULL;
	if (imap_simple(s->imap, on_fetch_body, &f, &error, "UID FETCH %u (UID BODY%s[])", uid,
			peek ? ".PEEK" : "") < 0)
		return fail_free(error);
	return f.found ? 0 : mail_fail("message UID %u is gone from %s", uid, s->folder);
}

/* ---- folders ---- */

struct listed {
	struct mail_session *s;
	strlist names;
	strlist attributes; /* one line per name: its attributes */
};

static void on_list(const struct imap_value *top, void *arg)
{
	struct listed *l = arg;
	if (top->count < 5 || !imap_value_is(&top->items[1], "LIST") || top->items[2].kind != IMAP_LIST)
		return;
	char *name = imap_mailbox_from_wire(imap_value_str(&top->items[4]));
	strlist_add_owned(&l->names, name);
	buf attrs;
	buf_init(&attrs);
	for (size_t i = 0; i < top->items[2].count; i++)
		buf_printf(&attrs, "%s%s", i > 0 ? " " : "", imap_value_str(&top->items[2].items[i]));
	strlist_add_owned(&l->attributes, attrs.data != NULL ? buf_steal(&attrs) : xstrdup(""));
}

static int list_folders(struct mail_session *s, struct listed *l)
{
	memset(l, 0, sizeof(*l));
	l->s = s;
	strlist_init(&l->names);
	strlist_init(&l->attributes);
	if (mail_imap(s) != 0)
		return 1;
	char *error = NULL;
	return imap_simple(s->imap, on_list, l, &error, "LIST \"\" \"*\"") < 0 ? fail_free(error) : 0;
}

static void listed_free(struct listed *l)
{
	strlist_free(&l->names);
	strlist_free(&l->attributes);
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strcasestr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

const char *mail_role(struct mail_session *s, enum folder_role role)
{
	static const char *const attr[] = { "\\Sent", "\\Drafts", "\\Trash", "\\Junk" };
	static const char *const names[][3] = { { "Sent", "Sent Messages", "Sent Items" },
						{ "Drafts", "Draft", NULL },
						{ "Trash", "Deleted Messages", "Deleted Items" },
						{ "Junk", "Spam", "Junk E-mail" } };
	if (!s->roles_known) {
		struct listed l;
		if (list_folders(s, &l) != 0) {
			listed_free(&l);
			return NULL;
		}
		for (int r = 0; r < 4; r++) {
			for (size_t i = 0; i < l.names.count && s->roles[r] == NULL; i++)
				if (has_word(l.attributes.items[i], attr[r]))
					s->roles[r] = xstrdup(l.names.items[i]);
			for (int k = 0; k < 3 && s->roles[r] == NULL && names[r][k] != NULL; k++)
				for (size_t i = 0; i < l.names.count && s->roles[r] == NULL; i++)
					if (strcasecmp(l.names.items[i], names[r][k]) == 0)
						s->roles[r] = xstrdup(l.names.items[i]);
		}
		listed_free(&l);
		s->roles_known = true;
	}
	if (s->roles[role] == NULL) {
		/* none yet: make the usual one, as mail programs do */
		char *error = NULL;
		struct imap_cmd cmd;
		imap_cmd_init(&cmd);
		imap_cmd_raw(&cmd, "CREATE ");
		imap_cmd_mailbox(s->imap, &cmd, names[role][0]);
		if (imap_run(s->imap, &cmd, NULL, NULL, &error) < 0) {
			imap_cmd_free(&cmd);
			fail_free(error);
			return NULL;
		}
		imap_cmd_free(&cmd);
		s->roles[role] = xstrdup(names[role][0]);
	}
	return s->roles[role];
}

int mail_store_flags(struct mail_session *s, uint32_t uid, const char *change)
{
	if ((change[0] != '+' && change[0] != '-') || change[1] == '\0')
		return mail_fail("a flag change is +FLAG or -FLAG (+\\Flagged, -\\Seen, +label), not \"%s\"", change);
	for (const char *p = change + 1; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("(){%*\"]", *p) != NULL || (unsigned char)*p >= 0x7f)
			return mail_fail("\"%s\" is not a flag or keyword", change + 1);
	char *error = NULL;
	if (imap_simple(s->imap, NULL, NULL, &error, "UID STORE %u %cFLAGS.SILENT (%s)", uid, change[0],
			change + 1) < 0)
		return fail_free(error);
	return 0;
}

int mail_append(struct mail_session *s, const char *folder, const char *flags, const buf *msg)
{
	char *error = NULL;
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	imap_cmd_raw(&cmd, "APPEND ");
	imap_cmd_mailbox(s->imap, &cmd, folder);
	imap_cmd_raw(&cmd, " (%s) ", flags);
	imap_cmd_string(s->imap, &cmd, msg->data, msg->len);
	int r = imap_run(s->imap, &cmd, NULL, NULL, &error);
	imap_cmd_free(&cmd);
	return r < 0 ? fail_free(error) : 0;
}

/* Moves a message: MOVE (RFC 6851) when offered, else COPY, \Deleted and expunge. */
static int move_uid(struct mail_session *s, uint32_t uid, const char *to)
{
	char *error = NULL;
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	bool move = imap_client_has(s->imap, "MOVE");
	imap_cmd_raw(&cmd, "UID %s %u ", move ? "MOVE" : "COPY", uid);
	imap_cmd_mailbox(s->imap, &cmd, to);
	int r = imap_run(s->imap, &cmd, NULL, NULL, &error);
	imap_cmd_free(&cmd);
	if (r == 0 && !move) {
		r = imap_simple(s->imap, NULL, NULL, &error, "UID STORE %u +FLAGS.SILENT (\\Deleted)", uid);
		if (r == 0)
			r = imap_simple(s->imap, NULL, NULL, &error, imap_client_has(s->imap, "UIDPLUS")
				? "UID EXPUNGE %u" : "EXPUNGE", uid);
	}
	return r < 0 ? fail_free(error) : 0;
}

/* ---- list and search ---- */

struct summary_row {
	uint32_t uid;
	char status;
	size_t size;
	char *from, *date, *subject;
	bool attachment;
};

struct summaries {
	struct summary_row *rows;
	size_t count;
};

/* BODYSTRUCTURE says there are attachments when a part has a file name or an attachment
 * disposition, or is a forwarded message. */
static bool structure_has_attachment(const struct imap_value *v, unsigned depth)
{
	if (v->kind == IMAP_STRING || v->kind == IMAP_ATOM)
		return strcasecmp(v->data, "attachment") == 0 || strcasecmp(v->data, "filename") == 0 ||
		       strcasecmp(v->data, "name") == 0 || (depth > 1 && strcasecmp(v->data, "rfc822") == 0);
	for (size_t i = 0; v->kind == IMAP_LIST && i < v->count; i++)
		if (structure_has_attachment(&v->items[i], depth + 1))
			return true;
	return false;
}

static char status_letter(const struct imap_value *flags)
{
	bool seen = false, answered = false, flagged = false, recent = false;
	for (size_t i = 0; flags != NULL && i < flags->count; i++) {
		seen |= imap_value_is(&flags->items[i], "\\Seen");
		answered |= imap_value_is(&flags->items[i], "\\Answered");
		flagged |= imap_value_is(&flags->items[i], "\\Flagged");
		recent |= imap_value_is(&flags->items[i], "\\Recent");
	}
	return flagged ? 'F' : answered ? 'A' : seen ? 'R' : recent ? 'N' : 'U';
}

/* "2026-11-23 09:12" in local time from a Date field, or the field as it is. */
static char *short_date(const char *value)
{
	struct tm tm = { 0 };
	const char *p = strchr(value, ',');
	p = p != NULL ? p + 1 : value;
	char zone[16] = "";
	char month[8];
	int day, year, hh, mm, ss = 0;
	if (sscanf(p, " %d %3s %d %d:%d:%d %15s", &day, month, &year, &hh, &mm, &ss, zone) < 5 ||
	    header_month(month) < 0)
		return xstrdup(value);
	tm.tm_mday = day;
	tm.tm_mon = header_month(month);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	time_t t = timegm(&tm);
	if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) >= 5 && isdigit((unsigned char)zone[1])) {
		int off = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 + ((zone[3] - '0') * 10 + (zone[4] - '0')) * 60;
		t += zone[0] == '+' ? -off : off;
	}
	struct tm local;
	localtime_r(&t, &local);
	char out[32];
	strftime(out, sizeof(out), "%Y-%m-%d %H:%M", &local);
	return xstrdup(out);
}

/* The sender as a reader wants it: the display name, else the address. */
static char *sender_of(const char *header, size_t len)
{
	buf from, name;
	buf_init(&from);
	buf_init(&name);
	header_get(header, len, "From", &from);
	const char *lt = from.data != NULL ? strchr(from.data, '<') : NULL;
	if (lt != NULL && lt > from.data) {
		const char *s = from.data, *e = lt;
		while (s < e && (*s == ' ' || *s == '"'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '"'))
			e--;
		text_header_value(s, (size_t)(e - s), &name);
	} else if (lt != NULL) {
		const char *gt = strchr(lt, '>');
		buf_append(&name, lt + 1, gt != NULL ? (size_t)(gt - lt - 1) : strlen(lt + 1));
	} else {
		text_header_value(from.data != NULL ? from.data : "", from.len, &name);
	}
	buf_free(&from);
	return name.data != NULL ? buf_steal(&name) : xstrdup("");
}

static void on_summary(const struct imap_value *top, void *arg)
{
	struct summaries *sum = arg;
	if (top->count < 4 || !imap_value_is(&top->items[2], "FETCH"))
		return;
	const struct imap_value *att = &top->items[3];
	const struct imap_value *hdr = imap_value_get(att, "BODY[HEADER.FIELDS (FROM DATE SUBJECT)]");
	const char *h = hdr != NULL && hdr->kind == IMAP_STRING ? hdr->data : "";
	size_t hlen = hdr != NULL && hdr->kind == IMAP_STRING ? hdr->len : 0;
	sum->rows = xrealloc(sum->rows, (sum->count + 1) * sizeof(*sum->rows));
	struct summary_row *r = &sum->rows[sum->count++];
	r->uid = (uint32_t)strtoul(imap_value_str(imap_value_get(att, "UID")), NULL, 10);
	r->status = status_letter(imap_value_get(att, "FLAGS"));
	r->size = (size_t)strtoull(imap_value_str(imap_value_get(att, "RFC822.SIZE")), NULL, 10);
	r->from = sender_of(h, hlen);
	buf v;
	buf_init(&v);
	header_get(h, hlen, "Date", &v);
	r->date = short_date(v.data != NULL ? v.data : "");
	buf_clear(&v);
	render_header(h, hlen, "Subject", &v);
	r->subject = v.data != NULL ? buf_steal(&v) : xstrdup("");
	buf_free(&v);
	const struct imap_value *bs = imap_value_get(att, "BODYSTRUCTURE");
	r->attachment = bs != NULL && structure_has_attachment(bs, 0);
}

/* Pads or cuts s to width characters (UTF-8 aware, one column each). */
static void put_column(buf *out, const char *s, size_t width)
{
	size_t chars = 0;
	const char *p = s;
	for (; *p && chars < width; chars++) {
		p++;
		while ((*p & 0xc0) == 0x80)
			p++;
	}
	buf_append(out, s, (size_t)(p - s));
	for (; chars < width; chars++)
		buf_putc(out, ' ');
}

/* Prints one line per message of uids (all: the whole folder), with its number N. */
static int print_summaries(struct mail_session *s, const uint32_t *uids, size_t n, bool all)
{
	if (s->count == 0) {
		printf("%s is empty\n", s->folder);
		return 0;
	}
	if (!all && n == 0) {
		printf("no messages match\n");
		return 0;
	}
	struct summaries sum = { 0 };
	char *error = NULL;
	buf set;
	buf_init(&set);
	if (all)
		buf_puts(&set, "1:*");
	for (size_t i = 0; !all && i < n; i++)
		buf_printf(&set, "%s%u", i > 0 ? "," : "", uids[i]);
	int r = imap_simple(s->imap, on_summary, &sum, &error,
			    "UID FETCH %s (UID FLAGS RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM DATE SUBJECT)])",
			    set.data);
	buf_free(&set);
	if (r < 0)
		return fail_free(error);
	for (size_t k = 0; k < s->count; k++) {
		for (size_t i = 0; i < sum.count; i++) {
			struct summary_row *row = &sum.rows[i];
			if (row->uid != s->uids[k])
				continue;
			char size[16];
			if (row->size >= 1024 * 1024)
				snprintf(size, sizeof(size), "%zuM", (row->size + (1 << 20) - 1) >> 20);
			else
				snprintf(size, sizeof(size), "%zuK", (row->size + 1023) / 1024);
			buf line;
			buf_init(&line);
			buf_printf(&line, "%4zu %c %5s  ", k + 1, row->status, size);
			put_column(&line, row->from, 22);
			buf_printf(&line, "  %-16s %s %s", row->date, row->attachment ? "@" : " ", row->subject);
			puts(line.data);
			buf_free(&line);
		}
	}
	for (size_t i = 0; i < sum.count; i++) {
		free(sum.rows[i].from);
		free(sum.rows[i].date);
		free(sum.rows[i].subject);
	}
	free(sum.rows);
	return 0;
}

static int cmd_list(struct mail_session *s, struct mail_opts *o)
{
	const char *folder = o->args.count > 0 ? o->args.items[0] : o->folder;
	if (mail_select(s, folder) != 0)
		return 1;
	return print_summaries(s, NULL, 0, true);
}

struct found {
	uint32_t *uids;
	size_t count;
};

static void on_found(const struct imap_value *top, void *arg)
{
	struct found *f = arg;
	if (!imap_value_is(&top->items[1], "SEARCH"))
		return;
	f->uids = xrealloc(f->uids, (f->count + top->count) * sizeof(*f->uids));
	for (size_t i = 2; i < top->count; i++)
		f->uids[f->count++] = (uint32_t)strtoul(imap_value_str(&top->items[i]), NULL, 10);
}

/* The query's words: from:, to:, cc:, subject:, body: a field; unread, flagged, answered;
 * since: and before: a date (YYYY-MM-DD); any other word is searched in the whole text. */
static int cmd_search(struct mail_session *s, struct mail_opts *o)
{
	static const char *const fields[][2] = { { "from:", "FROM" }, { "to:", "TO" }, { "cc:", "CC" },
						 { "subject:", "SUBJECT" }, { "body:", "BODY" } };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	if (o->args.count == 0)
		return mail_fail("usage: search WORD... (from:X to:X subject:X body:X since:DATE before:DATE unread flagged)") + 1;
	if (mail_select(s, o->folder) != 0)
		return 1;
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	imap_cmd_raw(&cmd, "UID SEARCH CHARSET UTF-8");
	for (size_t i = 0; i < o->args.count; i++) {
		const char *w = o->args.items[i];
		size_t k = 0;
		while (k < 5 && strncasecmp(w, fields[k][0], strlen(fields[k][0])) != 0)
			k++;
		int y, m, d;
		if (k < 5) {
			imap_cmd_raw(&cmd, " %s ", fields[k][1]);
			w += strlen(fields[k][0]);
			imap_cmd_string(s->imap, &cmd, w, strlen(w));
		} else if (strcasecmp(w, "unread") == 0 || strcasecmp(w, "flagged") == 0 ||
			   strcasecmp(w, "answered") == 0) {
			imap_cmd_raw(&cmd, " %s", strcasecmp(w, "unread") == 0 ? "UNSEEN" : w);
		} else if ((strncasecmp(w, "since:", 6) == 0 || strncasecmp(w, "before:", 7) == 0) &&
			   sscanf(strchr(w, ':') + 1, "%d-%d-%d", &y, &m, &d) == 3 && m >= 1 && m <= 12) {
			imap_cmd_raw(&cmd, " %s %d-%s-%d", w[0] == 's' || w[0] == 'S' ? "SINCE" : "BEFORE", d,
				     months[m - 1], y);
		} else {
			imap_cmd_raw(&cmd, " TEXT ");
			imap_cmd_string(s->imap, &cmd, w, strlen(w));
		}
	}
	struct found f = { 0 };
	char *error = NULL;
	int r = imap_run(s->imap, &cmd, on_found, &f, &error);
	imap_cmd_free(&cmd);
	if (r < 0) {
		free(f.uids);
		return fail_free(error);
	}
	r = print_summaries(s, f.uids, f.count, false);
	free(f.uids);
	return r;
}

/* ---- one message ---- */

/* Selects the folder and finds message args[0]. */
static int target(struct mail_session *s, struct mail_opts *o, size_t need, const char *usage,
		  uint32_t *uid)
{
	if (o->args.count != need)
		return mail_fail("usage: %s", usage) + 1;
	if (s->folder == NULL || o->folder != NULL) {
		if (mail_select(s, o->folder) != 0)
			return 1;
	}
	return mail_uid(s, o->args.items[0], uid);
}

static int cmd_read(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	int r = target(s, o, 1, "read N [--raw]", &uid);
	if (r != 0)
		return r;
	buf msg, out;
	buf_init(&msg);
	buf_init(&out);
	r = mail_fetch(s, uid, false, &msg);
	if (r == 0 && o->raw) {
		fwrite(msg.data, 1, msg.len, stdout);
	} else if (r == 0) {
		buf view;
		buf_init(&view);
		mail_crypto_read(s, msg.data, msg.len, &view, &out);
		render_message(view.data, view.len, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_free(&view);
	}
	buf_free(&msg);
	buf_free(&out);
	return r;
}

static int cmd_delete(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	int r = target(s, o, 1, "delete N", &uid);
	if (r != 0)
		return r;
	const char *trash = mail_role(s, ROLE_TRASH);
	if (trash == NULL)
		return 1;
	if (strcmp(trash, s->folder) != 0)
		return move_uid(s, uid, trash);
	/* in the Trash already: gone for good */
	char *error = NULL;
	if (imap_simple(s->imap, NULL, NULL, &error, "UID STORE %u +FLAGS.SILENT (\\Deleted)", uid) < 0 ||
	    imap_simple(s->imap, NULL, NULL, &error, imap_client_has(s->imap, "UIDPLUS") ? "UID EXPUNGE %u"
											: "EXPUNGE", uid) < 0)
		return fail_free(error);
	return 0;
}

static int cmd_move(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	int r = target(s, o, 2, "move N FOLDER", &uid);
	return r != 0 ? r : move_uid(s, uid, o->args.items[1]);
}

static int cmd_flag(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	if (o->args.count < 2)
		return mail_fail("usage: flag N +\\Flagged|-\\Seen|+label ...") + 1;
	size_t changes = o->args.count - 1;
	o->args.count = 1;
	int r = target(s, o, 1, "flag N +\\Flagged|-\\Seen|+label ...", &uid);
	o->args.count = changes + 1;
	for (size_t i = 1; r == 0 && i < o->args.count; i++)
		r = mail_store_flags(s, uid, o->args.items[i]);
	return r;
}

static int cmd_spam(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	int r = target(s, o, 1, "spam N", &uid);
	if (r != 0)
		return r;
	const char *junk = mail_role(s, ROLE_JUNK);
	if (junk == NULL || mail_store_flags(s, uid, "+$Junk") != 0)
		return 1;
	mail_store_flags(s, uid, "-$NotJunk");
	return move_uid(s, uid, junk);
}

static int cmd_save(struct mail_session *s, struct mail_opts *o)
{
	uint32_t uid;
	int r = target(s, o, 3, "save N PART FILE (PART: a number or a name from read N)", &uid);
	if (r != 0)
		return r;
	buf msg, data;
	buf_init(&msg);
	buf_init(&data);
	r = mail_fetch(s, uid, true, &msg);
	if (r == 0) {
		/* the parts of a signed or encrypted message are those read shows */
		buf view, status;
		buf_init(&view);
		buf_init(&status);
		mail_crypto_read(s, msg.data, msg.len, &view, &status);
		buf_free(&msg);
		msg = view;
		buf_free(&status);
	}
	if (r == 0 && render_attachment_data(msg.data, msg.len, o->args.items[1], &data) < 0)
		r = mail_fail("message %s has no attachment %s (see: read %s)", o->args.items[0],
			      o->args.items[1], o->args.items[0]);
	const char *path = o->args.items[2];
	if (r == 0) {
		FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
		if (f == NULL || fwrite(data.data, 1, data.len, f) != data.len || (f != stdout && fclose(f) != 0))
			r = mail_fail("cannot write %s: %s", path, strerror(errno));
		else if (f != stdout)
			printf("saved %zu octets to %s\n", data.len, path);
	}
	buf_free(&msg);
	buf_free(&data);
	return r;
}

static int cmd_folders(struct mail_session *s, struct mail_opts *o)
{
	struct listed l;
	int r = list_folders(s, &l);
	for (size_t i = 0; r == 0 && i < l.names.count; i++) {
		static const char *const roles[] = { "\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive" };
		const char *role = "";
		for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (has_word(l.attributes.items[i], roles[k]))
				role = roles[k];
		printf("%s%s%s\n", l.names.items[i], role[0] != '\0' ? "\t" : "", role);
	}
	listed_free(&l);
	return r;
}

/* CREATE, DELETE, RENAME: the folder names are the arguments. */
static int folder_command(struct mail_session *s, struct mail_opts *o, const char *verb, size_t need,
			  const char *usage)
{
	if (o->args.count != need)
		return mail_fail("usage: %s", usage) + 1;
	if (mail_imap(s) != 0)
		return 1;
	struct imap_cmd cmd;
	imap_cmd_init(&cmd);
	imap_cmd_raw(&cmd, "%s", verb);
	for (size_t i = 0; i < need; i++) {
		buf_putc(&cmd.text, ' ');
		imap_cmd_mailbox(s->imap, &cmd, o->args.items[i]);
	}
	char *error = NULL;
	int r = imap_run(s->imap, &cmd, NULL, NULL, &error);
	imap_cmd_free(&cmd);
	s->roles_known = false;
	for (int k = 0; k < 4; k++)
		xfree(&s->roles[k]);
	return r < 0 ? fail_free(error) : 0;
}

static int cmd_mkdir(struct mail_session *s, struct mail_opts *o)
{
	return folder_command(s, o, "CREATE", 1, "mkdir FOLDER");
}

static int cmd_rmdir(struct mail_session *s, struct mail_opts *o)
{
	if (o->args.count == 1 && s->folder != NULL && strcmp(s->folder, o->args.items[0]) == 0) {
		imap_simple(s->imap, NULL, NULL, &(char *){ NULL }, "UNSELECT");
		xfree(&s->folder);
	}
	return folder_command(s, o, "DELETE", 1, "rmdir FOLDER");
}

static int cmd_rename(struct mail_session *s, struct mail_opts *o)
{
	return folder_command(s, o, "RENAME", 2, "rename FOLDER NEW-NAME");
}

/* ---- the table ---- */

static const struct {
	const char *name;
	char letter;
	mail_command_fn *fn;
	const char *usage;
} commands[] = {
	{ "list", 'l', cmd_list, "list [FOLDER]" },
	{ "read", 'p', cmd_read, "read N [--raw]" },
	{ "send", 'm', mail_send, "send --to A[,B] [--cc ..] [--bcc ..] [--subject S] [--reply-to A] [--attach FILE].. [--html FILE] [--sign] [--encrypt] [--smime-sign] [--smime-encrypt]" },
	{ "reply", 'r', mail_reply, "reply N [--all]" },
	{ "forward", 'f', mail_forward, "forward N --to A [--attach]" },
	{ "delete", 'd', cmd_delete, "delete N" },
	{ "move", 'v', cmd_move, "move N FOLDER" },
	{ "flag", 'F', cmd_flag, "flag N +\\Flagged|-\\Seen|+label" },
	{ "spam", 'j', cmd_spam, "spam N" },
	{ "save", 'w', cmd_save, "save N PART FILE" },
	{ "folders", 'L', cmd_folders, "folders" },
	{ "mkdir", 'M', cmd_mkdir, "mkdir FOLDER" },
	{ "rmdir", 'X', cmd_rmdir, "rmdir FOLDER" },
	{ "rename", 'N', cmd_rename, "rename FOLDER NEW-NAME" },
	{ "search", 's', cmd_search, "search WORD..." },
	{ "draft", 'D', mail_draft, "draft [--to ..] [--subject S] ... (saved to Drafts)" },
	{ "keys", 'K', mail_keys, "keys (OpenPGP keys, Autocrypt peers, S/MIME certificates)" },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

void mail_usage(FILE *out)
{
	fprintf(out, "usage: estafeta mail [COMMAND] [--folder FOLDER] ...  (no command: interactive)\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %c  %s\n", commands[i].letter, commands[i].usage);
}

/* The options that take a value (the next word). */
static const struct {
	const char *name;
	size_t offset;
} valued[] = {
	{ "--to", offsetof(struct mail_opts, to) }, { "--cc", offsetof(struct mail_opts, cc) },
	{ "--bcc", offsetof(struct mail_opts, bcc) }, { "--subject", offsetof(struct mail_opts, subject) },
	{ "--reply-to", offsetof(struct mail_opts, reply_to) }, { "--html", offsetof(struct mail_opts, html) },
	{ "--folder", offsetof(struct mail_opts, folder) }, { "-f", offsetof(struct mail_opts, folder) },
};
#define VALUED_COUNT (sizeof(valued) / sizeof(valued[0]))

static size_t valued_index(const char *word)
{
	size_t k = 0;
	while (k < VALUED_COUNT && strcmp(word, valued[k].name) != 0)
		k++;
	return k;
}

static int parse_opts(int argc, char **argv, bool attach_is_flag, struct mail_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k = valued_index(a);
		if (k < VALUED_COUNT) {
			if (i + 1 >= argc)
				return mail_fail("%s needs a value", a) + 1;
			*(const char **)((char *)o + valued[k].offset) = argv[++i];
		} else if (strcmp(a, "--attach") == 0 && attach_is_flag) {
			o->attach_original = true;
		} else if (strcmp(a, "--attach") == 0) {
			if (i + 1 >= argc)
				return mail_fail("--attach needs a file") + 1;
			strlist_add(&o->attach, argv[++i]);
		} else if (strcmp(a, "--all") == 0) {
			o->all = true;
		} else if (strcmp(a, "--raw") == 0) {
			o->raw = true;
		} else if (strcmp(a, "--sign") == 0) {
			o->sign = true;
		} else if (strcmp(a, "--encrypt") == 0) {
			o->encrypt = true;
		} else if (strcmp(a, "--smime-sign") == 0) {
			o->smime_sign = true;
		} else if (strcmp(a, "--smime-encrypt") == 0) {
			o->smime_encrypt = true;
		} else if (a[0] == '-' && a[1] == '-') {
			return mail_fail("unknown option %s", a) + 1;
		} else {
			strlist_add(&o->args, a);
		}
	}
	return 0;
}

int mail_command(struct mail_session *s, int argc, char **argv)
{
	/* Options may come before the command too ("--folder Sent list"): the command is the
	 * first word that is neither an option nor an option's value; it moves to the front. */
	int c = 0;
	while (c < argc && argv[c][0] == '-')
		c += valued_index(argv[c]) < VALUED_COUNT || strcmp(argv[c], "--attach") == 0 ? 2 : 1;
	if (c >= argc)
		return mail_fail("no command after the options (see: estafeta mail help)") + 1;
	char *word = argv[c];
	memmove(argv + 1, argv, (size_t)c * sizeof(*argv));
	argv[0] = word;
	size_t k = 0;
	while (k < COMMAND_COUNT && strcmp(argv[0], commands[k].name) != 0 &&
	       !(argv[0][0] == commands[k].letter && argv[0][1] == '\0'))
		k++;
	if (k == COMMAND_COUNT)
		return mail_fail("unknown command \"%s\" (see: estafeta mail help)", argv[0]) + 1;
	struct mail_opts o = { 0 };
	strlist_init(&o.attach);
	strlist_init(&o.args);
	int r = parse_opts(argc, argv, commands[k].fn == mail_forward, &o);
	if (r == 0)
		r = commands[k].fn(s, &o);
	strlist_free(&o.attach);
	strlist_free(&o.args);
	return r;
}

void mail_session_free(struct mail_session *s)
{
	imap_client_close(&s->imap);
	mail_account_free(&s->acct);
	free(s->folder);
	free(s->uids);
	for (int k = 0; k < 4; k++)
		free(s->roles[k]);
}
