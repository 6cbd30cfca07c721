/* The requests of `estafeta auth` on the control socket (core/control.h), answered from the
 * running server's login limits:
 *   auth-blocked            one data line per refusal in force (login_limits_list)
 *   auth-unblock WHAT       forgets the failures of an address or an account */
#ifndef ESTAFETA_LOGIN_CONTROL_H
#define ESTAFETA_LOGIN_CONTROL_H
#include "auth/login_limits.h"
#include "core/control.h"

/* Registers the requests on ctl; l must outlive ctl. */
void login_control_register(struct control *ctl, struct login_limits *l);
#endif
