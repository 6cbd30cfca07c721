/* libFuzzer target for http_response.c: any input read as a whole response gives a status
 * within 100..599 and a body within the bound and no longer than the input, or is refused. */
#include "http/http_response.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response r;
	size_t max = size > 0 ? data[0] * 4u : 0;
	if (http_response_parse((const char *)data, size, max, &r) == 1) {
		if (r.status < 100 || r.status > 599 || r.body.len > max || r.body.len > size)
			abort();
		http_response_free(&r);
	}
	return 0;
}
