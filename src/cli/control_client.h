/* The client side of the control socket (core/control.h), for the commands that act on the
 * running server: one request, the answer's data lines printed, its status as exit status. */
#ifndef ESTAFETA_CLI_CONTROL_CLIENT_H
#define ESTAFETA_CLI_CONTROL_CLIENT_H
#include "cli/cli.h"

/* Sends the request line ("NAME" or "NAME ARGUMENT", no line end) to the server of cli's
 * configuration and prints each data line of the answer on stdout. Returns 0 when the server
 * answered ok; 1 after printing its error, or that no server is running. Blocks, at most
 * some seconds. */
int cli_control(struct cli *cli, const char *request);
#endif
