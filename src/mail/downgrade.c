/* 8-bit to 7-bit conversion; see downgrade.h. The MIME tree gives every part's header and
 * body as offsets; the parts come in depth-first order, so the edits (a rewritten header, a
 * re-encoded body) come in the order of the message and never overlap: the message is copied
 * with the edits spliced in. */
#include "mail/downgrade.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/qp.h"
#include <stdbool.h>
#include <strings.h>

/* Appends part p's header without its Content-Transfer-Encoding, then the given one (and
 * what a message without MIME lacks), then the empty line. */
static void rewrite_header(const char *msg, const struct mime_part *p, bool message,
			   const char *encoding, buf *out)
{
	const char *hdr = msg + p->hdr_off;
	size_t len = p->hdr_len;
	/* the empty line that ends the section goes back last */
	if (len >= 2 && hdr[len - 2] == '\r' && hdr[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && hdr[len - 1] == '\n')
		len -= 1;
	header_remove(hdr, len, "Content-Transfer-Encoding", out);
	if (message && !header_has(hdr, len, "MIME-Version"))
		buf_puts(out, "MIME-Version: 1.0\r\n");
	if (message && !header_has(hdr, len, "Content-Type"))
		buf_puts(out, "Content-Type: text/plain; charset=unknown-8bit\r\n");
	buf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n", encoding);
}

static bool encoded_7bit(const struct mime_part *p)
{
	return p->encoding != NULL && (strcasecmp(p->encoding, "base64") == 0 ||
				       strcasecmp(p->encoding, "quoted-printable") == 0);
}

int mime_downgrade(const char *msg, size_t len, buf *out)
{
	struct mime_tree tree;
	mime_parse(msg, len, &mime_default_limits, &tree);
	int r = 0;
	size_t copied = 0;
	for (size_t i = 0; i < tree.count && r == 0; i++) {
		const struct mime_part *p = &tree.parts[i];
		if (mime_has_8bit(msg + p->hdr_off, p->hdr_len)) {
			r = -1;
			break;
		}
		bool leaf = p->first_child == MIME_NONE;
		bool eight = leaf && mime_has_8bit(msg + p->body_off, p->body_len);
		bool declared_8bit = p->encoding != NULL && (strcasecmp(p->encoding, "8bit") == 0 ||
							      strcasecmp(p->encoding, "binary") == 0);
		if (eight && encoded_7bit(p)) {
			r = -1;
			break;
		}
		if (!eight && (leaf || !declared_8bit))
			continue;
		buf_append(out, msg + copied, p->hdr_off - copied);
		/* a message's own header: the whole one, or one inside message/rfc822 */
		bool message = i == 0 || mime_part_is_message(&tree.parts[p->parent]);
		rewrite_header(msg, p, message, eight ? "quoted-printable" : "7bit", out);
		copied = p->hdr_off + p->hdr_len;
		if (eight) {
			qp_encode(msg + p->body_off, p->body_len, out);
			copied = p->body_off + p->body_len;
		}
	}
	if (r == 0)
		buf_append(out, msg + copied, len - copied);
	/* 8-bit octets outside every part (a multipart's preamble or epilogue, broken MIME)
	 * cannot be labelled: better refused than sent mislabelled */
	if (r == 0 && mime_has_8bit(out->data, out->len))
		r = -1;
	mime_tree_free(&tree);
	return r;
}

bool mime_has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return true;
	return false;
}
