/* Authentication-Results; see authres.h. */
#include "mail/authres.h"
#include "mail/header.h"
#include "mail/lexer.h"
#include <string.h>
#include <strings.h>

#define FOLD_WIDTH 78

/* The lines of the field being written: words join the current line while it stays within
 * FOLD_WIDTH, else they begin a new one (folding at the space before them). */
struct writer {
	buf *out;
	size_t line_start;
};

static void put_word(struct writer *w, const char *word, size_t len)
{
	if (w->out->len - w->line_start + 1 + len > FOLD_WIDTH) {
		buf_puts(w->out, "\r\n\t");
		w->line_start = w->out->len - 1; /* the tab counts as a column */
	} else {
		buf_putc(w->out, ' ');
	}
	buf_append(w->out, word, len);
}

/* Free text for a comment or a quoted string: the octets special there are escaped with a
 * backslash (ctext and qtext, RFC 5322 3.2.2 and 3.2.4), anything else outside printable
 * ASCII becomes "?". */
static void put_text(buf *b, const char *text, const char *special)
{
	for (const char *p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (strchr(special, c) != NULL)
			buf_putc(b, '\\');
		buf_putc(b, c >= 32 && c < 127 ? (char)c : '?');
	}
}

/* The words of a comment, so it folds between them, parentheses included. */
static void put_comment(struct writer *w, const char *comment)
{
	buf text;
	buf_init(&text);
	buf_putc(&text, '(');
	put_text(&text, comment, "()\\");
	buf_putc(&text, ')');
	size_t start = 0;
	for (size_t i = 0; i <= text.len; i++) {
		if (i == text.len || text.data[i] == ' ') {
			if (i > start)
				put_word(w, text.data + start, i - start);
			start = i + 1;
		}
	}
	buf_free(&text);
}

static void put_result(struct writer *w, const struct authres_result *r, bool last)
{
	buf word;
	buf_init(&word);
	buf_puts(w->out, "\r\n\t");
	w->line_start = w->out->len - 1;
	buf_printf(w->out, "%s=%s", r->method, r->result);
	if (r->comment != NULL)
		put_comment(w, r->comment);
	if (r->reason != NULL) {
		buf_puts(&word, "reason=\"");
		put_text(&word, r->reason, "\"\\");
		buf_putc(&word, '"');
		put_word(w, word.data, word.len);
	}
	for (size_t i = 0; i < r->prop_count; i++) {
		buf_clear(&word);
		buf_printf(&word, "%s.%s=%s", r->props[i].ptype, r->props[i].property,
			   r->props[i].value);
		put_word(w, word.data, word.len);
	}
	if (!last)
		buf_putc(w->out, ';');
	buf_free(&word);
}

void authres_write(buf *out, const char *authserv_id, const struct authres_result *results,
		   size_t count)
{
	struct writer w = { out, out->len };
	buf_printf(out, "Authentication-Results: %s;", authserv_id);
	if (count == 0)
		buf_puts(out, " none");
	for (size_t i = 0; i < count; i++)
		put_result(&w, &results[i], i + 1 == count);
	buf_puts(out, "\r\n");
}

bool authres_parse_id(const char *value, size_t len, buf *id, unsigned long *version)
{
	struct lexer l = { value, value + len };
	lexer_skip_cfws(&l);
	if (l.p < l.end && *l.p == '"')
		lexer_quoted(&l, id);
	else if (!lexer_token(&l, id))
		return false;
	lexer_skip_cfws(&l);
	*version = 1;
	if (l.p < l.end && *l.p >= '0' && *l.p <= '9') {
		*version = 0;
		while (l.p < l.end && *l.p >= '0' && *l.p <= '9' && *version < 1000000)
			*version = *version * 10 + (unsigned long)(*l.p++ - '0');
		lexer_skip_cfws(&l);
	}
	return l.p < l.end && *l.p == ';';
}

/* Past the rest of a resinfo: to its ending ';' (or the end), quoted strings and comments
 * skipped whole. */
static void skip_resinfo(struct lexer *l, buf *scratch)
{
	while (l->p < l->end && *l->p != ';') {
		if (*l->p == '"')
			lexer_quoted(l, scratch);
		else if (*l->p == '(' || *l->p == ' ' || *l->p == '\t' || *l->p == '\r' || *l->p == '\n')
			lexer_skip_cfws(l);
		else
			l->p++;
	}
}

bool authres_reports(const char *value, size_t len, const char *method, const char *result)
{
	buf id, word;
	buf_init(&id);
	buf_init(&word);
	unsigned long version;
	bool found = false;
	struct lexer l = { value, value + len };
	if (authres_parse_id(value, len, &id, &version))
		skip_resinfo(&l, &word);
	else
		l.p = l.end;
	while (!found && l.p < l.end) {
		l.p++; /* the ';' */
		lexer_skip_cfws(&l);
		buf_clear(&word);
		bool named = lexer_token(&l, &word) && strcasecmp(word.data, method) == 0;
		if (named && l.p < l.end && *l.p == '/') {
			l.p++;
			buf_clear(&word);
			lexer_token(&l, &word);
		}
		lexer_skip_cfws(&l);
		if (named && l.p < l.end && *l.p == '=') {
			l.p++;
			lexer_skip_cfws(&l);
			buf_clear(&word);
			found = lexer_token(&l, &word) && strcasecmp(word.data, result) == 0;
		}
		skip_resinfo(&l, &word);
	}
	buf_free(&id);
	buf_free(&word);
	return found;
}

size_t authres_remove_ours(const char *hdr, size_t len, const char *authserv_id, buf *out)
{
	size_t pos = 0, kept_to = 0, removed = 0;
	struct header_field f;
	int r;
	buf id;
	buf_init(&id);
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		if (r < 0 || f.name_len != 22 || strncasecmp(f.name, "Authentication-Results", 22) != 0)
			continue;
		unsigned long version;
		buf_clear(&id);
		bool ok = authres_parse_id(f.value, f.value_len, &id, &version);
		if (ok && version == 1 && strcasecmp(id.data, authserv_id) != 0)
			continue;
		buf_append(out, hdr + kept_to, (size_t)(f.raw - hdr) - kept_to);
		kept_to = pos;
		removed++;
	}
	buf_append(out, hdr + kept_to, len - kept_to);
	buf_free(&id);
	return removed;
}
