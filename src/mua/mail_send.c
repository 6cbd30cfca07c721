/* Writing mail: send, draft, reply and forward. The body comes from standard input when it
 * is not a terminal (scripts), from lines typed up to a "." in the interactive mode, else
 * from $EDITOR. Every message sent is also saved to Sent. See mail.h. */
#include "mua/mail_internal.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include "mail/address_list.h"
#include "mail/header.h"
#include "mail/text.h"
#include "mua/compose.h"
#include "mua/mime_crypto.h"
#include "mua/render.h"
#include "mua/smtp_submit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int edit(const char *initial, buf *out)
{
	char path[] = "/tmp/estafeta-mail-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return mail_fail("cannot make a file to edit: %s", strerror(errno));
	fs_write_all(fd, initial, strlen(initial));
	close(fd);
	const char *editor = getenv("VISUAL") != NULL ? getenv("VISUAL") : getenv("EDITOR");
	char *cmd = xasprintf("%s '%s'", editor != NULL ? editor : "vi", path);
	int status = system(cmd);
	free(cmd);
	char *data = NULL;
	size_t len = 0;
	int r = 0;
	if (status != 0)
		r = mail_fail("the editor failed; nothing sent");
	else if (fs_read_file(path, &data, &len) < 0)
		r = mail_fail("cannot read back %s: %s", path, strerror(errno));
	else
		buf_append(out, data, len);
	free(data);
	unlink(path);
	return r;
}

/* The text the user writes; initial is what a reply quotes. */
static int read_body(struct mail_session *s, const char *initial, buf *out)
{
	if (s->interactive) {
		printf("Type the message; end it with a line holding only \".\"\n");
		fflush(stdout);
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, stdin)) > 0) {
			if (strcmp(line, ".\n") == 0 || strcmp(line, ".\r\n") == 0 || strcmp(line, ".") == 0)
				break;
			buf_append(out, line, (size_t)n);
		}
		free(line);
		buf_puts(out, initial);
		return 0;
	}
	if (!isatty(0)) {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			buf_append(out, chunk, n);
		buf_puts(out, initial);
		return 0;
	}
	int r = edit(initial, out);
	if (r == 0 && (out->len == strlen(initial) || out->len == 0))
		return mail_fail("the message is empty; nothing sent");
	return r;
}

