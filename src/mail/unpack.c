/* gzip and zip with zlib; see unpack.h. Zip is read by hand since a report archive is one
 * file: its local file header (PKWARE APPNOTE 4.3.7) and the data after it. */
#include "mail/unpack.h"
#include <stdint.h>
#include <string.h>
#include <zlib.h>

int gzip_compress(const void *in, size_t len, buf *out)
{
	z_stream z = { 0 };
	/* 15 + 16: a gzip header and trailer around the DEFLATE stream */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, (uLong)len);
	buf_reserve(out, bound);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)bound;
	int r = deflate(&z, Z_FINISH);
	if (r == Z_STREAM_END) {
		out->len += bound - z.avail_out;
		out->data[out->len] = '\0';
	}
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

/* Inflates in (window_bits as inflateInit2 takes them) into out, up to max octets. */
static int inflate_bounded(const void *in, size_t len, int window_bits, size_t max, buf *out,
			   const char **error_r)
{
	z_stream z = { 0 };
	if (inflateInit2(&z, window_bits) != Z_OK) {
		*error_r = "cannot start inflating";
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	size_t start = out->len;
	int r = Z_OK;
	while (r == Z_OK) {
		if (out->len - start >= max) {
			*error_r = "larger than the bound when unpacked";
			break;
		}
		size_t room = 65536;
		if (room > max - (out->len - start))
			room = max - (out->len - start);
		buf_reserve(out, room);
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)room;
		r = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
		if (r == Z_BUF_ERROR && z.avail_in == 0) {
			*error_r = "truncated";
			break;
		}
		if (r != Z_OK && r != Z_STREAM_END)
			*error_r = "not a valid compressed stream";
	}
	inflateEnd(&z);
	if (r != Z_STREAM_END) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	out->data[out->len] = '\0';
	return 0;
}

int gzip_uncompress(const void *in, size_t len, size_t max, buf *out, const char **error_r)
{
	const unsigned char *p = in;
	if (len < 18 || p[0] != 0x1f || p[1] != 0x8b) {
		*error_r = "not gzip data";
		return -1;
	}
	return inflate_bounded(in, len, 15 + 16, max, out, error_r);
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

#define ZIP_LOCAL_HEADER 30

int zip_first_file(const void *in, size_t len, size_t max, buf *out, const char **error_r)
{
	const unsigned char *p = in;
	if (len < ZIP_LOCAL_HEADER || le32(p) != 0x04034b50) {
		*error_r = "not a zip archive";
		return -1;
	}
	uint32_t flags = le16(p + 6), method = le16(p + 8);
	size_t compressed = le32(p + 18);
	size_t start = ZIP_LOCAL_HEADER + (size_t)le16(p + 26) + le16(p + 28);
	if (flags & 1) {
		*error_r = "the zip file is encrypted";
		return -1;
	}
	if (start > len) {
		*error_r = "truncated zip archive";
		return -1;
	}
	/* With a data descriptor (flag 3) the sizes come after the data: the stream's end
	 * marks it. */
	size_t avail = len - start;
	if (!(flags & 8) && compressed < avail)
		avail = compressed;
	if (method == 8)
		return inflate_bounded(p + start, avail, -15, max, out, error_r);
	if (method != 0) {
		*error_r = "a zip compression method other than DEFLATE";
		return -1;
	}
	if (flags & 8 || compressed > len - start || compressed > max) {
		*error_r = compressed > max ? "larger than the bound" : "truncated zip archive";
		return -1;
	}
	buf_append(out, p + start, compressed);
	return 0;
}
