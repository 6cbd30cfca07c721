/* IMAP response values; see imap_reply.h. */
#include "mua/imap_reply.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct reader {
	const char *p, *end;
};

static struct imap_value *push(struct imap_value *list)
{
	list->items = xrealloc(list->items, (list->count + 1) * sizeof(*list->items));
	struct imap_value *v = &list->items[list->count++];
	memset(v, 0, sizeof(*v));
	return v;
}

static void set_data(struct imap_value *v, enum imap_value_kind kind, const char *s, size_t len)
{
	v->kind = kind;
	v->data = xmalloc(len + 1);
	memcpy(v->data, s, len);
	v->data[len] = '\0';
	v->len = len;
}

static int parse_list(struct reader *r, struct imap_value *list, unsigned depth, char close);

/* An atom runs to a space or a parenthesis; brackets inside it (a section) may hold both. */
static int parse_atom(struct reader *r, struct imap_value *v)
{
	const char *start = r->p;
	unsigned brackets = 0;
	while (r->p < r->end) {
		char c = *r->p;
		if (c == '[')
			brackets++;
		else if (c == ']' && brackets > 0)
			brackets--;
		else if (brackets == 0 && (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n'))
			break;
		r->p++;
	}
	if (brackets > 0)
		return -1;
	if (r->p - start == 3 && strncasecmp(start, "NIL", 3) == 0)
		v->kind = IMAP_NIL;
	else
		set_data(v, IMAP_ATOM, start, (size_t)(r->p - start));
	return 0;
}

static int parse_quoted(struct reader *r, struct imap_value *v)
{
	char *out = xmalloc((size_t)(r->end - r->p) + 1);
	size_t n = 0;
	for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
		if (*r->p == '\\' && r->p + 1 < r->end)
			r->p++;
		out[n++] = *r->p;
	}
	if (r->p >= r->end) {
		free(out);
		return -1;
	}
	r->p++;
	set_data(v, IMAP_STRING, out, n);
	free(out);
	return 0;
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8 */
static int parse_literal(struct reader *r, struct imap_value *v)
{
	const char *p = r->p + 1;
	size_t n = 0;
	if (p >= r->end || *p < '0' || *p > '9')
		return -1;
	while (p < r->end && *p >= '0' && *p <= '9') {
		if (n > (size_t)(r->end - r->p))
			return -1;
		n = n * 10 + (size_t)(*p++ - '0');
	}
	if (p < r->end && *p == '+')
		p++;
	if (r->end - p < 3 || memcmp(p, "}\r\n", 3) != 0)
		return -1;
	p += 3;
	if ((size_t)(r->end - p) < n)
		return -1;
	set_data(v, IMAP_STRING, p, n);
	r->p = p + n;
	return 0;
}

static int parse_list(struct reader *r, struct imap_value *list, unsigned depth, char close)
{
	list->kind = IMAP_LIST;
	if (depth > IMAP_REPLY_MAX_DEPTH)
		return -1;
	for (;;) {
		while (r->p < r->end && (*r->p == ' ' || *r->p == '\r' || *r->p == '\n'))
			r->p++;
		if (r->p >= r->end)
			return close == 0 ? 0 : -1;
		char c = *r->p;
		if (c == ')') {
			if (close != ')')
				return -1;
			r->p++;
			return 0;
		}
		struct imap_value *v = push(list);
		int status;
		if (c == '(') {
			r->p++;
			status = parse_list(r, v, depth + 1, ')');
		} else if (c == '"') {
			status = parse_quoted(r, v);
		} else if (c == '{') {
			status = parse_literal(r, v);
		} else {
			status = parse_atom(r, v);
		}
		if (status < 0)
			return -1;
	}
}

int imap_reply_parse(const char *text, size_t len, struct imap_value *top)
{
	memset(top, 0, sizeof(*top));
	struct reader r = { text, text + len };
	return parse_list(&r, top, 0, 0);
}

void imap_value_free(struct imap_value *v)
{
	for (size_t i = 0; i < v->count; i++)
		imap_value_free(&v->items[i]);
	free(v->items);
	free(v->data);
	memset(v, 0, sizeof(*v));
}

bool imap_value_is(const struct imap_value *v, const char *atom)
{
	return v != NULL && v->kind == IMAP_ATOM && strcasecmp(v->data, atom) == 0;
}

const struct imap_value *imap_value_get(const struct imap_value *list, const char *name)
{
	if (list == NULL || list->kind != IMAP_LIST)
		return NULL;
	for (size_t i = 0; i + 1 < list->count; i += 2)
		if (imap_value_is(&list->items[i], name))
			return &list->items[i + 1];
	return NULL;
}

const char *imap_value_str(const struct imap_value *v)
{
	return v != NULL && (v->kind == IMAP_ATOM || v->kind == IMAP_STRING) ? v->data : "";
}
