/* Server side of the SASL mechanisms estafeta offers (RFC 4422): PLAIN (RFC 4616), LOGIN
 * (draft-murchison-sasl-login, what Outlook and many phones use) and SCRAM-SHA-256 (RFC 5802,
 * RFC 7677). Shared by SMTP AUTH, POP3 AUTH and IMAP AUTHENTICATE: the protocol layer does the
 * framing (base64 lines, "334 ", "+ ", "*" to cancel) and hands this module decoded bytes.
 *
 * A pure state machine: no I/O, no database, no clock. Where it needs the outside world it
 * says so in its result:
 *   SASL_CHECK_PASSWORD: the caller verifies sasl_password() for sasl_username() (slowly, off
 *     the event loop), then calls sasl_password_checked().
 *   SASL_NEED_SCRAM: the caller looks up the user's SCRAM credentials and calls
 *     sasl_scram_credentials() (NULL for an unknown user: the exchange then fails at the
 *     proof, without telling the client whether the user exists).
 */
#ifndef ESTAFETA_SASL_H
#define ESTAFETA_SASL_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

enum sasl_result {
	SASL_CONTINUE,       /* send the challenge in *out, wait for the next response */
	SASL_CHECK_PASSWORD, /* verify the password, then sasl_password_checked() */
	SASL_NEED_SCRAM,     /* look up credentials, then sasl_scram_credentials() */
	SASL_OK,             /* authenticated as sasl_username(); *out may hold final server data */
	SASL_FAIL,           /* wrong credentials */
	SASL_MALFORMED,      /* the client's message broke the mechanism's syntax */
};

struct sasl;

/* Mechanism names in the order servers offer them. */
extern const char *const sasl_mechanisms[];
/* Starts an exchange; NULL when mech (case-insensitive) is not supported. */
struct sasl *sasl_new(const char *mech);
void sasl_free(struct sasl **s);

/* Feeds one client response (decoded). For the first step, pass the initial response when the
 * client sent one (has_data true; may be empty), else has_data false. Any challenge or final
 * server data is appended to out (raw bytes, the caller encodes). */
enum sasl_result sasl_step(struct sasl *s, bool has_data, const char *data, size_t len, buf *out);
/* After SASL_CHECK_PASSWORD. Returns SASL_OK or SASL_FAIL. */
enum sasl_result sasl_password_checked(struct sasl *s, bool ok);
/* After SASL_NEED_SCRAM: credentials as made by scram_sha256_credentials, or NULL when the
 * user is unknown. Returns SASL_CONTINUE with the server-first message in out. */
enum sasl_result sasl_scram_credentials(struct sasl *s, const char *credentials, buf *out);

/* For tests only: makes the next sasl_scram_credentials use nonce (printable, no ',') as the
 * server's part of the SCRAM nonce instead of fresh random bytes, so RFC 7677's example
 * exchange can be replayed byte for byte. Never call it in the server. */
void sasl_scram_set_server_nonce_for_test(struct sasl *s, const char *nonce);

/* For clients (outbound relay, the mail client): PLAIN's response, RFC 4616 2 message =
 * [authzid] UTF8NUL authcid UTF8NUL passwd without authzid, base64-encoded onto out. */
void sasl_plain_response(const char *user, const char *password, buf *out);

/* The mechanism's name as servers offer it ("SCRAM-SHA-256"): static, for logs. */
const char *sasl_mechanism(const struct sasl *s);
/* The authentication identity, once known (NULL before). */
const char *sasl_username(const struct sasl *s);
/* The password given with PLAIN or LOGIN (NULL otherwise). */
const char *sasl_password(const struct sasl *s);
#endif
