/* What estafeta dns check makes of the TXT records found at a name, for the record the name
 * should have (cli/dns_records.h): not an exact comparison but what receivers read of them
 * (SPF: one v=spf1 record that authorizes the server's addresses; DKIM: the same p= key;
 * DMARC: one valid v=DMARC1 record; MTA-STS: the same id; TLSRPT: a rua=). Pure. */
#ifndef ESTAFETA_CLI_DNS_TXT_JUDGE_H
#define ESTAFETA_CLI_DNS_TXT_JUDGE_H
#include "cli/dns_records.h"
#include "core/buf.h"

enum dns_verdict { DNS_VERDICT_OK, DNS_VERDICT_MISSING, DNS_VERDICT_DIFFERS, DNS_VERDICT_FAILED };

/* records: the TXT records at rec's owner, each one's strings joined. Appends to detail what
 * the line says after "NAME TXT: " for OK and DIFFERS (MISSING says what to publish itself). */
enum dns_verdict dns_judge_txt(const struct dns_record *rec, const strlist *addresses,
			       char *const *records, size_t count, buf *detail);
#endif
