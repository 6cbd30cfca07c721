/* IMAP command framing and parsing; see imap_parse.h. Written by hand: the grammar is IMAP's
 * own (literals inside lines, fetch attributes with brackets) and no C library offers a
 * server-side parser of it. */
#include "imap/imap_parse.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- framing ---- */

void imap_frame_init(struct imap_frame *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->cmd);
}

void imap_frame_free(struct imap_frame *f)
{
	buf_free(&f->cmd);
}

void imap_frame_reset(struct imap_frame *f)
{
	buf_clear(&f->cmd);
	f->line_start = 0;
	f->literal_left = 0;
	f->literal_sync = false;
	f->streaming = false;
	f->streamed_at = 0;
	f->skipping = false;
	f->tail_len = 0;
	f->tail_cut = false;
}

void imap_frame_literal_taken(struct imap_frame *f, size_t n)
{
	f->literal_left -= n;
	if (f->literal_left == 0) {
		f->streaming = false;
		f->line_start = f->cmd.len;
	}
}

void imap_frame_skip_literal(struct imap_frame *f)
{
	f->streaming = false;
	f->skipping = true;
}

bool imap_frame_in_line(const struct imap_frame *f)
{
	return f->literal_left == 0 && (f->skipping || f->cmd.len > f->line_start);
}

