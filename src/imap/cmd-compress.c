/* COMPRESS (RFC 4978): DEFLATE both ways from the end of the tagged OK. The compression
 * itself is the connection's (core/conn.c, core/deflate_filter.c); IMAP only turns it on. */
#include "imap/imap.h"
#include "core/log.h"

/* compress = "COMPRESS" SP algorithm; algorithm = "DEFLATE" (RFC 4978 3, 5)
 * A second COMPRESS gets NO [COMPRESSIONACTIVE], as from Dovecot: the RFC's "active via
 * another layer" code tells a client best why, where BAD would read as a syntax error. */
void imap_cmd_compress(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (!imap_arg_atom_is(&cmd->args[0], "DEFLATE")) {
		imap_tagged(s, cmd->tag, "BAD Unknown compression mechanism");
		return;
	}
	if (conn_is_compressed(s->conn)) {
		imap_tagged(s, cmd->tag, "NO [COMPRESSIONACTIVE] DEFLATE is active already");
		return;
	}
	imap_tagged(s, cmd->tag, "OK DEFLATE active");
	if (conn_start_compress(s->conn) < 0) {
		log_error("session=%s imap compress failed", conn_id(s->conn));
		imap_session_close(s);
		return;
	}
	log_info("session=%s imap compress deflate", conn_id(s->conn));
}
