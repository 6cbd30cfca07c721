/* Address lists; see address_list.h.
 * address-list = (address *("," address))
 * address      = mailbox / group
 * mailbox      = name-addr / addr-spec;  name-addr = [display-name] angle-addr
 * angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
 * group        = display-name ":" [group-list] ";" [CFWS] */
#include "mail/address_list.h"
#include "mail/encoded_word.h"
#include <stdbool.h>
#include <string.h>

struct lexer {
	const char *p, *end;
};

/* Reads one token into tok: a quoted string (unquoted), an atom (dots included), or one
 * special character. Comments are skipped. Returns the special, 'a' for a word, 0 at the
 * end. */
static char next_token(struct lexer *l, buf *tok)
{
	buf_clear(tok);
	for (;;) {
		while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\r' || *l->p == '\n'))
			l->p++;
		if (l->p >= l->end)
			return 0;
		if (*l->p != '(')
			break;
		for (unsigned depth = 0; l->p < l->end; l->p++) {
			if (*l->p == '\\' && l->p + 1 < l->end)
				l->p++;
			else if (*l->p == '(')
				depth++;
			else if (*l->p == ')' && --depth == 0) {
				l->p++;
				break;
			}
		}
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

/* Reads "local@domain" up to one of the stop characters; the first word may already be in
 * local. */
static char addr_spec(struct lexer *l, buf *local, buf *domain, buf *tok, const char *stop)
{
	char t;
	while ((t = next_token(l, tok)) == 'a')
		buf_append(local, tok->data, tok->len);
	if (t == '@')
		while ((t = next_token(l, tok)) == 'a')
			buf_append(domain, tok->data, tok->len);
	while (t != 0 && strchr(stop, t) == NULL)
		t = next_token(l, tok);
	return t;
}

void address_list_walk(const char *value, size_t len, address_item_fn *fn, void *arg)
{
	struct lexer l = { value, value + len };
	buf tok, phrase, local, domain;
	buf_init(&tok);
	buf_init(&phrase);
	buf_init(&local);
	buf_init(&domain);
	bool in_group = false;
	char t = next_token(&l, &tok);
	while (t != 0) {
		buf_clear(&phrase);
		buf_clear(&local);
		buf_clear(&domain);
		while (t == 'a') {
			if (phrase.len > 0)
				buf_putc(&phrase, ' ');
			buf_append(&phrase, tok.data, tok.len);
			t = next_token(&l, &tok);
		}
		if (t == '<') {
			/* obs-route "@a,@b:" is skipped, then the addr-spec up to ">" */
			addr_spec(&l, &local, &domain, &tok, ">");
			t = next_token(&l, &tok);
			fn(ADDRESS_ITEM_MAILBOX, phrase.len > 0 ? phrase.data : NULL, local.len > 0 ? local.data : NULL,
			   domain.len > 0 ? domain.data : NULL, arg);
		} else if (t == ':' && !in_group) {
			in_group = true;
			fn(ADDRESS_ITEM_GROUP_START, phrase.len > 0 ? phrase.data : "", NULL, NULL, arg);
			t = next_token(&l, &tok);
			continue;
		} else if (t == '@') {
			/* addr-spec: the words so far were the local part, without spaces */
			for (size_t i = 0; i < phrase.len; i++)
				if (phrase.data[i] != ' ')
					buf_putc(&local, phrase.data[i]);
			while ((t = next_token(&l, &tok)) == 'a')
				buf_append(&domain, tok.data, tok.len);
			fn(ADDRESS_ITEM_MAILBOX, NULL, local.len > 0 ? local.data : NULL,
			   domain.len > 0 ? domain.data : NULL, arg);
		} else if (phrase.len > 0) {
			fn(ADDRESS_ITEM_MAILBOX, NULL, phrase.data, NULL, arg);
		}
		if (t == ';' && in_group) {
			in_group = false;
			fn(ADDRESS_ITEM_GROUP_END, NULL, NULL, NULL, arg);
		}
		if (t != 0)
			t = next_token(&l, &tok);
	}
	if (in_group)
		fn(ADDRESS_ITEM_GROUP_END, NULL, NULL, NULL, arg);
	buf_free(&tok);
	buf_free(&phrase);
	buf_free(&local);
	buf_free(&domain);
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