bool imap_frame_is_command(const struct imap_frame *f, const char *name)
{
	const char *p = f->cmd.data, *end = p + f->cmd.len;
	size_t n = strlen(name);
	while (p < end && *p != ' ' && *p != '\r' && *p != '\n')
		p++;
	if (p == f->cmd.data || p >= end || *p++ != ' ')
		return false;
	return (size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ' ';
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8   (RFC 3501 9, RFC 7888 8)
 * Looks at the end of the line line[0..len) (its line end removed; when cut, only the line's
 * last octets). Returns 1 with the size and whether it is synchronizing, 0 when the line ends
 * in no literal, -1 when the number is too big to be one (over 2^63), or may be (cut). */
static int literal_at_end(const char *line, size_t len, bool cut, uint64_t *size_r, bool *sync_r)
{
	if (len < 3 || line[len - 1] != '}')
		return 0;
	size_t end = len - 1;
	*sync_r = true;
	if (line[end - 1] == '+') {
		*sync_r = false;
		end--;
	}
	size_t start = end;
	while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
		start--;
	if (start == 0 && cut && start != end)
		return -1; /* digits up to where what is known of the line starts */
	if (start == end || start == 0 || line[start - 1] != '{')
		return 0;
	if (end - start > 18)
		return -1;
	uint64_t n = 0;
	for (size_t i = start; i < end; i++)
		n = n * 10 + (uint64_t)(line[i] - '0');
	*size_r = n;
	return 1;
}

/* Keeps the last octets of the line being skipped, where a literal may be announced. */
static void tail_add(struct imap_frame *f, const char *data, size_t n)
{
	size_t room = sizeof(f->tail);
	if (n >= room) {
		memcpy(f->tail, data + n - room, room);
		f->tail_cut |= f->tail_len > 0 || n > room;
		f->tail_len = room;
		return;
	}
	if (f->tail_len + n > room) {
		size_t drop = f->tail_len + n - room;
		memmove(f->tail, f->tail + drop, f->tail_len - drop);
		f->tail_len -= drop;
		f->tail_cut = true;
	}
	memcpy(f->tail + f->tail_len, data, n);
	f->tail_len += n;
}

/* A line over a bound: what fits of it stays (the tag), the rest of the command is skipped. */
static void start_skipping(struct imap_frame *f, const char *data, size_t keep)
{
	buf_append(&f->cmd, data, keep);
	f->skipping = true;
	f->tail_len = 0;
	f->tail_cut = false;
	tail_add(f, f->cmd.data + f->line_start, f->cmd.len - f->line_start);
}

/* The end of a line being skipped: the command goes on only past a non-synchronizing
 * literal, whose octets are skipped too. A synchronizing one gets no "+ ", so the client
 * gives the command up. */
static enum imap_frame_result skipped_line_end(struct imap_frame *f, const struct imap_limits *lim)
{
	size_t n = f->tail_len;
	if (n > 0 && f->tail[n - 1] == '\r')
		n--;
	uint64_t size;
	bool sync;
	int lit = literal_at_end(f->tail, n, f->tail_cut, &size, &sync);
	f->tail_len = 0;
	f->tail_cut = false;
	if (lit == 0 || sync)
		return IMAP_FRAME_TOOLONG;
	if (lit < 0 || size > lim->max_literal)
		return IMAP_FRAME_FATAL;
	f->literal_left = size;
	return IMAP_FRAME_MORE;
}

enum imap_frame_result imap_frame_feed(struct imap_frame *f, const struct imap_limits *lim,
				       const char *data, size_t len, size_t *used_r)
{
	size_t used = 0;
	enum imap_frame_result r = f->streaming ? IMAP_FRAME_LITERAL : IMAP_FRAME_MORE;
	while (used < len && r == IMAP_FRAME_MORE) {
		if (f->literal_left > 0) {
			size_t n = len - used;
			if (n > f->literal_left)
				n = (size_t)f->literal_left;
			if (!f->skipping)
				buf_append(&f->cmd, data + used, n);
			used += n;
			f->literal_left -= n;
			if (f->literal_left == 0)
				f->line_start = f->cmd.len;
			continue;
		}
		const char *lf = memchr(data + used, '\n', len - used);
		size_t n = lf != NULL ? (size_t)(lf - (data + used)) + 1 : len - used;
		if (f->skipping) {
			tail_add(f, data + used, lf != NULL ? n - 1 : n);
			used += n;
			if (lf != NULL)
				r = skipped_line_end(f, lim);
			continue;
		}
		/* a line of max_line octets plus its CRLF; the bounds may have shrunk meanwhile
		 * (a reload), below what is framed */
		size_t line_len = f->cmd.len - f->line_start;
		size_t line_room = line_len < lim->max_line + 2 ? lim->max_line + 2 - line_len : 0;
		size_t command_room = f->cmd.len < lim->max_command ? lim->max_command - f->cmd.len : 0;
		if (n > line_room || n > command_room) {
			size_t keep = line_room < command_room ? line_room : command_room;
			start_skipping(f, data + used, keep);
			used += keep;
			continue;
		}
		buf_append(&f->cmd, data + used, n);
		used += n;
		if (lf == NULL)
			break;
		const char *line = f->cmd.data + f->line_start;
		size_t text = f->cmd.len - f->line_start - 1;
		if (text > 0 && line[text - 1] == '\r')
			text--;
		uint64_t size;
		bool sync;
		int lit = literal_at_end(line, text, false, &size, &sync);
		if (lit == 0) {
			r = IMAP_FRAME_DONE;
		} else if (lit < 0 || size > lim->max_literal) {
			/* RFC 7888 4: a non-synchronizing literal that big is not worth skipping. */
			r = sync ? IMAP_FRAME_REFUSED : IMAP_FRAME_FATAL;
		} else if (size > lim->max_inline ? f->streamed_at != 0 /* one per command */
						  : f->cmd.len + size > lim->max_command) {
			if (sync) {
				r = IMAP_FRAME_REFUSED;
			} else {
				f->skipping = true;
				f->literal_left = size;
			}
		} else {
			f->literal_left = size;
			f->literal_sync = sync;
			f->line_start = f->cmd.len;
			if (size > lim->max_inline) {
				f->streaming = true;
				f->streamed_at = f->cmd.len;
				r = IMAP_FRAME_LITERAL;
			} else if (sync) {
				r = IMAP_FRAME_CONTINUE;
			}
		}
	}
	*used_r = used;
	return r;
}

/* ---- parsing ---- */

struct parser {
	const char *p, *end;
	const struct imap_limits *lim;
	size_t args;
	const char *error;
	const char *streamed_at; /* where the octets of the literal the caller took would be */
	uint64_t streamed_len;   /* its size, once parse_literal met it */
};

/* atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials /
 *                 resp-specials
 * Atoms here also take "]" (ASTRING-CHAR), "%" and "*" (LIST patterns, sequence sets): the
 * command handlers check what each argument may be. */
static bool is_atom_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 32 && u < 127 && strchr("(){\"\\", c) == NULL;
}

static bool is_eol(const struct parser *ps)
{
	return ps->p >= ps->end || *ps->p == '\r' || *ps->p == '\n';
}

static bool fail(struct parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return false;
}

static struct imap_arg *new_arg(struct parser *ps, struct imap_arg **list, size_t *count,
				enum imap_arg_type type)
{
	if (ps->args >= ps->lim->max_args) {
		fail(ps, "Too many arguments");
		return NULL;
	}
	ps->args++;
	*list = xrealloc(*list, (*count + 1) * sizeof(**list));
	struct imap_arg *a = &(*list)[(*count)++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	return a;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> /
 * "\" quoted-specials. Octets above 127 are let through for UTF8=ACCEPT (RFC 6855). */
static bool parse_quoted(struct parser *ps, buf *out)
{
	ps->p++;
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;
		if (c == '"') {
			ps->p++;
			return true;
		}
		if (c == '\r' || c == '\n' || c == '\0')
			break;
		if (c == '\\') {
			if (ps->p + 1 >= ps->end || (ps->p[1] != '"' && ps->p[1] != '\\'))
				return fail(ps, "Bad escape in quoted string");
			c = *++ps->p;
		}
		buf_putc(out, c);
	}
	return fail(ps, "Unterminated quoted string");
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8. The framing has made sure the octets are there,
 * or, for the one the caller took, that they are counted: with may_stream it leaves them to
 * the caller and sets streamed_len. */
static bool parse_literal(struct parser *ps, buf *out, bool may_stream)
{
	ps->p++;
	uint64_t n = 0;
	const char *digits = ps->p;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && ps->p - digits < 19)
		n = n * 10 + (uint64_t)(*ps->p++ - '0');
	if (ps->p == digits)
		return fail(ps, "Bad literal");
	if (ps->p < ps->end && *ps->p == '+')
		ps->p++;
	if (ps->p >= ps->end || *ps->p != '}')
		return fail(ps, "Bad literal");
	ps->p++;
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p >= ps->end || *ps->p != '\n')
		return fail(ps, "Literal must end its line");
	ps->p++;
	if (ps->p == ps->streamed_at) {
		if (!may_stream)
			return fail(ps, "Literal too big");
		ps->streamed_len = n;
		return true;
	}
	if ((uint64_t)(ps->end - ps->p) < n)
		return fail(ps, "Literal shorter than announced");
	buf_append(out, ps->p, (size_t)n);
	ps->p += n;
	return true;
}

/* The fetch attributes that take a section. Anywhere else "[" is an ordinary ATOM-CHAR: a
 * keyword such as "[Label" is a valid flag. */
static bool takes_section(const char *name, size_t len)
{
	static const char *const names[] = { "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK",
					     "BINARY.SIZE" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* section = "[" [section-spec] "]", copied to out with its spaces and parentheses. The
 * header-fld-names of HEADER.FIELDS are astrings: quoted ones and literals are passed on as
 * quoted strings, so the section parser sees one form whatever the client sent. */
static bool parse_section(struct parser *ps, buf *out)
{
	buf_putc(out, *ps->p++);
	buf name;
	buf_init(&name);
	bool ok = true;
	while (ok && ps->p < ps->end && *ps->p != ']' && *ps->p != '\r' && *ps->p != '\n') {
		if (*ps->p != '"' && *ps->p != '{') {
			buf_putc(out, *ps->p++);
			continue;
		}
		buf_clear(&name);
		ok = *ps->p == '"' ? parse_quoted(ps, &name) : parse_literal(ps, &name, false);
		/* field-name = 1*ftext, ftext = %d33-57 / %d59-126 (RFC 5322 3.6.8), less the two
		 * octets a quoted string would have to escape */
		for (size_t i = 0; ok && i < name.len; i++) {
			unsigned char c = (unsigned char)name.data[i];
			if (c < 33 || c > 126 || c == ':' || c == '"' || c == '\\')
				ok = fail(ps, "Bad header field name in section");
		}
		if (ok) {
			buf_putc(out, '"');
			buf_append(out, name.data, name.len);
			buf_putc(out, '"');
		}
	}
	buf_free(&name);
	if (ok && (ps->p >= ps->end || *ps->p != ']'))
		ok = fail(ps, "Missing ] in section");
	if (ok)
		buf_putc(out, *ps->p++);
	return ok;
}

/* An atom, with two extensions from the fetch and flag grammar:
 *   flag    = "\Answered" / ... / flag-keyword / flag-extension ; a leading "\" (and "\*")
 *   section = after BODY, BODY.PEEK and the BINARY forms, "[" ... "]" with whatever it holds,
 *             as in BODY[HEADER.FIELDS (From To)]<0.100>. */
static bool parse_atom(struct parser *ps, buf *out)
{
	const char *name = ps->p;
	const char *start = ps->p;
	bool sectioned = false;
	if (ps->p < ps->end && *ps->p == '\\')
		ps->p++;
	while (ps->p < ps->end && is_atom_char(*ps->p)) {
		if (*ps->p == '[' && !sectioned && takes_section(name, (size_t)(ps->p - name))) {
			buf_append(out, start, (size_t)(ps->p - start));
			if (!parse_section(ps, out))
				return false;
			start = ps->p;
			sectioned = true;
		} else {
			ps->p++;
		}
	}
	buf_append(out, start, (size_t)(ps->p - start));
	if (out->len == 0)
		return fail(ps, "Expected an atom");
	return true;
}

/* Parses arguments separated by single spaces up to the end of the line, or up to ")" when
 * depth > 0. */
static bool parse_args(struct parser *ps, struct imap_arg **list, size_t *count, unsigned depth)
{
	buf text;
	buf_init(&text);
	bool ok = true;
	bool first = true;
	while (ok) {
		if (is_eol(ps) || (depth > 0 && *ps->p == ')'))
			break;
		if (!first) {
			if (*ps->p != ' ') {
				ok = fail(ps, "Expected a space between arguments");
				break;
			}
			ps->p++;
		}
		first = false;
		if (ps->p >= ps->end) {
			ok = fail(ps, "Unexpected end of command");
			break;
		}
		char c = *ps->p;
		struct imap_arg *a = NULL;
		if (c == '(') {
			if (depth + 1 > ps->lim->max_depth) {
				ok = fail(ps, "Lists nested too deep");
				break;
			}
			a = new_arg(ps, list, count, IMAP_ARG_LIST);
			if (a == NULL) {
				ok = false;
				break;
			}
			ps->p++;
			struct imap_arg *members = NULL;
			size_t n = 0;
			ok = parse_args(ps, &members, &n, depth + 1);
			/* *list may have moved while members were parsed: find the list again. */
			a = &(*list)[*count - 1];
			a->list = members;
			a->count = n;
			if (ok && (ps->p >= ps->end || *ps->p != ')'))
				ok = fail(ps, "Missing )");
			if (ok)
				ps->p++;
			continue;
		}
		if (c == ')') {
			ok = fail(ps, "Unexpected )");
			break;
		}
		buf_clear(&text);
		/* literal8 = "~{" number ["+"] "}" CRLF *OCTET (RFC 4466 2.1) */
		bool literal8 = c == '~' && ps->p + 1 < ps->end && ps->p[1] == '{';
		if (literal8)
			c = *++ps->p;
		enum imap_arg_type type = c == '"'   ? IMAP_ARG_STRING
					  : c == '{' ? IMAP_ARG_LITERAL
						     : IMAP_ARG_ATOM;
		ps->streamed_len = 0;
		ok = type == IMAP_ARG_STRING ? parse_quoted(ps, &text)
		     : type == IMAP_ARG_LITERAL ? parse_literal(ps, &text, true)
						: parse_atom(ps, &text);
		/* CHAR8 = %x01-ff: only a literal8 may carry NUL (RFC 9051 4.3) */
		if (ok && type == IMAP_ARG_LITERAL && !literal8 && text.len > 0 &&
		    memchr(text.data, '\0', text.len) != NULL)
			ok = fail(ps, "NUL in a literal; binary data goes in ~{n}");
		if (ok && (a = new_arg(ps, list, count, type)) == NULL)
			ok = false;
		if (ok) {
			a->literal8 = literal8;
			a->streamed = ps->streamed_len > 0;
			a->len = a->streamed ? (size_t)ps->streamed_len : text.len;
			/* after a steal the buffer holds nothing until appended to */
			a->str = text.data != NULL ? buf_steal(&text) : xstrdup("");
		}
	}
	buf_free(&text);
	return ok;
}

/* tag = 1*<any ASTRING-CHAR except "+">: how many octets from p can be one. */
static size_t tag_chars(const char *p, const char *end)
{
	const char *start = p;
	while (p < end && is_atom_char(*p) && *p != '+')
		p++;
	return (size_t)(p - start);
}

size_t imap_frame_tag_length(const struct imap_frame *f)
{
	size_t n = tag_chars(f->cmd.data, f->cmd.data + f->cmd.len);
	return n > 0 && n < f->cmd.len && f->cmd.data[n] == ' ' ? n : 0;
}

/* command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF */
static int parse_command(const char *cmd, size_t len, const char *streamed_at,
			 const struct imap_limits *lim, struct imap_command *out, const char **error_r)
{
	struct parser ps = { cmd, cmd + len, lim, 0, NULL, streamed_at, 0 };
	memset(out, 0, sizeof(*out));
	const char *start = ps.p;
	ps.p += tag_chars(ps.p, ps.end);
	if (ps.p == start || ps.p >= ps.end || *ps.p != ' ') {
		*error_r = ps.p == start ? "Missing tag" : "Bad tag";
		return -1;
	}
	out->tag = xstrndup(start, (size_t)(ps.p - start));
	ps.p++;
	start = ps.p;
	while (ps.p < ps.end && isalpha((unsigned char)*ps.p))
		ps.p++;
	if (ps.p == start || (!is_eol(&ps) && *ps.p != ' ')) {
		*error_r = "Missing or bad command name";
		return -1;
	}
	out->name = xstrndup(start, (size_t)(ps.p - start));
	for (char *c = out->name; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!is_eol(&ps)) {
		ps.p++;
		if (is_eol(&ps))
			fail(&ps, "Trailing space");
		else if (parse_args(&ps, &out->args, &out->count, 0) && !is_eol(&ps))
			fail(&ps, "Unexpected )");
	}
	if (ps.error == NULL && ps.p < ps.end && *ps.p == '\r')
		ps.p++;
	if (ps.error == NULL && (ps.p >= ps.end || *ps.p != '\n' || ps.p + 1 != ps.end))
		ps.error = "Garbage after the command";
	if (ps.error != NULL) {
		*error_r = ps.error;
		return -1;
	}
	return 0;
}

int imap_parse(const char *cmd, size_t len, const struct imap_limits *lim,
	       struct imap_command *out, const char **error_r)
{
	return parse_command(cmd, len, NULL, lim, out, error_r);
}

int imap_parse_framed(const struct imap_frame *f, const struct imap_limits *lim,
		      struct imap_command *out, const char **error_r)
{
	const char *at = f->streamed_at > 0 ? f->cmd.data + f->streamed_at : NULL;
	return parse_command(f->cmd.data, f->cmd.len, at, lim, out, error_r);
}

static void args_free(struct imap_arg *args, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(args[i].str);
		args_free(args[i].list, args[i].count);
	}
	free(args);
}

void imap_command_free(struct imap_command *c)
{
	free(c->tag);
	free(c->name);
	args_free(c->args, c->count);
	memset(c, 0, sizeof(*c));
}

bool imap_arg_atom_is(const struct imap_arg *arg, const char *name)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, name) == 0;
}

