/* The mail client's sending side: message submission (RFC 6409) over TLS (implicit, RFC
 * 8314, or STARTTLS, which must then be offered) with AUTH SCRAM-SHA-256 when offered, else
 * PLAIN (RFC 4954). Blocking; the replies are read by queue/smtp_reply.c, the parser the
 * server's outbound client uses. */
#ifndef ESTAFETA_MUA_SMTP_SUBMIT_H
#define ESTAFETA_MUA_SMTP_SUBMIT_H
#include <stdbool.h>
#include <stddef.h>

struct smtp_account {
	const char *host;
	int port;
	bool implicit_tls; /* else STARTTLS */
	bool verify;
	const char *user, *password;
};

/* Sends msg (CRLF lines) from sender to rcpts. 0, or -1 with *error_r: the server's reply to
 * the step that failed, or why the connection did. */
int smtp_submit(const struct smtp_account *a, const char *sender, const char *const *rcpts,
		size_t count, const char *msg, size_t len, char **error_r);
#endif
