/* The base subject of RFC 5256 2.1: a Subject field's value with the artifacts replies and
 * forwards add ("Re:", "Fwd:", "[list]" blobs, "(fwd)", "[fwd: ...]") removed, as IMAP SORT
 * and THREAD compare it. Pure function. */
#ifndef ESTAFETA_BASE_SUBJECT_H
#define ESTAFETA_BASE_SUBJECT_H
#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* Appends the base subject of the raw field value[0..len) (encoded words decoded to UTF-8,
 * folding, tabs and runs of spaces made one space) to out. Returns true when the extraction
 * removed a subj-refwd, a "(fwd)" trailer or a subj-fwd-hdr and its trailer: the message
 * counts as a reply or forward for THREAD=REFERENCES. */
bool base_subject(const char *value, size_t len, buf *out);
#endif
