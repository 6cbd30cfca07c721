/* The local control socket through which estafeta commands reach the running server (`estafeta
 * auth blocked|unblock`, `estafeta reload`): a Unix-domain socket in the instance's
 * data folder, mode 0600 and owned by the server's user, so only that user and root can use
 * it. The protocol is lines: the client sends one request line, "NAME" or "NAME ARGUMENT";
 * the server answers with data lines, each starting with CONTROL_DATA, then one status line,
 * CONTROL_OK or CONTROL_ERROR and a message, and closes. Served on the event loop: a slow or
 * silent client holds nothing up and is dropped after a timeout. */
#ifndef ESTAFETA_CONTROL_H
#define ESTAFETA_CONTROL_H
#include "core/buf.h"
#include "core/config.h"
#include <event2/event.h>

#define CONTROL_DATA "+ "
#define CONTROL_OK "ok"
#define CONTROL_ERROR "error "
#define CONTROL_MAX_REQUEST 4096 /* bytes of a request line */

/* The socket's path for the instance of cfg: "DATA_DIR/control.sock" (allocated). */
char *control_socket_path(const struct config *cfg);

/* A request's handler. arg is what follows the name and one space ("" when nothing). It
 * appends its answer to out as lines, each ending in '\n' (the data prefix is added for it),
 * and returns 0; or -1 with *error_r (allocated, one line). Runs on the loop: never blocks. */
typedef int control_fn(void *ctx, const char *arg, buf *out, char **error_r);

/* Whether a server answers at the control socket path: 1 yes, 0 no (errno from connect:
 * ENOENT when there is no socket, ECONNREFUSED for one left by a crash, EACCES when this user
 * may not tell), -1 when it cannot be asked (errno). Blocks for a moment at most. */
int control_probe(const char *path);

struct control;
/* Listens at path. Call it as the server's user (after dropping root), so the socket is
 * theirs. A socket left by a server that crashed is replaced; one that answers belongs to a
 * server still running and is an error. NULL with *error_r when it cannot listen. */
struct control *control_new(struct event_base *base, const char *path, char **error_r);
/* Serves requests named name with fn(ctx, ...); ctx must outlive the control. */
void control_register(struct control *ctl, const char *name, control_fn *fn, void *ctx);
/* Stops listening, drops clients being answered and removes the socket. */
void control_free(struct control **ctl);
#endif
