/* Least privilege: a process started as root binds what it must, then becomes an ordinary
 * user for good (setgroups, setgid, setuid; no way back). */
#ifndef ESTAFETA_PRIVILEGE_H
#define ESTAFETA_PRIVILEGE_H

/* When running as root, becomes user (and its primary group) for good; does nothing when not
 * root. Returns 0, or -1 with an allocated message in *error_r (unknown user, failed call). */
int privilege_drop(const char *user, char **error_r);
/* When running as root, gives path (and everything below it) to user; no-op otherwise. */
int privilege_chown_tree(const char *path, const char *user, char **error_r);
#endif
