/* Owners and modes of an instance's files; see instance.h. */
#include "cli/instance.h"
#include "core/log.h"
#include "core/privilege.h"
#include "core/xalloc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct prep {
	bool root;          /* started as root: owners are set too */
	uid_t run_uid;      /* the run_as user, when root */
	gid_t run_gid;
	bool report;
	char **error_r;
};

enum owner { BY_ROOT, BY_RUNAS };
enum group { GROUP_RUNAS, GROUP_KEEP };

/* Gives the file name in folder at (AT_FDCWD for a path) its owner and group (when root) and
 * mode: (current mode & keep) | mode. The data folder belongs to the run_as user, so nothing
 * there is trusted: the file is opened without following a link (links are left as they are)
 * and changed through its descriptor, never by name. What belongs to someone else is left
 * alone when not root. A missing file is no error. Returns 0 or -1 with *error_r; path names
 * it in messages. */
static int fix_at(struct prep *p, int at, const char *name, const char *path, enum owner owner,
		  enum group group, mode_t mode, mode_t keep)
{
	int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ELOOP))
		return 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*p->error_r = xasprintf("cannot check %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	uid_t uid = st.st_uid;
	gid_t gid = st.st_gid;
	if (p->root) {
		uid = owner == BY_ROOT ? 0 : p->run_uid;
		gid = group == GROUP_KEEP ? st.st_gid : p->run_gid;
	}
	mode_t was = st.st_mode & 07777, want = (was & keep) | mode;
	int r = 0;
	if (!p->root && st.st_uid != geteuid()) {
		want = was;
	} else if ((uid != st.st_uid || gid != st.st_gid) && fchown(fd, uid, gid) < 0) {
		*p->error_r = xasprintf("cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
		r = -1;
	} else if (want != was && fchmod(fd, want) < 0) {
		*p->error_r = xasprintf("cannot change the mode of %s: %s", path, strerror(errno));
		r = -1;
	} else if (p->report && (want != was || uid != st.st_uid || gid != st.st_gid)) {
		log_warn("permissions fixed path=%s mode=%04o->%04o owner=%u:%u->%u:%u", path,
			 (unsigned)was, (unsigned)want, (unsigned)st.st_uid, (unsigned)st.st_gid,
			 (unsigned)uid, (unsigned)gid);
	}
	close(fd);
	return r;
}

static int fix(struct prep *p, const char *path, enum owner owner, enum group group, mode_t mode,
	       mode_t keep)
{
	return fix_at(p, AT_FDCWD, path, path, owner, group, mode, keep);
}

/* name in the folder open at dir (shown as dir_path): owned by run_as, with mode. */
static int fix_in(struct prep *p, int dir, const char *dir_path, const char *name, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir_path, name);
	int r = fix_at(p, dir, name, path, BY_RUNAS, GROUP_RUNAS, mode, 0);
	free(path);
	return r;
}

