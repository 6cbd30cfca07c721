/* Dovecot's files beside a Maildir's cur/ and new/: dovecot-uidlist, which gives the folder its
 * UIDVALIDITY and next UID (the header line) and each message its UID (one line per message,
 * naming the file by its base), and dovecot-keywords, which names the keywords the small
 * letters of the file names stand for. Both read one line at a time, without its line end.
 * Pure functions; what they do not know they refuse (-1) and the caller skips the line. */
#ifndef ESTAFETA_DOVECOT_UIDLIST_H
#define ESTAFETA_DOVECOT_UIDLIST_H
#include <stddef.h>
#include <stdint.h>

struct uidlist_header {
	unsigned version;     /* 1, 2 or 3 */
	uint32_t uidvalidity;
	uint32_t uidnext;
};
/* "3 V1796406349 N5 G..." (versions 2 and 3: fields named by a letter) or "1 1796406349 5".
 * 0, or -1 when it is no header or its UIDVALIDITY is missing or 0. */
int uidlist_header_parse(const char *line, size_t len, struct uidlist_header *out);
/* "12 W1260 :1733334345.M1P2.host,S=1234,W=1260" (versions 2 and 3: fields, then the base
 * after a colon) or "12 1733334345.M1P2.host" (version 1). 0 with the UID (never 0) and
 * *base_r, *base_len_r pointing into line, or -1. */
int uidlist_entry_parse(const char *line, size_t len, unsigned version, uint32_t *uid_r,
			const char **base_r, size_t *base_len_r);
/* "0 $Forwarded": 0 with the index (0 to 25, letters 'a' to 'z') and the keyword, or -1. */
int keywords_line_parse(const char *line, size_t len, unsigned *index_r, const char **keyword_r,
			size_t *keyword_len_r);
#endif
