/* Showing messages; see render.h. */
#include "mua/render.h"
#include "core/xalloc.h"
#include "mail/header.h"
#include "mail/qp.h"
#include "mail/text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* IMAP part numbers (RFC 3501 6.4.5): a message that is not multipart is part 1; the parts
 * of a multipart are numbered from 1 below their parent. */
static void section_of(const struct mime_tree *t, int idx, char *out, size_t outlen)
{
	int path[64], depth = 0;
	for (int i = idx; i > 0 && depth < 64; i = t->parts[i].parent) {
		int n = 1;
		for (int s = t->parts[t->parts[i].parent].first_child; s != i && s != MIME_NONE;
		     s = t->parts[s].next_sibling)
			n++;
		/* a message/rfc822 part's own child (its body) does not add a level */
		if (!mime_part_is_message(&t->parts[t->parts[i].parent]))
			path[depth++] = n;
	}
	size_t used = 0;
	out[0] = '\0';
	if (depth == 0)
		snprintf(out, outlen, "1");
	for (int k = depth - 1; k >= 0 && used < outlen; k--)
		used += (size_t)snprintf(out + used, outlen - used, "%s%d", used > 0 ? "." : "", path[k]);
}

/* Inside a forwarded message: shown as the one attachment it is. */
static bool inside_message(const struct mime_tree *t, int idx)
{
	for (int i = t->parts[idx].parent; i > 0; i = t->parts[i].parent)
		if (mime_part_is_message(&t->parts[i]))
			return true;
	return false;
}

static bool is_attachment_disposition(const struct mime_part *p)
{
	return p->disposition.value != NULL && strcasecmp(p->disposition.value, "attachment") == 0;
}

/* The part a reader sees as the text: the first text/plain leaf that is not an attachment,
 * else the first text/html one. */
static int body_part(const struct mime_tree *t)
{
	int html = MIME_NONE;
	for (size_t i = 0; i < t->count; i++) {
		const struct mime_part *p = &t->parts[i];
		if (p->first_child != MIME_NONE || inside_message(t, (int)i) || is_attachment_disposition(p))
			continue;
		if (mime_part_is(p, "text", "plain"))
			return (int)i;
		if (html == MIME_NONE && mime_part_is(p, "text", "html"))
			html = (int)i;
	}
	return html;
}

/* The decoded file name: filename (Content-Disposition) else name (Content-Type); an
 * extended RFC 2231 value is charset'lang'%XX. */
static char *part_filename(const struct mime_part *p)
{
	const struct mime_param *params[2] = { NULL, NULL };
	for (size_t i = 0; i < p->disposition.param_count; i++)
		if (strcasecmp(p->disposition.params[i].name, "filename") == 0)
			params[0] = &p->disposition.params[i];
	for (size_t i = 0; i < p->param_count; i++)
		if (strcasecmp(p->params[i].name, "name") == 0)
			params[1] = &p->params[i];
	const struct mime_param *f = params[0] != NULL ? params[0] : params[1];
	if (f == NULL)
		return NULL;
	buf out;
	buf_init(&out);
	if (f->extended) {
		const char *q1 = strchr(f->value, '\''), *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
		char *charset = q1 != NULL ? xstrndup(f->value, (size_t)(q1 - f->value)) : xstrdup("us-ascii");
		buf raw;
		buf_init(&raw);
		for (const char *s = q2 != NULL ? q2 + 1 : f->value; *s; s++) {
			int hi, lo;
			if (*s == '%' && (hi = qp_hex_value(s[1])) >= 0 && (lo = qp_hex_value(s[2])) >= 0) {
				buf_putc(&raw, (char)(hi * 16 + lo));
				s += 2;
			} else {
				buf_putc(&raw, *s);
			}
		}
		if (mime_to_utf8(charset[0] != '\0' ? charset : "us-ascii", raw.data != NULL ? raw.data : "", raw.len, &out) < 0)
			buf_append(&out, raw.data != NULL ? raw.data : "", raw.len);
		buf_free(&raw);
		free(charset);
	} else {
		text_header_value(f->value, strlen(f->value), &out);
	}
	/* never a path: the name is used for saving */
	char *name = buf_steal(&out);
	char *slash = strrchr(name, '/');
	if (slash != NULL)
		memmove(name, slash + 1, strlen(slash + 1) + 1);
	return name;
}