/* True when path is folder or lies below it. */
static bool inside(const char *path, const char *folder)
{
	size_t n = strlen(folder);
	return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* The folder of path, resolved; NULL when it does not exist. */
static char *real_folder(const char *path)
{
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	char *real = realpath(slash != NULL ? copy : ".", NULL);
	free(copy);
	return real;
}

/* The certificate and its key, when they live in the instance's folder (or a folder of it). */
static int prepare_tls(struct prep *p, const struct config *cfg, const char *instance_dir)
{
	static const struct {
		const char *setting;
		mode_t mode;
	} files[] = { { "tls.cert", 0644 }, { "tls.key", 0640 } };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = config_path(cfg, files[i].setting);
		char *folder = *path != '\0' ? real_folder(path) : NULL;
		int r = 0;
		if (folder != NULL && inside(folder, instance_dir)) {
			if (strcmp(folder, instance_dir) != 0)
				r = fix(p, folder, BY_ROOT, GROUP_RUNAS, 0750, 0);
			if (r == 0)
				r = fix(p, path, BY_ROOT, GROUP_RUNAS, files[i].mode, 0);
		}
		free(folder);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* A folder that is writable by others (as /tmp), or belongs to a user other than root and
 * run_as, is not changed but refused: its owner could replace what is in it, and fixing it
 * would take it from them. Returns 0, or -1 with *error_r naming the fix. */
static int refuse_foreign(struct prep *p, const char *folder, const char *what)
{
	struct stat st;
	if (stat(folder, &st) < 0) {
		*p->error_r = xasprintf("cannot check %s: %s", folder, strerror(errno));
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		*p->error_r = xasprintf("%s %s is writable by every user: give the instance a folder of "
					"its own", what, folder);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != p->run_uid) {
		*p->error_r = xasprintf("%s %s belongs to uid %u, who could replace what is in it: "
					"chown root %s", what, folder, (unsigned)st.st_uid, folder);
		return -1;
	}
	return 0;
}

/* The data folder and what the store and the server make in it. */
static int prepare_data(struct prep *p, const char *data_dir)
{
	static const struct {
		const char *name;
		mode_t mode;
	} entries[] = {
		{ "estafeta.db", 0600 }, { "estafeta.db-wal", 0600 }, { "estafeta.db-shm", 0600 },
		{ "messages", 0700 },    { "tmp", 0700 },             { "maildrop", 01733 },
	};
	if (p->root && refuse_foreign(p, data_dir, "the data folder") < 0)
		return -1;
	int data = open(data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (data < 0) {
		*p->error_r = xasprintf("cannot open the data folder %s: %s", data_dir, strerror(errno));
		return -1;
	}
	int r = fix_at(p, data, ".", data_dir, BY_RUNAS, GROUP_RUNAS, 0711, 0);
	for (size_t i = 0; r == 0 && i < sizeof(entries) / sizeof(entries[0]); i++)
		r = fix_in(p, data, data_dir, entries[i].name, entries[i].mode);
	/* messages/XX: at most 256 folders; the files in them are made 0600 and only reachable
	 * through these */
	int messages = r == 0 ? openat(data, "messages", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	DIR *d = messages >= 0 ? fdopendir(messages) : NULL;
	char *messages_path = xasprintf("%s/messages", data_dir);
	for (struct dirent *e; r == 0 && d != NULL && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && e->d_type == DT_DIR)
			r = fix_in(p, messages, messages_path, e->d_name, 0700);
	free(messages_path);
	if (d != NULL)
		closedir(d);
	else if (messages >= 0)
		close(messages);
	close(data);
	return r;
}

int instance_check_secrets(const struct config *cfg, const char *conf_file, char **error_r)
{
	struct stat st;
	if (*config_str(cfg, "relayhost.password") == '\0' ||
	    *config_path(cfg, "relayhost.password_file") != '\0' || stat(conf_file, &st) < 0 ||
	    (st.st_mode & S_IROTH) == 0)
		return 0;
	*error_r = xasprintf("relayhost.password is written in %s, which every local user can read: "
			     "put it in a file of its own (relayhost.password_file, mode 0640) or make "
			     "the config unreadable to others (chmod o-r)", conf_file);
	return -1;
}

/* The config file and its folder: the run_as user may change neither. */
static int prepare_config(struct prep *p, const struct config *cfg, const char *conf_file,
			  const char *data_dir)
{
	const char *dir = config_dir(cfg);
	if (p->root && inside(dir, data_dir)) {
		*p->error_r = xasprintf("the data folder %s holds the config's folder %s, which the "
					"run_as user could then replace: move the data into a folder of its own "
					"and set data_dir (README: \"Upgrading an instance\")", data_dir, dir);
		return -1;
	}
	if (p->root && refuse_foreign(p, dir, "the config's folder") < 0)
		return -1;
	char *file = realpath(conf_file, NULL);
	/* passable by all: sendmail reads the config, the server reaches the data inside */
	int r = fix(p, dir, BY_ROOT, GROUP_KEEP, 0111, 07757);
	if (r == 0 && file != NULL)
		r = fix(p, file, BY_ROOT, GROUP_KEEP, 0, 07755);
	free(file);
	if (r == 0)
		r = instance_check_secrets(cfg, conf_file, p->error_r);
	const char *secret = config_path(cfg, "relayhost.password_file");
	if (r == 0 && *secret != '\0')
		r = fix(p, secret, BY_ROOT, GROUP_RUNAS, 0640, 0);
	return r;
}

int instance_prepare(const struct config *cfg, const char *conf_file, bool report, char **error_r)
{
	struct prep p = { .root = geteuid() == 0, .report = report, .error_r = error_r };
	if (p.root && privilege_lookup(config_str(cfg, "run_as"), &p.run_uid, &p.run_gid, error_r) < 0)
		return -1;
	const char *data_path = config_path(cfg, "data_dir");
	if (mkdir(data_path, 0711) < 0 && errno != EEXIST) {
		*error_r = xasprintf("cannot create the data folder %s: %s", data_path, strerror(errno));
		return -1;
	}
	char *data_dir = realpath(data_path, NULL);
	if (data_dir == NULL) {
		*error_r = xasprintf("cannot find the data folder %s: %s", data_path, strerror(errno));
		return -1;
	}
	int r = prepare_config(&p, cfg, conf_file, data_dir);
	if (r == 0)
		r = prepare_tls(&p, cfg, config_dir(cfg));
	if (r == 0)
		r = prepare_data(&p, data_dir);
	free(data_dir);
	return r;
}
