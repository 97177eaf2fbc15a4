/*
 * The flat-file store's on-disk forms (rtcs-store(5)), as pure functions
 * that the backend, --fsck and the fuzzers share: a document framed with its
 * revision, its log checkpoint, an optional record it commits with it, and a
 * CRC-32 over all of that; a log record line "SEQ CRC JSON".
 */
#ifndef RTCS_STORE_FORMAT_H
#define RTCS_STORE_FORMAT_H
#include <stddef.h>
#include <stdint.h>

#define STORE_RECORD_MAX	(2u << 20)	/* a log record, head included */
#define STORE_DOC_MAX		(16u << 20)	/* a document's JSON */

/* A framed document, as read back: pointers into the buffer. */
struct store_frame {
	const char	*json;
	size_t		 len;
	uint64_t	 rev;
	uint64_t	 logseq;	/* the log's durable last seq when it was written */
	const char	*then_log;	/* NULL: no record carried */
	size_t		 then_loglen;
	uint64_t	 then_seq;
	const char	*then_json;
	size_t		 then_len;
};

/* The file text of a document; *outlen its length. then_* may be NULL / 0. */
char	*store_frame_doc(const char *json, size_t len, uint64_t rev, uint64_t logseq,
	    const char *then_log, uint64_t then_seq, const char *then_json, size_t then_len,
	    size_t *outlen);
/* Checks and splits a file's text; 0, or -1 with *why (what is wrong, for people). */
int	 store_unframe_doc(const char *buf, size_t len, struct store_frame *, char **why);

/* The head "SEQ CRC " of a record line into head (at least 32 bytes); its length. */
size_t	 store_record_head(char *head, uint64_t seq, const char *json, size_t len);
/* Parses one record line (without its newline); 0, or -1 with *why. */
int	 store_record_parse(const char *line, size_t len, uint64_t *seq, uint32_t *crc,
	    const char **json, size_t *jlen, char **why);
/* Whether s (n bytes) is a store id: [A-Za-z0-9_-], 1 to STORE_ID_MAX, no leading '-'. */
int	 store_id_valid(const char *s, size_t n);
#endif
