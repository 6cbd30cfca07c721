/* The Authentication-Results header field (RFC 8601): writing ours from a list of method
 * results, and reading the authentication service identifier of those a message arrives with,
 * so the ones claiming to be ours (forgeries, RFC 8601 5) can be removed. Pure functions. */
#ifndef ESTAFETA_AUTHRES_H
#define ESTAFETA_AUTHRES_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

#define AUTHRES_MAX_PROPERTIES 4

/* propspec = ptype "." property "=" pvalue, as "policy.iprev=192.0.2.1" */
struct authres_property {
	const char *ptype;
	const char *property;
	const char *value;
};

/* resinfo = ";" method "=" result [reason] [properties], with a comment after the result */
struct authres_result {
	const char *method;   /* "iprev", later "spf", "dkim", "dmarc" ... */
	const char *result;   /* "pass", "fail", "temperror" ... */
	const char *reason;   /* NULL, or free text written as reason="..." */
	const char *comment;  /* NULL, or free text written as a comment, for people */
	struct authres_property props[AUTHRES_MAX_PROPERTIES];
	size_t prop_count;
};

/* Appends "Authentication-Results: ID; result; result\r\n" to out: each result on a line of its
 * own, folded at white space to stay within 78 columns where a word allows it. No results
 * give "ID; none". Comments and reasons are escaped; octets outside printable ASCII in them
 * become "?". */
void authres_write(buf *out, const char *authserv_id, const struct authres_result *results,
		   size_t count);

/* authres-payload = [CFWS] authserv-id [CFWS authres-version] ( no-result / 1*resinfo ):
 * appends the authserv-id of a field value to id (unquoted) and sets *version (1 when
 * absent). false when the value does not begin that way (nothing then follows the id, or
 * something other than ";"). */
bool authres_parse_id(const char *value, size_t len, buf *id, unsigned long *version);

/* Whether an Authentication-Results value (authres-payload, as authres_parse_id reads it)
 * reports method=result for the method named (a resinfo's method, case-insensitive, with
 * any "/version" after it ignored), as ARC's ARC-Authentication-Results carry them. */
bool authres_reports(const char *value, size_t len, const char *method, const char *result);

/* Appends the header section hdr to out without the Authentication-Results fields that name
 * authserv_id (case-insensitive), that bear a version other than 1, or that cannot be read
 * (RFC 8601 5); the others stay. Returns the number removed. */
size_t authres_remove_ours(const char *hdr, size_t len, const char *authserv_id, buf *out);
#endif
