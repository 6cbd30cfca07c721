/* Owners and modes of an instance's files; see instance.h. */
#include "cli/instance.h"
#include "core/log.h"
#include "core/privilege.h"
#include "core/xalloc.h"
#include <dirent.h>
#include <errno.h>
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

/* Gives path its owner and group (when root) and mode: (current mode & keep) | mode. Symbolic links are the administrator's and
 * stay as they are, as does what belongs to someone else when not root. A missing path is no
 * error. Returns 0 or -1 with *error_r. */
static int fix(struct prep *p, const char *path, enum owner owner, enum group group, mode_t mode,
	       mode_t keep)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		*p->error_r = xasprintf("cannot check %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode) || (!p->root && st.st_uid != geteuid()))
		return 0;
	uid_t uid = st.st_uid;
	gid_t gid = st.st_gid;
	if (p->root) {
		uid = owner == BY_ROOT ? 0 : p->run_uid;
		gid = group == GROUP_KEEP ? st.st_gid : p->run_gid;
	}
	mode_t was = st.st_mode & 07777, want = (was & keep) | mode;
	if ((uid != st.st_uid || gid != st.st_gid) && lchown(path, uid, gid) < 0) {
		*p->error_r = xasprintf("cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
		return -1;
	}
	if (want != was && chmod(path, want) < 0) {
		*p->error_r = xasprintf("cannot change the mode of %s: %s", path, strerror(errno));
		return -1;
	}
	if (p->report && (want != was || uid != st.st_uid || gid != st.st_gid))
		log_warn("permissions fixed path=%s mode=%04o->%04o owner=%u:%u->%u:%u", path,
			 (unsigned)was, (unsigned)want, (unsigned)st.st_uid, (unsigned)st.st_gid,
			 (unsigned)uid, (unsigned)gid);
	return 0;
}

static int fix_in(struct prep *p, const char *dir, const char *name, enum owner owner, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int r = fix(p, path, owner, GROUP_RUNAS, mode, 0);
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
	if (fix(p, data_dir, BY_RUNAS, GROUP_RUNAS, 0711, 0) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (fix_in(p, data_dir, entries[i].name, BY_RUNAS, entries[i].mode) < 0)
			return -1;
	/* messages/XX: at most 256 folders; the files in them are made 0600 and only reachable
	 * through these */
	char *messages = xasprintf("%s/messages", data_dir);
	DIR *d = opendir(messages);
	int r = 0;
	for (struct dirent *e; r == 0 && d != NULL && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && e->d_type == DT_DIR)
			r = fix_in(p, messages, e->d_name, BY_RUNAS, 0700);
	if (d != NULL)
		closedir(d);
	free(messages);
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
	char *file = realpath(conf_file, NULL);
	/* passable by all: sendmail reads the config, the server reaches the data inside */
	int r = fix(p, dir, BY_ROOT, GROUP_KEEP, 0111, 07755);
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
