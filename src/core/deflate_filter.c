/* The DEFLATE filter of COMPRESS; see deflate_filter.h. zlib does the compression: no reason
 * to write one by hand. */
#include "core/deflate_filter.h"
#include "core/xalloc.h"
#include <event2/buffer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

/* Octets inflated or deflated per zlib call. */
#define DEFLATE_CHUNK (16 * 1024)

struct deflate_filter {
	z_stream in;  /* the client's commands */
	z_stream out; /* our responses */
	struct event *failed;
	bool broken;  /* the client's stream could not be inflated */
};

static void filter_free(void *arg)
{
	struct deflate_filter *z = arg;
	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
}

static void input_broken(struct deflate_filter *z, struct evbuffer *src)
{
	z->broken = true;
	evbuffer_drain(src, evbuffer_get_length(src));
	event_active(z->failed, 0, 0);
}

/* Inflates what src holds into dst, at most limit octets (the room left under the read
 * watermark): the rest waits, compressed, for the session to take what it has. */
static enum bufferevent_filter_result inflate_input(struct evbuffer *src, struct evbuffer *dst,
						    ev_ssize_t limit, enum bufferevent_flush_mode mode,
						    void *arg)
{
	struct deflate_filter *z = arg;
	if (z->broken) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_ERROR;
	}
	size_t room = limit < 0 ? DEFLATE_CHUNK : (size_t)limit;
	bool made_any = false;
	while (room > 0 && evbuffer_get_length(src) > 0) {
		struct evbuffer_iovec in, out;
		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1 || evbuffer_reserve_space(dst, DEFLATE_CHUNK, &out, 1) < 1)
			break;
		size_t want = room < DEFLATE_CHUNK ? room : DEFLATE_CHUNK;
		z->in.next_in = in.iov_base;
		z->in.avail_in = (uInt)in.iov_len;
		z->in.next_out = out.iov_base;
		z->in.avail_out = (uInt)want;
		int r = inflate(&z->in, Z_SYNC_FLUSH);
		size_t used = in.iov_len - z->in.avail_in;
		out.iov_len = want - z->in.avail_out;
		evbuffer_commit_space(dst, &out, 1);
		evbuffer_drain(src, used);
		room -= out.iov_len;
		made_any |= out.iov_len > 0;
		/* RFC 4978 has no end of stream: one that ends, or is not DEFLATE, cannot go on */
		if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR)) {
			input_broken(z, src);
			return BEV_ERROR;
		}
		if (used == 0 && out.iov_len == 0)
			break; /* needs more input */
	}
	return made_any ? BEV_OK : BEV_NEED_MORE;
}

/* Deflates len octets of data into dst with flush, until zlib has given out all it can. */
static void deflate_into(struct deflate_filter *z, struct evbuffer *dst, const void *data, size_t len,
			 int flush)
{
	z->out.next_in = (Bytef *)data;
	z->out.avail_in = (uInt)len;
	do {
		struct evbuffer_iovec out;
		if (evbuffer_reserve_space(dst, DEFLATE_CHUNK, &out, 1) < 1)
			return;
		z->out.next_out = out.iov_base;
		z->out.avail_out = (uInt)out.iov_len;
		deflate(&z->out, flush); /* Z_BUF_ERROR: nothing left to flush, which is fine */
		out.iov_len -= z->out.avail_out;
		evbuffer_commit_space(dst, &out, 1);
	} while (z->out.avail_out == 0 || z->out.avail_in > 0);
}

/* Deflates src into dst until limit octets have come out (the room under the lower layer's
 * write watermark; the rest waits uncompressed), then flushes (Z_SYNC_FLUSH) so that what was
 * taken reaches the client at once, as it would have without compression. */
static enum bufferevent_filter_result deflate_output(struct evbuffer *src, struct evbuffer *dst,
						     ev_ssize_t limit, enum bufferevent_flush_mode mode,
						     void *arg)
{
	struct deflate_filter *z = arg;
	size_t start = evbuffer_get_length(dst);
	bool flushed = true;
	while (evbuffer_get_length(src) > 0 && (limit < 0 || evbuffer_get_length(dst) - start < (size_t)limit)) {
		struct evbuffer_iovec seg;
		if (evbuffer_peek(src, -1, NULL, &seg, 1) < 1)
			break;
		size_t n = seg.iov_len < DEFLATE_CHUNK ? seg.iov_len : DEFLATE_CHUNK;
		flushed = n == evbuffer_get_length(src);
		deflate_into(z, dst, seg.iov_base, n, flushed ? Z_SYNC_FLUSH : Z_NO_FLUSH);
		evbuffer_drain(src, n);
	}
	if (!flushed)
		deflate_into(z, dst, NULL, 0, Z_SYNC_FLUSH);
	return BEV_OK;
}

struct bufferevent *deflate_filter_new(struct bufferevent *under, struct event *failed)
{
	struct deflate_filter *z = xcalloc(1, sizeof(*z));
	z->failed = failed;
	/* raw DEFLATE (RFC 1951), no zlib header: negative windowBits (RFC 4978 4) */
	if (inflateInit2(&z->in, -15) != Z_OK) {
		free(z);
		return NULL;
	}
	if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->in);
		free(z);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_filter_new(under, inflate_input, deflate_output,
							 BEV_OPT_CLOSE_ON_FREE, filter_free, z);
	if (bev == NULL)
		filter_free(z);
	return bev;
}
