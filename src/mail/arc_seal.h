/* ARC sealing (RFC 8617 5.1): the ARC set a forwarder adds to a message it passes on, with
 * the results of its own checks of it. Pure functions over the message in memory. */
#ifndef ESTAFETA_ARC_SEAL_H
#define ESTAFETA_ARC_SEAL_H
#include "core/buf.h"
#include "mail/dkim_sign.h"
#include <time.h>

/* Appends to out the set of instance N+1 (N: the highest instance msg[0..len) carries),
 * to go above msg: ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, with CRLF
 * each. results: our Authentication-Results value ("authserv-id; method=result..."); its
 * arc= result is the chain's status on receipt, cv= (none without sets). key: RSA (the only
 * algorithm of RFC 8617). Returns 0, or -1 with *why set (static) when msg is not sealed:
 * no header section, its sets do not read or its chain did not pass (a seal would only say
 * cv=fail), ARC_MAX_INSTANCES sets already, or the key fails to sign. */
int arc_seal(const char *msg, size_t len, const char *results, const struct dkim_signing_key *key,
	     time_t t, buf *out, const char **why);
#endif
