/* libFuzzer target for local_message.c: whatever a local program pipes into sendmail, a
 * message it accepts must be one the server's pickup accepts in turn (maildrop_parse: CRLF
 * only, no line over 998 octets), and -t recipients must be canonical addresses. The first
 * byte chooses the options. */
#include "deliver/maildrop.h"
#include "mail/local_message.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct local_message_opts o = {
		.dot_ends = data[0] & 1, .extract = data[0] & 2, .from_addr = "user@example.test",
		.from_name = data[0] & 4 ? "Zoë" : NULL, .origin = "example.test", .now = 1795000000,
	};
	buf msg, file;
	buf_init(&msg);
	buf_init(&file);
	strlist rcpts;
	strlist_init(&rcpts);
	const char *error;
	if (local_message((const char *)data + 1, size - 1, &o, &msg, &rcpts, &error) == 0) {
		strlist_add_unique(&rcpts, "fixed@example.test");
		if (rcpts.count <= MAILDROP_MAX_RECIPIENTS) {
			maildrop_write_envelope(&file, "user@example.test", (const char *const *)rcpts.items,
						rcpts.count);
			buf_append(&file, msg.data, msg.len);
			struct maildrop_envelope env;
			if (maildrop_parse(file.data, file.len, &env, &error) < 0)
				abort();
			maildrop_envelope_free(&env);
		}
	}
	strlist_free(&rcpts);
	buf_free(&msg);
	buf_free(&file);
	return 0;
}
