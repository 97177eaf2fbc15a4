/*
 * The flat-file store's on-disk forms (rtcs-store(5)):
 *
 *   document:  JSON LF
 *              [ "then" SP LOG SP SEQ SP JSON LF ]
 *              "rtcs-doc 2 rev=" REV " log=" SEQ " crc=" CRC8 LF
 *   record:    SEQ SP CRC8 SP JSON LF
 *
 * A document's CRC-32 covers every byte before its eight digits, so a
 * changed byte anywhere (contents, the record it carries, its revision, its
 * checkpoint) is seen; a record's covers its JSON. Parsing is strict: one
 * spelling of every number, lower-case hex, nothing after the last newline.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store.h"
#include "store_format.h"
#include "xmalloc.h"

#define DOC_TRAILER	"rtcs-doc 2 rev="

int
store_id_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > STORE_ID_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* A decimal number in its one spelling (no sign, no leading zero); -1 if not. */
static int
parse_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' &&
	    s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

static int
parse_hex32(const char *s, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (end - s < 8)
		return -1;
	for (i = 0; i < 8; i++, s++) {
		if (*s >= '0' && *s <= '9')
			v = v << 4 | (uint32_t)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			v = v << 4 | (uint32_t)(*s - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Whether s looks like one JSON object on one line (the JSON itself is checked by its CRC). */
static int
object_shape(const char *s, size_t n)
{
	return n >= 2 && s[0] == '{' && s[n - 1] == '}' && memchr(s, '\n', n) == NULL;
}

char *
store_frame_doc(const char *json, size_t len, uint64_t rev, uint64_t logseq,
    const char *then_log, uint64_t then_seq, const char *then_json, size_t then_len,
    size_t *outlen)
{
	size_t cap = len + then_len + (then_log ? strlen(then_log) : 0) + 128, n;
	char *buf = xmalloc(cap);
	int k;

	memcpy(buf, json, len);
	n = len;
	buf[n++] = '\n';
	if (then_log != NULL) {
		k = snprintf(buf + n, cap - n, "then %s %" PRIu64 " ", then_log, then_seq);
		n += (size_t)k;
		memcpy(buf + n, then_json, then_len);
		n += then_len;
		buf[n++] = '\n';
	}
	k = snprintf(buf + n, cap - n, DOC_TRAILER "%" PRIu64 " log=%" PRIu64 " crc=", rev, logseq);
	n += (size_t)k;
	k = snprintf(buf + n, cap - n, "%08" PRIx32 "\n", hash_crc32(buf, n));
	n += (size_t)k;
	*outlen = n;
	return buf;
}

static int
unframe_fail(char **why, const char *what)
{
	*why = xstrdup(what);
	return -1;
}

/* The optional "then LOG SEQ JSON" line, s to end (its newline excluded). */
static int
unframe_then(const char *s, const char *end, struct store_frame *f, char **why)
{
	const char *log;

	if (end - s < 5 || memcmp(s, "then ", 5) != 0)
		return unframe_fail(why, "malformed document (a second line that is not a record)");
	s += 5;
	log = s;
	while (s < end && *s != ' ')
		s++;
	if (s == end || !store_id_valid(log, (size_t)(s - log)))
		return unframe_fail(why, "malformed record in the document (log name)");
	f->then_log = log;
	f->then_loglen = (size_t)(s - log);
	s++;
	if (parse_u64(&s, end, &f->then_seq) != 0 || f->then_seq == 0 || s == end || *s++ != ' ')
		return unframe_fail(why, "malformed record in the document (seq)");
	if (!object_shape(s, (size_t)(end - s)))
		return unframe_fail(why, "malformed record in the document (not an object)");
	f->then_json = s;
	f->then_len = (size_t)(end - s);
	return 0;
}

int
store_unframe_doc(const char *buf, size_t len, struct store_frame *f, char **why)
{
	const char *end = buf + len, *trailer, *p, *nl;
	uint32_t crc;

	memset(f, 0, sizeof *f);
	if (len < 2 || buf[len - 1] != '\n')
		return unframe_fail(why, "truncated document (no final newline)");
	for (trailer = end - 1; trailer > buf && trailer[-1] != '\n'; trailer--)
		;
	if (trailer == buf)
		return unframe_fail(why, "truncated document (no checksum line)");
	p = trailer;
	if ((size_t)(end - p) < sizeof DOC_TRAILER - 1 ||
	    memcmp(p, DOC_TRAILER, sizeof DOC_TRAILER - 1) != 0)
		return unframe_fail(why, "malformed document (no checksum line)");
	p += sizeof DOC_TRAILER - 1;
	if (parse_u64(&p, end, &f->rev) != 0 || f->rev == 0 || end - p < 5 ||
	    memcmp(p, " log=", 5) != 0)
		return unframe_fail(why, "malformed checksum line (rev)");
	p += 5;
	if (parse_u64(&p, end, &f->logseq) != 0 || end - p < 5 || memcmp(p, " crc=", 5) != 0)
		return unframe_fail(why, "malformed checksum line (log)");
	p += 5;
	if (parse_hex32(p, end, &crc) != 0 || p + 9 != end)
		return unframe_fail(why, "malformed checksum line (crc)");
	if (hash_crc32(buf, (size_t)(p - buf)) != crc)
		return unframe_fail(why, "checksum mismatch");
	/* Checked: now the contents before the trailer. */
	nl = memchr(buf, '\n', (size_t)(trailer - buf));
	if (!object_shape(buf, (size_t)(nl - buf)))
		return unframe_fail(why, "malformed document (not one JSON object)");
	f->json = buf;
	f->len = (size_t)(nl - buf);
	if (nl + 1 < trailer && unframe_then(nl + 1, trailer - 1, f, why) != 0)
		return -1;
	return 0;
}

size_t
store_record_head(char *head, uint64_t seq, const char *json, size_t len)
{
	return (size_t)snprintf(head, 32, "%" PRIu64 " %08" PRIx32 " ", seq, hash_crc32(json, len));
}

int
store_record_parse(const char *line, size_t len, uint64_t *seq, uint32_t *crc,
    const char **json, size_t *jlen, char **why)
{
	const char *p = line, *end = line + len;

	if (parse_u64(&p, end, seq) != 0 || *seq == 0 || p == end || *p++ != ' ' ||
	    parse_hex32(p, end, crc) != 0)
		return unframe_fail(why, "malformed record");
	p += 8;
	if (p == end || *p++ != ' ')
		return unframe_fail(why, "malformed record");
	if (hash_crc32(p, (size_t)(end - p)) != *crc)
		return unframe_fail(why, "checksum mismatch");
	if (!object_shape(p, (size_t)(end - p)))
		return unframe_fail(why, "record is not one JSON object");
	*json = p;
	*jlen = (size_t)(end - p);
	return 0;
}
