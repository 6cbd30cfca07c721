/* Maildrop files; see maildrop.h. */
#include "deliver/maildrop.h"
#include "core/xalloc.h"
#include "mail/address.h"
#include <stdlib.h>
#include <string.h>

#define MAGIC "estafeta-maildrop 1"

void maildrop_write_envelope(buf *out, const char *sender, const char *const *rcpts, size_t count)
{
	buf_printf(out, MAGIC "\nsender <%s>\n", sender);
	for (size_t i = 0; i < count; i++)
		buf_printf(out, "recipient %s\n", rcpts[i]);
	buf_putc(out, '\n');
}

/* The line at *pos without its LF; NULL when no LF ends it. */
static const char *next_line(const char *data, size_t len, size_t *pos, size_t *line_len)
{
	const char *start = data + *pos;
	const char *lf = memchr(start, '\n', len - *pos);
	if (lf == NULL)
		return NULL;
	*line_len = (size_t)(lf - start);
	*pos += *line_len + 1;
	return start;
}

static bool starts(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len >= n && memcmp(line, word, n) == 0;
}

/* What SMTP would carry (RFC 5322 2.1.1, RFC 5321 2.3.8): CRLF line ends only, lines of at
 * most 998 octets, the last one ended too. */
void maildrop_body_feed(struct maildrop_body *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len && !b->bad; i++) {
		if (b->cr) {
			b->cr = false;
			b->bad = s[i] != '\n';
			b->line = 0;
		} else if (s[i] == '\r') {
			b->cr = true;
		} else if (s[i] == '\n' || ++b->line > 998) {
			b->bad = true;
		}
	}
	if (len > 0)
		b->last = s[len - 1];
	b->seen += len;
}

bool maildrop_body_valid(const struct maildrop_body *b)
{
	return !b->bad && !b->cr && (b->seen == 0 || b->last == '\n');
}

int maildrop_parse_envelope(const char *data, size_t len, struct maildrop_envelope *env,
			    const char **error_r)
{
	memset(env, 0, sizeof(*env));
	strlist_init(&env->rcpts);
	if (len == 0)
		return 0;
	size_t pos = 0, n;
	const char *line = next_line(data, len, &pos, &n);
	char canonical[ADDRESS_MAX_PATH * 4 + 8];
	struct address a;
	size_t used;
	if (line == NULL && len < sizeof(MAGIC) && memcmp(data, MAGIC, len) == 0)
		return 0;
	if (line == NULL || n != strlen(MAGIC) || memcmp(line, MAGIC, n) != 0) {
		*error_r = "not a maildrop file (no \"" MAGIC "\" line)";
		return -1;
	}
	line = next_line(data, len, &pos, &n);
	if (line == NULL)
		return 0;
	if (!starts(line, n, "sender ") ||
	    address_parse_path(line + 7, n - 7, true, true, &a, &used) != ADDRESS_OK || used != n - 7 ||
	    address_format(&a, canonical, sizeof(canonical)) < 0) {
		*error_r = "the sender line is missing or not an address";
		goto fail;
	}
	env->sender = xstrdup(canonical);
	while ((line = next_line(data, len, &pos, &n)) != NULL && n > 0) {
		if (!starts(line, n, "recipient ") ||
		    address_parse_mailbox(line + 10, n - 10, true, &a) != ADDRESS_OK ||
		    address_format(&a, canonical, sizeof(canonical)) < 0) {
			*error_r = "a recipient line is not an address";
			goto fail;
		}
		if (env->rcpts.count >= MAILDROP_MAX_RECIPIENTS) {
			*error_r = "too many recipients";
			goto fail;
		}
		strlist_add_unique(&env->rcpts, canonical);
	}
	if (line == NULL) {
		maildrop_envelope_free(env);
		return 0;
	}
	if (env->rcpts.count == 0) {
		*error_r = "no recipients";
		goto fail;
	}
	env->body_off = pos;
	return 1;
fail:
	maildrop_envelope_free(env);
	return -1;
}

int maildrop_parse(const char *data, size_t len, struct maildrop_envelope *env,
		   const char **error_r)
{
	int r = maildrop_parse_envelope(data, len, env, error_r);
	if (r == 0)
		*error_r = "the envelope does not end with an empty line";
	if (r <= 0)
		return -1;
	struct maildrop_body b = { 0 };
	maildrop_body_feed(&b, data + env->body_off, len - env->body_off);
	if (!maildrop_body_valid(&b)) {
		*error_r = MAILDROP_BODY_ERROR;
		maildrop_envelope_free(env);
		return -1;
	}
	return 0;
}

void maildrop_envelope_free(struct maildrop_envelope *env)
{
	free(env->sender);
	strlist_free(&env->rcpts);
	memset(env, 0, sizeof(*env));
	strlist_init(&env->rcpts);
}
