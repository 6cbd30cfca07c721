/* Mail addresses as SMTP carries them (RFC 5321 4.1.2 Path / Mailbox, with RFC 6531's UTF-8
 * extension). Pure functions over buffers: no I/O, no globals. */
#ifndef ESTAFETA_ADDRESS_H
#define ESTAFETA_ADDRESS_H
#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1 size limits. */
#define ADDRESS_MAX_LOCAL 64
#define ADDRESS_MAX_DOMAIN 255
#define ADDRESS_MAX_PATH 256

enum address_error {
	ADDRESS_OK = 0,
	ADDRESS_SYNTAX,    /* not a Path / Mailbox */
	ADDRESS_TOO_LONG,  /* a part exceeds the RFC 5321 limits */
	ADDRESS_NEEDS_UTF8 /* valid only with SMTPUTF8 (non-ASCII octets) */
};

struct address {
	char local[4 * ADDRESS_MAX_LOCAL + 1];  /* unquoted local part, as sent (case kept) */
	char domain[ADDRESS_MAX_DOMAIN + 1];    /* lower-cased; address literal kept with brackets */
	bool null;                              /* "<>" */
	bool quoted;                            /* the local part was a Quoted-string */
	bool utf8;                              /* non-ASCII octets appear */
};

/* Parses a reverse-path or forward-path in angle brackets: "<>", "<user@domain>",
 * "<@relay1,@relay2:user@domain>" (the source route is accepted and ignored, RFC 5321 4.1.2
 * and C.). *consumed_r gets the length of the path (up to and including '>') so the caller can
 * go on with the parameters. allow_null permits "<>". allow_utf8 permits UTF-8 in local part
 * and domain (SMTPUTF8 given on MAIL). Returns ADDRESS_OK or the reason it failed. */
enum address_error address_parse_path(const char *s, size_t len, bool allow_null, bool allow_utf8,
				      struct address *out, size_t *consumed_r);

/* Parses a bare mailbox "user@domain" (no angle brackets), as given on a command line or in
 * an alias target. Same rules as inside a path. */
enum address_error address_parse_mailbox(const char *s, size_t len, bool allow_utf8,
					 struct address *out);

/* Writes the canonical form "local@domain" into out (size outlen >= 4*64+1+255+3): the local
 * part quoted only when it must be (RFC 5321 4.1.2: a Dot-string is preferred), "" for the
 * null address. Returns the length, or -1 when it does not fit. */
int address_format(const struct address *a, char *out, size_t outlen);

/* True when s is a syntactically valid domain name (sub-domains of let-dig / ldh, or UTF-8
 * labels when allow_utf8) of at most 255 octets. */
bool address_domain_valid(const char *s, size_t len, bool allow_utf8);
#endif
