/* Autocrypt Level 1: the "Autocrypt:" header field (addr=; prefer-encrypt=; keydata=), its
 * parser and writer (pure), and the peers learnt from it, one file per address in the
 * client's autocrypt folder holding the latest header seen from that address. */
#ifndef ESTAFETA_MUA_AUTOCRYPT_H
#define ESTAFETA_MUA_AUTOCRYPT_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

struct autocrypt_header {
	char *addr;        /* lowercased */
	bool mutual;       /* prefer-encrypt=mutual */
	buf keydata;       /* the key, binary */
};

/* Parses a field value (unfolded or not). 0, or -1 when it is not a valid header: addr or
 * keydata missing or repeated, keydata not base64, or an unknown attribute not starting with
 * "_" (Autocrypt Level 1, 2.1). Free with autocrypt_header_free either way. */
int autocrypt_parse(const char *value, size_t len, struct autocrypt_header *h);
void autocrypt_header_free(struct autocrypt_header *h);
/* Appends the whole field, folded, CRLF-ended. */
void autocrypt_write(buf *out, const char *addr, bool mutual, const char *keydata, size_t len);

/* Keeps the header of a message from from_addr in dir (when addr is from_addr). */
void autocrypt_learn(const char *dir, const char *from_addr, const char *value, size_t len);
/* The peer's header as last learnt; 0, or -1 when there is none. */
int autocrypt_find(const char *dir, const char *addr, struct autocrypt_header *h);
/* Appends "addr  prefer-encrypt=..." lines for every peer to out. */
void autocrypt_list(const char *dir, buf *out);
#endif
