/* The mail client's side of SASL SCRAM-SHA-256 (RFC 5802, RFC 7677), shared by IMAP
 * AUTHENTICATE and SMTP AUTH: the password never crosses the wire, and the server proves it
 * knows the account's keys too. No channel binding ("n,,"): TLS is checked by certificate.
 *
 *   client-first  n,,n=USER,r=CNONCE
 *   server-first  r=CNONCE SNONCE,s=SALT,i=ITERATIONS
 *   client-final  c=biws,r=CNONCE SNONCE,p=PROOF
 *   server-final  v=SIGNATURE (or e=ERROR)
 *
 * Messages are the decoded octets; the protocols base64 them. */
#ifndef ESTAFETA_SASL_CLIENT_H
#define ESTAFETA_SASL_CLIENT_H
#include "auth/password.h"
#include "core/buf.h"

struct scram_client {
	const char *password;
	const char *nonce_for_test; /* tests only: the client nonce, for RFC 7677's example */
	unsigned step;     /* messages sent so far */
	buf auth_message;  /* client-first-bare "," server-first "," client-final-without-proof */
	unsigned char server_signature[SCRAM_KEY_LEN];
};

void scram_client_init(struct scram_client *sc, const char *password);
void scram_client_free(struct scram_client *sc);
/* The client's next message, in answer to the server's challenge (none for the first):
 * client-first, then client-final, then an empty message once the server's signature is
 * verified. -1 with *error_r when the server's data is malformed or its signature wrong (the
 * caller then cancels: "*"). */
int scram_client_step(struct scram_client *sc, const char *user, const char *challenge,
		      size_t len, buf *out, char **error_r);
/* True once the server has proved itself (server-final verified). */
bool scram_client_done(const struct scram_client *sc);

/* How a SCRAM login ended, for IMAP and SMTP alike. */
enum scram_outcome {
	SCRAM_OK = 0,
	SCRAM_REFUSED = -1,         /* after the proof: a wrong password; final */
	SCRAM_REFUSED_AT_ONCE = -2, /* at the first message: the server may keep no SCRAM keys
				     * for the account, so PLAIN may still work */
	SCRAM_UNPROVEN = -3,        /* the client refused the server (bad data or signature) */
};
/* The outcome of a refusal by the server, by how far the exchange had come. */
enum scram_outcome scram_client_refusal(const struct scram_client *sc);
#endif
