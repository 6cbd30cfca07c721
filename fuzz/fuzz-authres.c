/* libFuzzer target for authres.c: reads the authserv-id of the input as a field value,
 * removes the Authentication-Results fields naming an identifier taken from the input's
 * first bytes (what is left never grows, and holds no field naming it), and writes a field
 * whose comment is the input, which must keep every line within the fold width it can and
 * hold no bare CR, LF or octet outside printable ASCII; authres_reports finds results only
 * in a value whose authserv-id reads. The first byte is the id's length. */
#include "mail/authres.h"
#include "mail/header.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void check_no_field_names(const buf *out, const char *id)
{
	size_t pos = 0;
	struct header_field f;
	int r;
	buf got;
	buf_init(&got);
	while ((r = header_next(out->data, out->len, &pos, &f)) != 0) {
		unsigned long version;
		buf_clear(&got);
		if (r > 0 && f.name_len == 22 && strncasecmp(f.name, "Authentication-Results", 22) == 0 &&
		    (!authres_parse_id(f.value, f.value_len, &got, &version) || version != 1 ||
		     strcasecmp(got.data, id) == 0))
			abort();
	}
	buf_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t id_len = data[0] % 32;
	if (size < 1 + id_len)
		return 0;
	char id[32];
	memcpy(id, data + 1, id_len);
	id[id_len] = '\0';
	const char *text = (const char *)data + 1 + id_len;
	size_t len = size - 1 - id_len;

	buf got, out;
	buf_init(&got);
	buf_init(&out);
	unsigned long version;
	if (authres_parse_id(text, len, &got, &version) && got.len > len)
		abort();
	authres_remove_ours(text, len, id, &out);
	if (out.len > len)
		abort();
	check_no_field_names(&out, id);
	/* a result is reported only by a value whose authserv-id reads */
	if (authres_reports(text, len, "dmarc", "pass") && !authres_parse_id(text, len, &got, &version))
		abort();

	char *comment = strndup(text, len);
	struct authres_result r = { "iprev", "pass", comment, comment, { { "policy", "iprev", "192.0.2.1" } }, 1 };
	buf_clear(&out);
	authres_write(&out, "mx.example", &r, 1);
	for (size_t i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];
		if ((c == '\r') != (i + 1 < out.len && out.data[i + 1] == '\n') ||
		    (c == '\n' && (i == 0 || out.data[i - 1] != '\r')) ||
		    (c != '\r' && c != '\n' && c != '\t' && (c < 32 || c >= 127)))
			abort();
	}
	free(comment);
	buf_free(&got);
	buf_free(&out);
	return 0;
}
