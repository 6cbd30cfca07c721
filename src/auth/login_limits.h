/* The limits on failed logins that every protocol shares (SMTP AUTH, POP3, IMAP), held in
 * memory by the running server. What counts, and why so:
 *
 * - Failures for one account from one client address (an IPv6 address counts by its /64,
 *   netaddr.h): past max_per_pair that account is refused from that address. This is the
 *   guessing limit; other accounts behind the same address (an office's NAT) go on.
 * - Accounts with failures from one address: past max_accounts_per_ip, logins for further
 *   accounts from it are refused (one password tried on many accounts).
 * - Failures for one account from all addresses: past max_per_account it is refused from
 *   addresses it has not logged in from lately (guessing spread over many addresses).
 *
 * The last two never refuse an account from an address it logged in from successfully within
 * known_time ("known": kept in memory, so a restart forgets them), so an attacker elsewhere
 * cannot lock a user out of their own devices; only the pair limit can, and only from the
 * attacker's own address. Dovecot's auth penalty and fail2ban limit by address alone, which
 * turns a guesser into a lock-out for everyone behind that address.
 *
 * An attempt counts as a failure from the moment it starts (login_limits_begin, before the
 * password is checked), so parallel attempts cannot all be checked before the first one
 * counts; a success takes back the failures of that account from that address only, so a
 * login to one's own account never wipes the guesses made at another. Each failure counts
 * for window seconds after the last failure of its pair. Addresses in the trusted networks
 * are neither counted nor refused. Times are seconds of a clock that never goes back. */
#ifndef ESTAFETA_LOGIN_LIMITS_H
#define ESTAFETA_LOGIN_LIMITS_H
#include "core/buf.h"
#include <stdbool.h>
#include <time.h>

struct login_limit_settings {
	int max_per_pair;
	int max_accounts_per_ip;
	int max_per_account;
	time_t window;       /* how long a failure counts */
	time_t known_time;   /* how long a successful address stays known for its account */
};

enum login_limit {
	LOGIN_LIMIT_NONE,      /* go on: the attempt is counted */
	LOGIN_LIMIT_PAIR,      /* this account failed too often from this address */
	LOGIN_LIMIT_ADDRESS,   /* this address failed for too many accounts */
	LOGIN_LIMIT_ACCOUNT,   /* this account failed too often from everywhere */
};

/* The clock the running server gives these functions: seconds of CLOCK_MONOTONIC. */
time_t login_limits_clock(void);

struct login_limits;
struct login_limits *login_limits_new(void);
void login_limits_free(struct login_limits **l);
/* (Re)sets the limits; the counts stay. */
void login_limits_set(struct login_limits *l, const struct login_limit_settings *s);
/* Sets the trusted networks (netaddr_networks_parse's list). Returns 0, or -1 with *error_r
 * and the old networks kept. */
int login_limits_trust(struct login_limits *l, const char *networks, char **error_r);

/* An attempt to log in to account (any letter case) from ip starts. Returns LOGIN_LIMIT_NONE
 * when it may go on, counted as a failure until login_limits_succeeded; otherwise the limit
 * that refuses it, and nothing is counted. */
enum login_limit login_limits_begin(struct login_limits *l, const char *ip, const char *account,
				    time_t now);
/* The attempt proved the password: that account's failures from ip's group are forgotten and
 * the group becomes known for the account. */
void login_limits_succeeded(struct login_limits *l, const char *ip, const char *account,
			    time_t now);
/* Failures counted lately from ip's group, for all accounts (the growing delay). */
int login_limits_address_failures(struct login_limits *l, const char *ip, time_t now);

/* Appends one line per refusal in force (no line end), as `estafeta auth blocked` prints:
 *   ip=192.0.2.7 account=alice@example.org failures=10 left=840s
 *   ip=2001:db8:1:2::/64 accounts=5 failures=7 left=300s
 *   account=alice@example.org failures=30 left=120s
 * each line ending in '\n'; left is how long until the refusal lifts by itself. */
void login_limits_list(struct login_limits *l, time_t now, buf *out);
/* Forgets the failures of an address (an IPv4 address, or any IPv6 address or the "/64" of
 * its group) or else of an account, from everywhere. Returns how many account and address
 * pairs were forgotten. */
int login_limits_unblock(struct login_limits *l, const char *address_or_account, time_t now);
#endif
