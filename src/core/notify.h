/* The service manager's readiness protocol (systemd's sd_notify, Type=notify): one datagram of
 * "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. Written here because it is a
 * few lines and libsystemd would be a dependency for nothing else. */
#ifndef ESTAFETA_NOTIFY_H
#define ESTAFETA_NOTIFY_H

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") when $NOTIFY_SOCKET is
 * set (a path, or "@name" for an abstract socket); does nothing when it is not. Never blocks.
 * Returns 0, or -1 when the socket is set but the datagram could not be sent (logged). */
int notify_service_manager(const char *state);
#endif