/* Non-interactive mode asks nothing; the interactive mode asks for a missing subject. */
static char *ask(struct mail_session *s, const char *prompt)
{
	if (!s->interactive)
		return NULL;
	printf("%s: ", prompt);
	fflush(stdout);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

struct outgoing {
	struct compose c;
	struct attachment *files;
	char **file_data;
	size_t file_count;
	buf body, html, msg;
	char *message_id;
	char *subject_owned;
	char *autocrypt;
};

static void outgoing_free(struct outgoing *g)
{
	for (size_t i = 0; i < g->file_count; i++)
		free(g->file_data[i]);
	free(g->file_data);
	free(g->files);
	buf_free(&g->body);
	buf_free(&g->html);
	buf_free(&g->msg);
	free(g->message_id);
	free(g->subject_owned);
	free(g->autocrypt);
}

static int load_attachments(struct outgoing *g, const strlist *paths)
{
	g->files = xcalloc(paths->count + 1, sizeof(*g->files));
	g->file_data = xcalloc(paths->count + 1, sizeof(*g->file_data));
	for (size_t i = 0; i < paths->count; i++) {
		size_t len;
		if (fs_read_file(paths->items[i], &g->file_data[i], &len) < 0)
			return mail_fail("cannot read %s: %s", paths->items[i], strerror(errno));
		const char *slash = strrchr(paths->items[i], '/');
		g->files[i] = (struct attachment){
			.filename = slash != NULL ? slash + 1 : paths->items[i],
			.type = compose_guess_type(paths->items[i], g->file_data[i], len),
			.data = g->file_data[i],
			.len = len,
		};
		g->file_count++;
	}
	g->c.attachments = g->files;
	g->c.attachment_count = g->file_count;
	return 0;
}

/* Fills the parts every new message shares and writes it into g->msg. */
static int build(struct mail_session *s, struct mail_opts *o, struct outgoing *g, const char *quote)
{
	g->c.from_name = s->acct.name;
	g->c.from_addr = s->acct.address;
	if (o->to != NULL)
		g->c.to = o->to;
	if (o->cc != NULL)
		g->c.cc = o->cc;
	g->c.reply_to = o->reply_to;
	if (g->c.subject == NULL)
		g->c.subject = o->subject != NULL ? o->subject : (g->subject_owned = ask(s, "Subject"));
	g->c.date = time(NULL);
	g->message_id = compose_message_id(s->acct.address, g->c.date);
	g->c.message_id = g->message_id;
	if (load_attachments(g, &o->attach) != 0 || read_body(s, quote, &g->body) != 0)
		return 1;
	g->c.text = g->body.data != NULL ? g->body.data : "";
	g->c.text_len = g->body.len;
	if (o->html != NULL) {
		char *data;
		size_t len;
		if (fs_read_file(o->html, &data, &len) < 0)
			return mail_fail("cannot read %s: %s", o->html, strerror(errno));
		buf_append(&g->html, data, len);
		free(data);
		g->c.html = g->html.data;
		g->c.html_len = g->html.len;
	}
	g->c.extra_fields = g->autocrypt = mail_autocrypt_field(s);
	compose_message(&g->c, &g->msg);
	return 0;
}

/* Submits g->msg to To, Cc and Bcc, then saves it to Sent. */
static int deliver(struct mail_session *s, struct mail_opts *o, struct outgoing *g)
{
	strlist rcpts;
	strlist_init(&rcpts);
	const char *lists[] = { g->c.to, g->c.cc, o->bcc }, *bad;
	int r = 0;
	for (size_t i = 0; i < 3 && r == 0; i++)
		if (lists[i] != NULL && compose_addresses(lists[i], &rcpts, &bad) < 0)
			r = mail_fail("\"%s\" is not an address", bad);
	if (r == 0 && rcpts.count == 0)
		r = mail_fail("no recipients: give --to (or --cc, --bcc)") + 1;
	if (r == 0)
		r = mail_crypto_outgoing(s, o, &rcpts, &g->msg);
	char *error = NULL;
	if (r == 0 && (mail_account_server(&s->acct, false, &error) < 0 ||
		       mail_account_password(&s->acct, &error) < 0)) {
		r = mail_fail("%s", error);
		free(error);
	}
	if (r == 0) {
		struct smtp_account a = { s->acct.smtp.host, s->acct.smtp.port, s->acct.smtp.implicit_tls,
					  s->acct.verify, s->acct.user, s->acct.password };
		if (smtp_submit(&a, s->acct.address, (const char *const *)rcpts.items, rcpts.count,
				g->msg.data, g->msg.len, &error) < 0) {
			r = mail_fail("not sent: %s", error);
			free(error);
		}
	}
	strlist_free(&rcpts);
	if (r != 0)
		return r;
	const char *sent = mail_imap(s) == 0 ? mail_role(s, ROLE_SENT) : NULL;
	if (sent == NULL || mail_append(s, sent, "\\Seen", &g->msg) != 0)
		return mail_fail("sent, but no copy could be saved to Sent");
	return 0;
}

int mail_send(struct mail_session *s, struct mail_opts *o)
{
	struct outgoing g = { 0 };
	char *to_owned = NULL;
	if (o->to == NULL && o->args.count > 0) {
		/* the interactive "m alice@example.org" */
		buf to;
		buf_init(&to);
		for (size_t i = 0; i < o->args.count; i++)
			buf_printf(&to, "%s%s", i > 0 ? ", " : "", o->args.items[i]);
		o->to = to_owned = buf_steal(&to);
	}
	if (o->to == NULL && o->cc == NULL && o->bcc == NULL) {
		free(to_owned);
		return mail_fail("usage: send --to ADDRESS[,ADDRESS] [--cc ..] [--bcc ..] [--subject S] "
				 "[--reply-to A] [--attach FILE].. [--html FILE]") + 1;
	}
	int r = build(s, o, &g, "");
	if (r == 0)
		r = deliver(s, o, &g);
	outgoing_free(&g);
	free(to_owned);
	return r;
}

int mail_draft(struct mail_session *s, struct mail_opts *o)
{
	struct outgoing g = { 0 };
	int r = build(s, o, &g, "");
	const char *drafts = r == 0 && mail_imap(s) == 0 ? mail_role(s, ROLE_DRAFTS) : NULL;
	if (r == 0 && (drafts == NULL || mail_append(s, drafts, "\\Draft \\Seen", &g.msg) != 0))
		r = 1;
	if (r == 0)
		printf("saved to %s\n", drafts);
	outgoing_free(&g);
	return r;
}

/* ---- replies and forwards ---- */

struct original {
	uint32_t uid;
	buf msg;
};

static int load_original(struct mail_session *s, struct mail_opts *o, const char *usage,
			 struct original *orig)
{
	buf_init(&orig->msg);
	if (o->args.count != 1)
		return mail_fail("usage: %s", usage) + 1;
	if ((s->folder == NULL || o->folder != NULL) && mail_select(s, o->folder) != 0)
		return 1;
	if (mail_uid(s, o->args.items[0], &orig->uid) != 0 || mail_fetch(s, orig->uid, true, &orig->msg) != 0)
		return 1;
	/* what was encrypted is quoted or forwarded decrypted, so it goes out encrypted again */
	buf view, status;
	buf_init(&view);
	buf_init(&status);
	unsigned found = mail_crypto_read(s, orig->msg.data, orig->msg.len, &view, &status);
	o->encrypt |= (found & CRYPTO_ENCRYPT) != 0;
	o->smime_encrypt |= (found & CRYPTO_SMIME_ENCRYPT) != 0;
	buf_free(&orig->msg);
	orig->msg = view;
	buf_free(&status);
	return 0;
}

static char *header_of(const struct original *orig, const char *name)
{
	buf v;
	buf_init(&v);
	size_t end = header_end(orig->msg.data, orig->msg.len);
	if (!header_get(orig->msg.data, end > 0 ? end : orig->msg.len, name, &v)) {
		buf_free(&v);
		return NULL;
	}
	return buf_steal(&v);
}

/* "Re: " or "Fwd: " once: a subject that has it already keeps it as it is. */
static char *prefixed_subject(const struct original *orig, const char *prefix)
{
	buf subject;
	buf_init(&subject);
	render_header(orig->msg.data, orig->msg.len, "Subject", &subject);
	const char *s = subject.data != NULL ? subject.data : "";
	char *out = strncasecmp(s, prefix, strlen(prefix)) == 0 ? xstrdup(s) : xasprintf("%s %s", prefix, s);
	buf_free(&subject);
	return out;
}

struct recipients_filter {
	const char *self;
	strlist *seen;
	buf *out;
};

/* Adds the mailboxes of a list to out ("Name" <addr>, ...), without self and without those
 * already there. */
static void add_item(const struct address_item *it, void *arg)
{
	struct recipients_filter *f = arg;
	const char *name = it->name, *local = it->local, *domain = it->domain;
	if (it->kind != ADDRESS_ITEM_MAILBOX || local == NULL || domain == NULL)
		return;
	char *addr = xasprintf("%s@%s", local, domain);
	if (strcasecmp(addr, f->self) != 0 && strlist_add_unique(f->seen, addr)) {
		if (f->out->len > 0)
			buf_puts(f->out, ", ");
		if (name != NULL) {
			buf decoded;
			buf_init(&decoded);
			text_header_value(name, strlen(name), &decoded);
			buf_putc(f->out, '"');
			for (const char *p = decoded.data != NULL ? decoded.data : ""; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_putc(f->out, '\\');
				buf_putc(f->out, *p);
			}
			buf_printf(f->out, "\" <%s>", addr);
			buf_free(&decoded);
		} else {
			buf_puts(f->out, addr);
		}
	}
	free(addr);
}

static void add_list(struct recipients_filter *f, const char *list)
{
	if (list != NULL)
		address_list_walk(list, strlen(list), add_item, f);
}

/* "On DATE, NAME wrote:" and the text with "> " before each line. */
static char *quoted(const struct original *orig)
{
	buf text, out, from;
	buf_init(&text);
	buf_init(&out);
	buf_init(&from);
	render_body_text(orig->msg.data, orig->msg.len, &text);
	render_header(orig->msg.data, orig->msg.len, "From", &from);
	char *date = header_of(orig, "Date");
	buf_printf(&out, "\nOn %s, %s wrote:\n", date != NULL ? date : "an unknown date",
		   from.data != NULL ? from.data : "someone");
	const char *p = text.data != NULL ? text.data : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		buf_printf(&out, ">%s%.*s\n", n > 0 && p[0] != '>' ? " " : "", (int)n, p);
		p += n + (nl != NULL);
	}
	free(date);
	buf_free(&text);
	buf_free(&from);
	return buf_steal(&out);
}

