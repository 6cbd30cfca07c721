/* Dropping root; see privilege.h. */
#include "core/privilege.h"
#include "core/xalloc.h"
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

int privilege_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, char **error_r)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		*error_r = xasprintf("user \"%s\" (setting run_as) does not exist: create it with "
				     "\"useradd --system %s\" or set run_as", user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		*error_r = xasprintf("run_as names %s, which is root: the server never runs as root "
				     "(set run_as to a system user such as estafeta)", user);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int privilege_drop(const char *user, char **error_r)
{
	if (geteuid() != 0)
		return 0;
	uid_t uid;
	gid_t gid;
	if (privilege_lookup(user, &uid, &gid, error_r) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		*error_r = xasprintf("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		*error_r = xasprintf("could regain root after becoming %s; refusing to go on", user);
		return -1;
	}
	return 0;
}
