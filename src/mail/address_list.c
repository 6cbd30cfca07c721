/* Address lists; see address_list.h.
 * address-list = (address *("," address))
 * address      = mailbox / group
 * mailbox      = name-addr / addr-spec;  name-addr = [display-name] angle-addr
 * angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
 * group        = display-name ":" [group-list] ";" [CFWS] */
#include "mail/address_list.h"
#include "mail/encoded_word.h"
#include "mail/header.h"
#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct lexer {
	const char *p, *end;
	buf comment; /* the last comment skipped before the token next_token returned */
};

/* Skips the comment at l->p, keeping its text (without the outer parentheses and quoting)
 * in l->comment. */
static void skip_comment(struct lexer *l)
{
	buf_clear(&l->comment);
	for (unsigned depth = 0; l->p < l->end; l->p++) {
		if (*l->p == '\\' && l->p + 1 < l->end) {
			buf_putc(&l->comment, *++l->p);
			continue;
		}
		if (*l->p == ')' && --depth == 0) {
			l->p++;
			break;
		}
		if (*l->p == '(' && depth++ == 0)
			continue;
		buf_putc(&l->comment, *l->p);
	}
}

/* Reads one token into tok: a quoted string (unquoted), an atom (dots included), or one
 * special character. Comments are skipped. Returns the special, 'a' for a word, 0 at the
 * end. */
static char next_token(struct lexer *l, buf *tok)
{
	buf_clear(tok);
	buf_clear(&l->comment);
	for (;;) {
		while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\r' || *l->p == '\n'))
			l->p++;
		if (l->p >= l->end)
			return 0;
		if (*l->p != '(')
			break;
		skip_comment(l);
	}
	char c = *l->p;
	if (c == '"') {
		for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
			if (*l->p == '\\' && l->p + 1 < l->end)
				l->p++;
			buf_putc(tok, *l->p);
		}
		l->p += l->p < l->end;
		return 'a';
	}
	if (strchr("<>:;,@", c) != NULL) {
		l->p++;
		return c;
	}
	while (l->p < l->end && strchr("<>:;,@\"( \t\r\n", *l->p) == NULL)
		buf_putc(tok, *l->p++);
	return 'a';
}

static void emit(address_item_fn *fn, void *arg, enum address_item_kind kind, const buf *name,
		 const buf *route, const buf *local, const buf *domain)
{
	struct address_item it = {
		.kind = kind,
		.name = name != NULL && name->len > 0 ? name->data : NULL,
		.route = route != NULL && route->len > 0 ? route->data : NULL,
		.local = local != NULL && local->len > 0 ? local->data : NULL,
		.domain = domain != NULL && domain->len > 0 ? domain->data : NULL,
	};
	fn(&it, arg);
}

/* angle-addr after "<": [obs-route] addr-spec ">", where obs-route = "@" domain *("," ["@"
 * domain]) ":". Returns the token after ">". */
static char angle_addr(struct lexer *l, buf *route, buf *local, buf *domain, buf *tok)
{
	char t = next_token(l, tok);
	if (t == '@') {
		for (;;) {
			buf_putc(route, '@');
			while ((t = next_token(l, tok)) == 'a')
				buf_append(route, tok->data, tok->len);
			if (t == ',') {
				t = next_token(l, tok);
				if (t == '@') {
					buf_putc(route, ',');
					continue;
				}
			}
			break;
		}
		if (t == ':')
			t = next_token(l, tok);
	}
	for (; t == 'a'; t = next_token(l, tok))
		buf_append(local, tok->data, tok->len);
	if (t == '@')
		while ((t = next_token(l, tok)) == 'a')
			buf_append(domain, tok->data, tok->len);
	while (t != 0 && t != '>')
		t = next_token(l, tok);
	return t != 0 ? next_token(l, tok) : 0;
}

