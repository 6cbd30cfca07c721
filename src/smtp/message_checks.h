/* The sender checks of a message another server sends us on port 25: SPF of its MAIL FROM
 * identity (RFC 7208 2.4: the HELO name's for the null sender), started at MAIL; DKIM
 * verification of its signatures, started when the header section is in and fed the body
 * as it streams; ARC chain validation (RFC 8617), whose signatures the DKIM verifier checks
 * with its own; DMARC, whose policy lookups start with the header section and whose
 * evaluation follows SPF and DKIM. The end of the message waits for them within a bound;
 * what is unanswered then counts as a temporary error. Their results go into the
 * Authentication-Results field, and DMARC's outcome decides where the message goes, unless
 * a passing ARC chain sealed by a trusted forwarder vouches that DMARC passed before it. */
#ifndef ESTAFETA_MESSAGE_CHECKS_H
#define ESTAFETA_MESSAGE_CHECKS_H
#include "core/dns.h"
#include "mail/authres.h"
#include "verify/arc_verify.h"
#include "verify/dkim_verify.h"
#include "verify/dmarc.h"
#include "store/store.h"
#include <stddef.h>

/* At most one SPF, DKIM_VERIFY_MAX_SIGNATURES DKIM, one ARC and one DMARC result. */
#define MESSAGE_CHECKS_MAX_RESULTS (3 + DKIM_VERIFY_MAX_SIGNATURES)

struct message_checks;

/* ip: the client's address; helo its HELO name; sender the MAIL FROM address ("" for the
 * null sender); hostname ours (SPF's %{r}); trusted_sealers arc.trusted_sealers (domains,
 * comma-separated, copied). Starts SPF. */
struct message_checks *message_checks_start(struct dns *d, const char *ip, const char *helo,
					    const char *sender, const char *hostname,
					    const char *trusted_sealers);
/* The header section as it arrived, up to its empty line: starts DKIM and DMARC. Once. */
void message_checks_header(struct message_checks *m, const char *hdr, size_t len);
/* Body octets in order, as they stream in. */
void message_checks_body(struct message_checks *m, const char *data, size_t len);
/* The message has ended: done(arg) runs once, on the loop, after this call returns, when
 * every check is done or timeout_ms has passed. */
void message_checks_wait(struct message_checks *m, int timeout_ms, void (*done)(void *arg),
			 void *arg);
/* The results for Authentication-Results (spf, each dkim, arc, dmarc), in out[0..max); returns
 * how many. Their strings live in m until the next call or the free. */
size_t message_checks_results(struct message_checks *m, struct authres_result *out, size_t max);
/* DMARC's outcome (a temperror until it is done). */
const struct dmarc_outcome *message_checks_dmarc(struct message_checks *m);
/* What DMARC found, for aggregate reports (store.h's observation): NULL unless a policy
 * record applied (pass or fail). ip the client's, envelope_to the domain of the first
 * recipient, disposition what was done ("none", "pass", "quarantine", "reject"). */
struct dmarc_observation *message_checks_observation(struct message_checks *m, const char *ip,
						     const char *envelope_to,
						     const char *disposition);
/* When DMARC failed but the ARC chain passes, its last sealer (instance N's ARC-Seal d=) is
 * one of the trusted sealers and that instance's ARC-Authentication-Results reports
 * dmarc=pass: that sealer's domain, and the message is to be taken as if DMARC passed. Else
 * NULL. */
const char *message_checks_arc_override(struct message_checks *m);
/* Cancels what is out. */
void message_checks_free(struct message_checks **m);
#endif
