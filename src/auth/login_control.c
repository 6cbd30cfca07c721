/* `estafeta auth` on the server's side; see login_control.h. */
#include "auth/login_control.h"
#include "core/log.h"
#include "core/xalloc.h"

static int auth_blocked(void *ctx, const char *arg, buf *out, char **error_r)
{
	if (*arg != '\0') {
		*error_r = xasprintf("auth-blocked takes no argument");
		return -1;
	}
	login_limits_list(ctx, login_limits_clock(), out);
	return 0;
}

static int auth_unblock(void *ctx, const char *arg, buf *out, char **error_r)
{
	if (*arg == '\0') {
		*error_r = xasprintf("auth-unblock needs an address or an account");
		return -1;
	}
	int n = login_limits_unblock(ctx, arg, login_limits_clock());
	log_info("auth unblocked what=%s pairs=%d", arg, n);
	if (n == 0)
		buf_printf(out, "no failed logins were counted for %s\n", arg);
	else
		buf_printf(out, "unblocked %s: forgot the failed logins of %d account and address pair%s\n",
			   arg, n, n == 1 ? "" : "s");
	return 0;
}

void login_control_register(struct control *ctl, struct login_limits *l)
{
	control_register(ctl, "auth-blocked", auth_blocked, l);
	control_register(ctl, "auth-unblock", auth_unblock, l);
}
