/* Least privilege: a process started as root binds what it must, then becomes an ordinary
 * user for good (setgroups, setgid, setuid; no way back). The run_as user is never root: a
 * service account that could name root would make itself root. */
#ifndef ESTAFETA_PRIVILEGE_H
#define ESTAFETA_PRIVILEGE_H
#include <sys/types.h>

/* The uid and primary gid of user. Returns 0, or -1 with an allocated message in *error_r
 * when there is no such user or it is root (uid 0, whatever its name). */
int privilege_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, char **error_r);
/* When running as root, becomes user (and its primary group) for good; does nothing when not
 * root. Returns 0, or -1 with an allocated message in *error_r (unknown user, root, failed
 * call). */
int privilege_drop(const char *user, char **error_r);
#endif
