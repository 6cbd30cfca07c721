/* Recipient resolution: where mail for an address goes. An address of ours is an account, a
 * distribution list (its members), an alias (its targets), an account with an extension
 * (alice+tag@ to alice@), or the domain's catch-all ("@domain" alias); each step is followed
 * recursively, with loops cut and duplicates removed, until only accounts and addresses of
 * other domains remain. */
#ifndef ESTAFETA_RESOLVE_H
#define ESTAFETA_RESOLVE_H
#include "store/store.h"
#include <stddef.h>
#include <stdint.h>

#define RESOLVE_MAX_DEPTH 16

struct resolved_local {
	int64_t account_id;
	char *address; /* the account's address (Delivered-To) */
};

struct resolved_remote {
	char *address;
	unsigned notify; /* DSN parameters of the RCPT it came from */
	char *orcpt;
};

/* Every final target of a transaction, each once. */
struct resolution {
	struct resolved_local *local;
	size_t local_count;
	struct resolved_remote *remote;
	size_t remote_count;
};

enum resolve_result {
	RESOLVE_OK,
	RESOLVE_UNKNOWN, /* no account, list or alias of ours has this address */
	RESOLVE_EMPTY,   /* it expands to nothing: an alias loop or a list with no members */
	RESOLVE_TOO_DEEP,/* aliases nested deeper than RESOLVE_MAX_DEPTH */
	RESOLVE_ERROR,   /* the store failed; *error_r says why */
};

void resolution_init(struct resolution *r);
void resolution_free(struct resolution *r);
/* Removes the targets added after r had these counts (a recipient refused after all). */
void resolution_truncate(struct resolution *r, size_t local_count, size_t remote_count);

/* Resolves address (canonical "local@domain") and adds its targets to r, skipping those
 * already there. An address of another domain is itself a remote target. delimiter holds the
 * characters that start an extension ("" for none). notify/orcpt are kept with remote targets. */
enum resolve_result resolve_recipient(struct store *st, const char *address, const char *delimiter,
				      unsigned notify, const char *orcpt, struct resolution *r,
				      char **error_r);

/* 1 when the domain part of address is one of ours, 0 when not, -1 on error. */
int resolve_is_local(struct store *st, const char *address, char **error_r);
#endif
