/* libFuzzer target for the SASL server mechanisms (src/auth/sasl.c).
 *
 * Input: one control byte, then the client's messages separated by '\n'. The control byte
 * picks the mechanism (bits 0-1, as an index into sasl_mechanisms), whether the first message
 * is an initial response (bit 2) and whether SCRAM's user is unknown (bit 3). The caller's side
 * is played as the protocol layer would: every password check says no, SCRAM gets fixed
 * credentials (RFC 7677's user: password "pencil") and RFC 7677's server nonce, so a run
 * replays exactly and the RFC's own exchange is reachable from the seeds.
 *
 * Besides memory errors it traps on broken promises: SASL_OK without a SCRAM proof from a
 * known user, SASL_OK without the server signature, a call after the end that does not fail. */
#include "auth/sasl.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CREDENTIALS                                        \
	"4096:W22ZaJ0SNY7soEsUEjb6gQ==:"                   \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

/* Cuts the next message (up to '\n' or the end) from *p; false when none is left. */
static bool next_message(const char **p, const char *end, const char **msg, size_t *len)
{
	if (*p > end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*msg = *p;
	*len = (size_t)((nl ? nl : end) - *p);
	*p = *msg + *len + 1;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n_mechs = 0;
	while (sasl_mechanisms[n_mechs])
		n_mechs++;
	size_t mech = (data[0] & 3) % n_mechs;
	bool initial = data[0] & 4, unknown = data[0] & 8;
	bool scram = strcmp(sasl_mechanisms[mech], "SCRAM-SHA-256") == 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	const char *msg;
	size_t len;

	struct sasl *s = sasl_new(sasl_mechanisms[mech]);
	sasl_scram_set_server_nonce_for_test(s, SERVER_NONCE);
	buf out;
	buf_init(&out);
	enum sasl_result r = initial && next_message(&p, end, &msg, &len)
				     ? sasl_step(s, true, msg, len, &out)
				     : sasl_step(s, false, NULL, 0, &out);
	for (bool more = true; more;) {
		switch (r) {
		case SASL_CONTINUE:
			more = next_message(&p, end, &msg, &len);
			buf_clear(&out);
			if (more)
				r = sasl_step(s, true, msg, len, &out);
			break;
		case SASL_CHECK_PASSWORD:
			if (!sasl_username(s) || !sasl_password(s))
				abort();
			r = sasl_password_checked(s, false);
			if (r != SASL_FAIL)
				abort();
			break;
		case SASL_NEED_SCRAM:
			if (!scram || !sasl_username(s))
				abort();
			buf_clear(&out);
			r = sasl_scram_credentials(s, unknown ? NULL : CREDENTIALS, &out);
			break;
		case SASL_OK:
		case SASL_FAIL:
		case SASL_MALFORMED:
			if (r == SASL_OK && (!scram || unknown || strncmp(out.data, "v=", 2) != 0))
				abort();
			if (sasl_step(s, true, "x", 1, &out) != SASL_FAIL)
				abort();
			more = false;
			break;
		}
	}
	buf_free(&out);
	sasl_free(&s);
	return 0;
}
