/* libFuzzer target for the SMTP client's reply parser (queue/smtp_reply.c): the input is a
 * server's output split into lines, fed until each reply completes, as the client does; each
 * complete reply goes through the status, one-line and EHLO functions, checking what they
 * promise. */
#include "queue/smtp_reply.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	smtp_reply_init(&r);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		size_t len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		int res = smtp_reply_feed(&r, p, len);
		if (res < 0) {
			smtp_reply_clear(&r);
		} else if (res == 1) {
			if (r.code < 200 || r.code > 559 || r.lines == 0 || r.lines > SMTP_REPLY_LINES_MAX)
				abort();
			char status[16];
			smtp_reply_status(&r, status, sizeof(status));
			if (status[0] - '0' != r.code / 100 || strlen(status) > 11)
				abort();
			char *one = smtp_reply_oneline(&r);
			for (const char *c = one; *c != '\0'; c++)
				if (*c < 0x20 || *c > 0x7e)
					abort();
			free(one);
			struct smtp_ehlo e;
			smtp_ehlo_parse(&r, &e);
			smtp_reply_clear(&r);
		}
		p = eol + (nl != NULL);
	}
	smtp_reply_free(&r);
	return 0;
}