const char *imap_arg_astring(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_LIST ? NULL : arg->str;
}

/* ---- sequence sets ---- */

/* seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT, at most 4294967295. */
static const char *seq_number(const char *s, uint32_t *n, bool *star)
{
	*star = *s == '*';
	if (*star) {
		*n = 0;
		return s + 1;
	}
	if (*s < '1' || *s > '9')
		return NULL;
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s++ - '0');
		if (v > UINT32_MAX)
			return NULL;
	}
	*n = (uint32_t)v;
	return s;
}

int imap_seqset_parse(const char *s, size_t max_ranges, struct imap_seqset *out)
{
	out->ranges = NULL;
	out->count = 0;
	size_t cap = 0;
	for (;;) {
		struct imap_range r;
		s = seq_number(s, &r.lo, &r.lo_star);
		r.hi = r.lo;
		r.hi_star = r.lo_star;
		if (s != NULL && *s == ':')
			s = seq_number(s + 1, &r.hi, &r.hi_star);
		if (s == NULL || out->count >= max_ranges || (*s != ',' && *s != '\0')) {
			imap_seqset_free(out);
			return -1;
		}
		if (r.lo_star && !r.hi_star)
			r = (struct imap_range){ r.hi, 0, false, true };
		else if (!r.lo_star && !r.hi_star && r.lo > r.hi)
			r = (struct imap_range){ r.hi, r.lo, false, false };
		if (out->count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			out->ranges = xrealloc(out->ranges, cap * sizeof(*out->ranges));
		}
		out->ranges[out->count++] = r;
		if (*s == '\0')
			return 0;
		s++;
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t star)
{
	for (size_t i = 0; i < set->count; i++) {
		struct imap_range *r = &set->ranges[i];
		if (r->lo_star)
			r->lo = star;
		if (r->hi_star)
			r->hi = star;
		r->lo_star = r->hi_star = false;
		if (r->lo > r->hi) {
			uint32_t t = r->lo;
			r->lo = r->hi;
			r->hi = t;
		}
	}
	/* ordered and merged, so that imap_seqset_contains can halve its way to an answer */
	if (set->count == 0)
		return;
	qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	size_t n = 0;
	for (size_t i = 1; i < set->count; i++) {
		struct imap_range *last = &set->ranges[n];
		if (set->ranges[i].lo <= last->hi || set->ranges[i].lo - last->hi == 1) {
			if (set->ranges[i].hi > last->hi)
				last->hi = set->ranges[i].hi;
		} else {
			set->ranges[++n] = set->ranges[i];
		}
	}
	set->count = n + 1;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n < set->ranges[mid].lo)
			hi = mid;
		else if (n > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = 0;
}
