/* What the DNS says of an SMTP client, for the Authentication-Results field of the mail it
 * sends: iprev (RFC 8601 3: a name of its address that leads back to it) and whether its HELO
 * name resolves to it. The lookups run on the shared resolver, started when the client
 * connects and when it says HELO, so they are usually answered by the end of the message;
 * the session waits for the rest, within a bound, without blocking the loop. */
#ifndef ESTAFETA_CLIENT_DNS_H
#define ESTAFETA_CLIENT_DNS_H
#include "core/buf.h"
#include "core/dns.h"
#include "mail/authres.h"
#include <event2/event.h>
#include <stdbool.h>

/* RFC 8601 3 asks for a bound on the names whose addresses are looked up; RFC 7208 4.6.4's
 * is 10. */
#define CLIENT_DNS_MAX_NAMES 10

struct client_dns;

/* Starts iprev for the client address ip (text). */
struct client_dns *client_dns_start(struct dns *d, struct event_base *base, const char *ip);
/* Starts the check of a HELO or EHLO name; a new one replaces the last (its answer, when
 * it comes, is dropped). */
void client_dns_helo(struct client_dns *c, struct dns *d, const char *helo);
/* Calls done(arg) once, on the loop: at once when every lookup has its answer, else when
 * they have or after timeout_ms, whichever is first; what is still unanswered then is a
 * temporary error. */
void client_dns_wait(struct client_dns *c, int timeout_ms, void (*done)(void *arg), void *arg);
/* The iprev result, its comment holding the name that led back (or what went wrong) and the
 * HELO check. The strings live in c (and in comment) until the next call or the free. */
void client_dns_result(struct client_dns *c, struct authres_result *r, buf *comment);
/* The session is done with c: a wait is cancelled; lookups still out free it when they end. */
void client_dns_free(struct client_dns **c);
#endif