void address_list_walk(const char *value, size_t len, address_item_fn *fn, void *arg)
{
	struct lexer l = { .p = value, .end = value + len };
	buf_init(&l.comment);
	buf tok, phrase, words, route, local, domain;
	buf_init(&tok);
	buf_init(&phrase);
	buf_init(&words);
	buf_init(&route);
	buf_init(&local);
	buf_init(&domain);
	bool in_group = false;
	char t = next_token(&l, &tok);
	while (t != 0) {
		buf_clear(&phrase);
		buf_clear(&words);
		buf_clear(&route);
		buf_clear(&local);
		buf_clear(&domain);
		/* the words: a display name (spaces between) or a local part (as written) */
		while (t == 'a') {
			if (phrase.len > 0)
				buf_putc(&phrase, ' ');
			buf_append(&phrase, tok.data, tok.len);
			buf_append(&words, tok.data, tok.len);
			t = next_token(&l, &tok);
		}
		if (t == '<') {
			t = angle_addr(&l, &route, &local, &domain, &tok);
			emit(fn, arg, ADDRESS_ITEM_MAILBOX, &phrase, &route, &local, &domain);
		} else if (t == ':' && !in_group) {
			in_group = true;
			struct address_item it = { ADDRESS_ITEM_GROUP_START, phrase.len > 0 ? phrase.data : "",
						   NULL, NULL, NULL };
			fn(&it, arg);
			t = next_token(&l, &tok);
			continue;
		} else if (t == '@') {
			while ((t = next_token(&l, &tok)) == 'a')
				buf_append(&domain, tok.data, tok.len);
			/* "user@domain (Real Name)": the comment after an addr-spec is the name every
			 * reader shows (the RFC 822 habit; Dovecot's ENVELOPE gives it too) */
			emit(fn, arg, ADDRESS_ITEM_MAILBOX, &l.comment, NULL, &words, &domain);
		} else if (phrase.len > 0) {
			emit(fn, arg, ADDRESS_ITEM_MAILBOX, NULL, NULL, &phrase, NULL);
		}
		if (t == ';' && in_group) {
			in_group = false;
			emit(fn, arg, ADDRESS_ITEM_GROUP_END, NULL, NULL, NULL, NULL);
		}
		if (t != 0 && t != '<' && t != 'a')
			t = next_token(&l, &tok);
	}
	if (in_group)
		emit(fn, arg, ADDRESS_ITEM_GROUP_END, NULL, NULL, NULL, NULL);
	buf_free(&l.comment);
	buf_free(&tok);
	buf_free(&phrase);
	buf_free(&words);
	buf_free(&route);
	buf_free(&local);
	buf_free(&domain);
}

static void add_author(const struct address_item *it, void *arg)
{
	if (it->kind != ADDRESS_ITEM_MAILBOX || it->local == NULL)
		return;
	buf a;
	buf_init(&a);
	buf_printf(&a, "%s%s%s", it->local, it->domain != NULL ? "@" : "",
		   it->domain != NULL ? it->domain : "");
	strlist_add_unique(arg, a.data);
	buf_free(&a);
}

void address_list_authors(const char *hdr, size_t len, strlist *out)
{
	size_t pos = 0;
	struct header_field f;
	int r;
	while ((r = header_next(hdr, len, &pos, &f)) != 0) {
		bool author = r > 0 && ((f.name_len == 4 && strncasecmp(f.name, "From", 4) == 0) ||
					(f.name_len == 6 && strncasecmp(f.name, "Sender", 6) == 0));
		if (author)
			address_list_walk(f.value, f.value_len, add_author, out);
	}
}

/* RFC 5322 3.2.3: an atom may not hold these, so a name with one goes in quotes. */
static bool needs_quotes(const char *s)
{
	return s[strcspn(s, "()<>[]:;@\\,.\"")] != '\0';
}

void address_write_mailbox(buf *out, const char *name, const char *addr)
{
	if (name == NULL || name[0] == '\0') {
		buf_puts(out, addr);
		return;
	}
	if (encoded_word_needed(name, strlen(name))) {
		encoded_word_write(out, name, strlen(name), strlen("Reply-To: "));
	} else if (needs_quotes(name)) {
		buf_putc(out, '"');
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p);
		}
		buf_putc(out, '"');
	} else {
		buf_puts(out, name);
	}
	buf_printf(out, " <%s>", addr);
}