size_t render_attachments(const char *msg, size_t len, struct rendered_attachment **list)
{
	struct mime_tree t;
	mime_parse(msg, len, &mime_default_limits, &t);
	int body = body_part(&t);
	size_t n = 0;
	*list = NULL;
	for (size_t i = 0; i < t.count; i++) {
		const struct mime_part *p = &t.parts[i];
		bool message = i > 0 && mime_part_is_message(p);
		if ((int)i == body || inside_message(&t, (int)i) || (p->first_child != MIME_NONE && !message))
			continue;
		char *filename = part_filename(p);
		bool alternative_html = mime_part_is(p, "text", NULL) && filename == NULL &&
					!is_attachment_disposition(p);
		if (alternative_html || (i == 0 && p->first_child == MIME_NONE && mime_part_is(p, "text", NULL))) {
			free(filename);
			continue;
		}
		*list = xrealloc(*list, (n + 1) * sizeof(**list));
		struct rendered_attachment *a = &(*list)[n++];
		section_of(&t, (int)i, a->section, sizeof(a->section));
		a->filename = filename;
		snprintf(a->type, sizeof(a->type), "%s/%s", p->type, p->subtype);
		buf data;
		buf_init(&data);
		text_part_decode(msg, p, &data);
		a->size = data.len;
		buf_free(&data);
	}
	mime_tree_free(&t);
	return n;
}

void render_attachments_free(struct rendered_attachment *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i].filename);
	free(list);
}

int render_attachment_data(const char *msg, size_t len, const char *which, buf *out)
{
	struct rendered_attachment *list;
	size_t n = render_attachments(msg, len, &list);
	int found = -1;
	char section[64] = "";
	for (size_t i = 0; i < n && found < 0; i++) {
		if (strcmp(list[i].section, which) == 0 ||
		    (list[i].filename != NULL && strcmp(list[i].filename, which) == 0)) {
			snprintf(section, sizeof(section), "%s", list[i].section);
			found = 0;
		}
	}
	render_attachments_free(list, n);
	if (found < 0)
		return -1;
	struct mime_tree t;
	mime_parse(msg, len, &mime_default_limits, &t);
	for (size_t i = 0; i < t.count; i++) {
		char s[64];
		section_of(&t, (int)i, s, sizeof(s));
		if (strcmp(s, section) == 0 && !inside_message(&t, (int)i) &&
		    (t.parts[i].first_child == MIME_NONE || mime_part_is_message(&t.parts[i]))) {
			text_part_decode(msg, &t.parts[i], out);
			break;
		}
	}
	mime_tree_free(&t);
	return 0;
}

bool render_header(const char *msg, size_t len, const char *name, buf *out)
{
	size_t end = header_end(msg, len);
	buf raw;
	buf_init(&raw);
	bool found = header_get(msg, end > 0 ? end : len, name, &raw);
	if (found)
		text_header_value(raw.data != NULL ? raw.data : "", raw.len, out);
	buf_free(&raw);
	return found;
}

bool render_has_attachments(const char *msg, size_t len)
{
	struct rendered_attachment *list;
	size_t n = render_attachments(msg, len, &list);
	render_attachments_free(list, n);
	return n > 0;
}

void render_body_text(const char *msg, size_t len, buf *out)
{
	size_t start = out->len;
	struct mime_tree t;
	mime_parse(msg, len, &mime_default_limits, &t);
	int body = body_part(&t);
	if (body != MIME_NONE)
		text_part(msg, &t.parts[body], out);
	mime_tree_free(&t);
	/* CRLF from the wire becomes the terminal's LF; the text ends with one line end */
	size_t w = start;
	for (size_t r = start; r < out->len; r++)
		if (!(out->data[r] == '\r' && r + 1 < out->len && out->data[r + 1] == '\n'))
			out->data[w++] = out->data[r];
	while (w > start && out->data[w - 1] == '\n')
		w--;
	out->len = w;
	out->data[w] = '\0';
	if (w > start)
		buf_putc(out, '\n');
}

static void human_size(size_t n, char *out, size_t outlen)
{
	if (n >= 1024 * 1024)
		snprintf(out, outlen, "%.1f MiB", (double)n / (1024 * 1024));
	else if (n >= 1024)
		snprintf(out, outlen, "%zu KiB", (n + 1023) / 1024);
	else
		snprintf(out, outlen, "%zu B", n);
}

void render_message(const char *msg, size_t len, buf *out)
{
	static const char *const shown[] = { "From", "Reply-To", "To", "Cc", "Date", "Subject" };
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		buf v;
		buf_init(&v);
		if (render_header(msg, len, shown[i], &v))
			buf_printf(out, "%s: %s\n", shown[i], v.data != NULL ? v.data : "");
		buf_free(&v);
	}
	buf_putc(out, '\n');
	render_body_text(msg, len, out);
	struct rendered_attachment *list;
	size_t n = render_attachments(msg, len, &list);
	if (n > 0)
		buf_puts(out, "\nAttachments (save with: save N PART FILE):\n");
	for (size_t i = 0; i < n; i++) {
		char size[32];
		human_size(list[i].size, size, sizeof(size));
		buf_printf(out, "  [%s] %s (%s, %s)\n", list[i].section,
			   list[i].filename != NULL ? list[i].filename : "(no name)", list[i].type, size);
	}
	render_attachments_free(list, n);
}
