/* The reserved mailboxes every domain of ours has (RFC 5321 4.5.1: postmaster; RFC 2142:
 * abuse): aliases to the administrator, made by init (--admin ADDRESS), domain add and the
 * first user add, and shown by `alias list` like any alias, so the administrator can point
 * them elsewhere. */
#ifndef ESTAFETA_CLI_POSTMASTER_H
#define ESTAFETA_CLI_POSTMASTER_H
#include "store/store.h"

/* Gives every domain's postmaster@ and abuse@ that reach no one an alias to admin, or when
 * admin is NULL to the administrator the instance already has: the targets of an existing
 * postmaster alias, else its first account. Says on stderr what it added. Returns 1 when
 * every domain has both, 0 when there is no administrator yet (nothing done), -1 with
 * *error_r. */
int postmaster_ensure(struct store *st, const char *admin, char **error_r);
/* Whether address is the only target of a postmaster@ or abuse@ alias, which would then reach
 * no one without it: 1 with that alias (allocated) in *alias_r, 0 when not, -1 with *error_r. */
int postmaster_sole_target(struct store *st, const char *address, char **alias_r, char **error_r);
#endif