int mail_reply(struct mail_session *s, struct mail_opts *o)
{
	struct original orig;
	int r = load_original(s, o, "reply N [--all]", &orig);
	struct outgoing g = { 0 };
	char *reply_to = NULL, *from = NULL, *to = NULL, *cc = NULL, *msgid = NULL, *refs = NULL;
	char *references = NULL, *subject = NULL, *quote = NULL;
	buf to_list, cc_list;
	buf_init(&to_list);
	buf_init(&cc_list);
	if (r == 0) {
		reply_to = header_of(&orig, "Reply-To");
		from = header_of(&orig, "From");
		to = header_of(&orig, "To");
		cc = header_of(&orig, "Cc");
		msgid = header_of(&orig, "Message-ID");
		refs = header_of(&orig, "References");
		strlist seen;
		strlist_init(&seen);
		/* the author */
		struct recipients_filter f = { "", &seen, &to_list };
		add_list(&f, from);
		bool own = seen.count == 1 && strcasecmp(seen.items[0], s->acct.address) == 0;
		buf_clear(&to_list);
		strlist_free(&seen);
		strlist_init(&seen);
		if (own) {
			/* a reply to one's own message (from Sent) goes to its recipients, as mutt does:
			 * To, or Cc when it had no To */
			f.self = s->acct.address;
			add_list(&f, to);
			if (to_list.len == 0)
				add_list(&f, cc);
		} else {
			add_list(&f, reply_to != NULL ? reply_to : from);
		}
		if (o->all) {
			f.self = s->acct.address;
			f.out = &cc_list;
			add_list(&f, to);
			add_list(&f, cc);
		}
		strlist_free(&seen);
		if (o->to == NULL && to_list.len > 0)
			o->to = to_list.data;
		if (o->cc == NULL && cc_list.len > 0)
			o->cc = cc_list.data;
		subject = prefixed_subject(&orig, "Re:");
		g.c.subject = o->subject != NULL ? o->subject : subject;
		if (msgid != NULL) {
			g.c.in_reply_to = msgid;
			references = refs != NULL ? xasprintf("%s %s", refs, msgid) : xstrdup(msgid);
			g.c.references = references;
		}
		quote = quoted(&orig);
		if (o->to != NULL)
			r = 0;
		else if (own)
			r = mail_fail("message %s is your own and names no one else in To or Cc (Bcc is "
				      "not kept): say whom with --to", o->args.items[0]);
		else
			r = mail_fail("the message has no From or Reply-To to answer");
	}
	if (r == 0)
		r = build(s, o, &g, quote);
	if (r == 0)
		r = deliver(s, o, &g);
	if (r == 0)
		mail_store_flags(s, orig.uid, "+\\Answered");
	outgoing_free(&g);
	buf_free(&orig.msg);
	buf_free(&to_list);
	buf_free(&cc_list);
	free(reply_to), free(from), free(to), free(cc), free(msgid), free(refs);
	free(references), free(subject), free(quote);
	return r;
}

