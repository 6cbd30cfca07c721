/* libFuzzer target for mail/text.c (the decoded search text of a message: MIME walk,
 * base64, quoted-printable, charsets, HTML) and header_date_day (Date fields). Sanitizers
 * catch what goes wrong; the day, when there is one, must be a calendar day. */
#include "mail/header.h"
#include "mail/text.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf header, body;
	buf_init(&header);
	buf_init(&body);
	message_text((const char *)data, size, &header, &body);
	buf_free(&header);
	buf_free(&body);
	long day = header_date_day((const char *)data, size);
	if (day != -1 && (day % 100 < 1 || day % 100 > 31 || day / 100 % 100 < 1 || day / 100 % 100 > 12))
		abort();
	return 0;
}
