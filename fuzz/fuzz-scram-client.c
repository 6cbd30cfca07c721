/* libFuzzer target for the mail client's SCRAM-SHA-256 (mua/sasl_client.c): a server's
 * server-first and server-final messages (split at the first NUL; "%N" in them stands for the
 * client's random nonce, so the fuzzer can get past the nonce check) give a next message or
 * -1 with an error, never a crash; and the client is never done without a valid signature,
 * which no input can forge. */
#include "core/xalloc.h"
#include "mua/sasl_client.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* in with "%N" replaced by nonce */
static char *with_nonce(const char *in, size_t len, const char *nonce, size_t *len_r)
{
	buf out;
	buf_init(&out);
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '%' && i + 1 < len && in[i + 1] == 'N') {
			buf_puts(&out, nonce);
			i++;
		} else {
			buf_putc(&out, in[i]);
		}
	}
	*len_r = out.len;
	buf_putc(&out, '\0');
	return buf_steal(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	/* PBKDF2 at the client's limit of iterations takes seconds: keep runs short */
	for (const char *p = in; (p = memmem(p, size - (size_t)(p - in), "i=", 2)) != NULL; p += 2) {
		char digits[16] = "";
		size_t n = (size_t)(in + size - p - 2);
		memcpy(digits, p + 2, n < sizeof(digits) - 1 ? n : sizeof(digits) - 1);
		if (strtoul(digits, NULL, 10) > 64)
			return 0;
	}
	const char *nul = memchr(in, '\0', size);
	size_t first_len = nul != NULL ? (size_t)(nul - in) : size;
	struct scram_client sc;
	scram_client_init(&sc, "pencil");
	buf out;
	buf_init(&out);
	char *error = NULL;
	if (scram_client_step(&sc, "user", NULL, 0, &out, &error) != 0)
		abort();
	char *nonce = xstrdup(strstr(out.data, ",r=") + 3);
	size_t len;
	char *first = with_nonce(in, first_len, nonce, &len);
	buf_clear(&out);
	int r = scram_client_step(&sc, "user", first, len, &out, &error);
	if ((r < 0) != (error != NULL))
		abort();
	if (r == 0 && nul != NULL) {
		char *final = with_nonce(nul + 1, size - first_len - 1, nonce, &len);
		buf_clear(&out);
		r = scram_client_step(&sc, "user", final, len, &out, &error);
		if (r == 0 || scram_client_done(&sc))
			abort(); /* a forged signature */
		free(final);
	}
	free(error);
	free(first);
	free(nonce);
	buf_free(&out);
	scram_client_free(&sc);
	return 0;
}
