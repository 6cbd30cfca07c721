/* Who owns what in an instance, and with which mode. The run_as user must not be able to change
 * what the server reads as root (the config, the TLS key) nor rename it away, so those live in
 * folders owned by root; the data it writes lives in a folder of its own:
 *
 *   DIR/                         root         0755  the config and the certificates
 *   DIR/estafeta.conf            root         0644  readable by all (sendmail), no secret in it
 *   (for these two the group and the read bits are the administrator's; g+w and o+w go, and
 *   the folder is passable by all; a folder writable by all or owned by another user is
 *   refused, not changed: it could be /tmp or someone's home)
 *   DIR/tls/                     root:RUNAS   0750
 *   DIR/tls/cert.pem             root:RUNAS   0644
 *   DIR/tls/key.pem              root:RUNAS   0640  re-read after the privilege drop on SIGHUP
 *   relayhost.password_file      root:RUNAS   0640
 *   DATA/ (data_dir)             RUNAS:RUNAS  0711  others may only pass through, to the maildrop
 *   DATA/estafeta.db, -wal, -shm RUNAS:RUNAS  0600
 *   DATA/messages/ (and XX/), tmp/ RUNAS:RUNAS 0700
 *   DATA/maildrop/               RUNAS:RUNAS  1733  anyone adds (sendmail), nobody lists
 *
 * Not run as root, the owners are left alone (the server stays the user who started it) and the
 * modes still apply. Certificates outside DIR (certbot's /etc/letsencrypt) are left as they are. */
#ifndef ESTAFETA_INSTANCE_H
#define ESTAFETA_INSTANCE_H
#include "core/config.h"
#include <stdbool.h>

/* Creates the data folder when missing and gives every file above its owner and mode, fixing
 * what differs (a warning line each when report is set). Refuses, with an allocated message in
 * *error_r naming the fix, what cannot be fixed: run as root, a data_dir that is (or holds) the
 * config's folder, a config or data folder writable by all or owned by another user; in any
 * case relayhost.password written inline in a config other users can read. Returns 0 or -1.
 * Blocks (file system). */
int instance_prepare(const struct config *cfg, const char *conf_file, bool report, char **error_r);
/* Refuses (-1 with *error_r) relayhost.password written inline in a config file other users
 * can read; 0 otherwise. Called on every reload too. */
int instance_check_secrets(const struct config *cfg, const char *conf_file, char **error_r);
#endif