/* Inline: the original's main headers and text below the user's; with --attach the whole
 * message as message/rfc822. */
int mail_forward(struct mail_session *s, struct mail_opts *o)
{
	if (o->to == NULL)
		return mail_fail("usage: forward N --to ADDRESS [--attach]") + 1;
	struct original orig;
	int r = load_original(s, o, "forward N --to ADDRESS [--attach]", &orig);
	struct outgoing g = { 0 };
	char *subject = NULL;
	buf inline_text;
	buf_init(&inline_text);
	if (r == 0) {
		subject = prefixed_subject(&orig, "Fwd:");
		g.c.subject = o->subject != NULL ? o->subject : subject;
		if (o->attach_original) {
			g.c.forwarded = orig.msg.data;
			g.c.forwarded_len = orig.msg.len;
		} else {
			static const char *const shown[] = { "From", "Date", "Subject", "To", "Cc" };
			buf_puts(&inline_text, "\n---------- Forwarded message ----------\n");
			for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
				buf v;
				buf_init(&v);
				if (render_header(orig.msg.data, orig.msg.len, shown[i], &v))
					buf_printf(&inline_text, "%s: %s\n", shown[i], v.data != NULL ? v.data : "");
				buf_free(&v);
			}
			buf_putc(&inline_text, '\n');
			render_body_text(orig.msg.data, orig.msg.len, &inline_text);
		}
		r = build(s, o, &g, inline_text.data != NULL ? inline_text.data : "");
	}
	if (r == 0)
		r = deliver(s, o, &g);
	if (r == 0)
		mail_store_flags(s, orig.uid, "+$Forwarded");
	outgoing_free(&g);
	buf_free(&orig.msg);
	buf_free(&inline_text);
	free(subject);
	return r;
}
