/* The mail client's account: who the user is and where the servers are, from
 * ~/.config/estafeta/mail.conf ("name = value" lines; $ESTAFETA_MAIL_CONFIG names another
 * file) and the environment, the environment winning:
 *   address   ESTAFETA_MAIL_ADDRESS    the user's address (also the login name by default)
 *   name      ESTAFETA_MAIL_NAME       display name for From
 *   user      ESTAFETA_MAIL_USER       login name, when it is not the address
 *   password  ESTAFETA_MAIL_PASSWORD
 *   password_command  ESTAFETA_MAIL_PASSWORD_COMMAND  a command that prints the password
 *   imap      ESTAFETA_MAIL_IMAP       host:port (993: implicit TLS, else STARTTLS), or
 *                                      imaps://host:port (implicit TLS on any port) or
 *                                      imap://host:port (STARTTLS on any port)
 *   smtp      ESTAFETA_MAIL_SMTP       host:port (465: implicit TLS, else STARTTLS), or
 *                                      smtps://host:port or smtp://host:port likewise
 *   tls_verify ESTAFETA_MAIL_TLS_VERIFY yes (default) or no
 *   resolvers ESTAFETA_MAIL_RESOLVERS  DNS servers for discovery, "ip[:port],..."
 *   pgp_key   ESTAFETA_MAIL_PGP_KEY    the OpenPGP key (ID, fingerprint or address) to sign
 *                                      with; default: the key of the address
 *   smime_cert ESTAFETA_MAIL_SMIME_CERT the S/MIME certificate, PEM, or PKCS#12 (.p12/.pfx,
 *                                      holding the key too, with no passphrase)
 *   smime_key ESTAFETA_MAIL_SMIME_KEY  its private key, PEM (default: in smime_cert)
 *   sign_by_default ESTAFETA_MAIL_SIGN_BY_DEFAULT  yes: every message sent is signed
 *                                      (OpenPGP, or S/MIME when only smime_cert is set)
 *   encrypt_when_possible ESTAFETA_MAIL_ENCRYPT_WHEN_POSSIBLE  yes: encrypted with OpenPGP
 *                                      when every recipient has a key; Autocrypt says
 *                                      prefer-encrypt=mutual
 * Hosts not given are found from the address's domain (discover.h). Without a password
 * or a command, the password is asked on the terminal. */
#ifndef ESTAFETA_MUA_ACCOUNT_H
#define ESTAFETA_MUA_ACCOUNT_H
#include <stdbool.h>

struct server {
	char *host;
	int port;
	bool implicit_tls;
};

struct mail_account {
	char *address, *name, *user, *password, *password_command, *resolvers;
	char *imap_setting, *smtp_setting;
	char *pgp_key, *smime_cert, *smime_key;
	struct server imap, smtp; /* found by mail_account_server */
	bool verify;
	bool sign_by_default, encrypt_when_possible;
};

/* Reads the file and the environment. 0, or -1 with *error_r. */
int mail_account_load(struct mail_account *a, char **error_r);
/* Resolves where the IMAP (imap true) or SMTP server is, once. */
int mail_account_server(struct mail_account *a, bool imap, char **error_r);
/* Makes sure a->password is set: the command's output, or asked on the terminal. */
int mail_account_password(struct mail_account *a, char **error_r);
void mail_account_free(struct mail_account *a);
/* The client's folder sub (under $XDG_DATA_HOME/estafeta, else ~/.local/share/estafeta),
 * made when missing: Autocrypt peers and collected S/MIME certificates live there. */
char *mail_data_dir(const char *sub);
#endif
