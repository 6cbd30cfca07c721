/* The lexer of structured field values; see lexer.h. */
#include "mail/lexer.h"
#include <string.h>

static bool is_tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

bool lexer_is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
		return u > 32 && u != 127 && !is_tspecial(c);
}

void lexer_skip_cfws(struct lexer *l)
{
	unsigned nesting = 0;
	while (l->p < l->end) {
		char c = *l->p;
		if (nesting > 0 && c == '\\' && l->p + 1 < l->end) {
			l->p += 2;
			continue;
		}
		if (c == '(')
			nesting++;
		else if (c == ')' && nesting > 0)
			nesting--;
		else if (nesting == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return;
		l->p++;
	}
}

bool lexer_token(struct lexer *l, buf *out)
{
	const char *start = l->p;
	while (l->p < l->end && lexer_is_token_char(*l->p))
		l->p++;
	buf_append(out, start, (size_t)(l->p - start));
	return l->p > start;
}

void lexer_quoted(struct lexer *l, buf *out)
{
	l->p++;
	while (l->p < l->end && *l->p != '"') {
		if (*l->p == '\\' && l->p + 1 < l->end)
			l->p++;
		if (*l->p != '\r' && *l->p != '\n')
			buf_putc(out, *l->p);
		l->p++;
	}
	if (l->p < l->end)
		l->p++;
}

bool lexer_value(struct lexer *l, buf *out)
{
	if (l->p < l->end && *l->p == '"') {
		lexer_quoted(l, out);
		return true;
	}
	const char *start = l->p;
	while (l->p < l->end && *l->p != ';' && (unsigned char)*l->p > 32 && *l->p != 127)
		l->p++;
	buf_append(out, start, (size_t)(l->p - start));
	return l->p > start;
}
