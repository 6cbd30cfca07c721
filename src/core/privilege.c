/* Dropping root; see privilege.h. */
#include "core/privilege.h"
#include "core/xalloc.h"
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

int privilege_drop(const char *user, char **error_r)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		*error_r = xasprintf("user \"%s\" (setting run_as) does not exist: create it with "
				     "\"useradd --system %s\" or set run_as", user, user);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		*error_r = xasprintf("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		*error_r = xasprintf("could regain root after becoming %s; refusing to go on", user);
		return -1;
	}
	return 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

int privilege_chown_tree(const char *path, const char *user, char **error_r)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		*error_r = xasprintf("user \"%s\" (setting run_as) does not exist: create it with "
				     "\"useradd --system %s\" or set run_as", user, user);
		return -1;
	}
	chown_uid = pw->pw_uid;
	chown_gid = pw->pw_gid;
	if (nftw(path, chown_one, 16, FTW_PHYS) != 0) {
		*error_r = xasprintf("cannot give %s to %s: %s", path, user, strerror(errno));
		return -1;
	}
	return 0;
}
