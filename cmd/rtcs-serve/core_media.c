/*
 * The media path beside the log: frames (audio, video) are relayed, never
 * made durable. Each session keeps a ring of the last --media-ring
 * milliseconds of frames (at most CORE_MEDIA_RING_BYTES), numbered
 * session-wide, and each sender (a participant and a kind of media) its
 * last frame number and timestamp, so a call moved to another device goes on
 * from the same point. A frame is announced to the listeners as it comes;
 * a stream behind (a slow reader, a new device after a switch) reads on
 * from the ring.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_int.h"
#include "json.h"
#include "xmalloc.h"

/* One sender: a participant's stream of one kind of media. */
struct media_sender {
	char		*participant, *media, *device;
	uint64_t	 frame;			/* the last frame number taken */
	int64_t		 pts;			/* and its timestamp */
	int64_t		 eff;			/* pts as paced: MIN_FRAME_MS apart at least */
	int64_t		 anchor;		/* pts - monotonic ms of a sender on time */
	int64_t		 last_mono, last_ms;	/* when the last frame came */
	uint64_t	 frames, bytes, refused;
};

struct core_media {
	struct core_frame **v;			/* a circular array: v[head] is the oldest */
	size_t		 cap, head, n;
	uint64_t	 first_id;		/* the id of v[head] */
	uint64_t	 next_id;
	size_t		 bytes;
	uint64_t	 evicted_early;		/* pushed out by the byte cap, not by age */
	struct media_sender *senders;
	size_t		 nsenders;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct core_media *
media_get(struct core_session *s)
{
	if (s->media == NULL) {
		s->media = xcalloc(1, sizeof *s->media);
		s->media->first_id = s->media->next_id = 1;
	}
	return s->media;
}

static void
ring_drop_oldest(struct core_media *m)
{
	struct core_frame *f = m->v[m->head];

	m->bytes -= f->len;
	free(f);
	m->head = (m->head + 1) % m->cap;
	m->n--;
	m->first_id++;
}

/* Frames older than the ring's length go (lazily: when the ring is used). */
static void
ring_expire(struct core *c, struct core_media *m)
{
	int64_t oldest = mono_ms() - c->cfg.media_ring_ms;

	while (m->n > 0 && m->v[m->head]->at_ms < oldest)
		ring_drop_oldest(m);
}

static void
ring_push(struct core_media *m, struct core_frame *f)
{
	struct core_frame **nv;
	size_t i, ncap;

	while (m->n > 0 && m->bytes + f->len > CORE_MEDIA_RING_BYTES) {
		ring_drop_oldest(m);
		m->evicted_early++;
	}
	if (m->n == m->cap) {
		ncap = m->cap ? m->cap * 2 : 64;
		nv = xreallocarray(NULL, ncap, sizeof *nv);
		for (i = 0; i < m->n; i++)
			nv[i] = m->v[(m->head + i) % m->cap];
		free(m->v);
		m->v = nv;
		m->cap = ncap;
		m->head = 0;
	}
	f->id = m->next_id++;
	m->v[(m->head + m->n) % m->cap] = f;
	m->n++;
	m->bytes += f->len;
}

static struct media_sender *
sender_find(struct core_media *m, const char *participant, const char *media)
{
	size_t i;

	for (i = 0; i < m->nsenders; i++)
		if (strcmp(m->senders[i].participant, participant) == 0 &&
		    strcmp(m->senders[i].media, media) == 0)
			return &m->senders[i];
	return NULL;
}

/* A participant's new kind of media, or NULL when it has CORE_MEDIA_KINDS already. */
static struct media_sender *
sender_add(struct core_media *m, const char *participant, const char *media)
{
	struct media_sender *ms;
	size_t i, kinds = 0;

	for (i = 0; i < m->nsenders; i++)
		kinds += strcmp(m->senders[i].participant, participant) == 0;
	if (kinds >= CORE_MEDIA_KINDS)
		return NULL;
	m->senders = xreallocarray(m->senders, m->nsenders + 1, sizeof *m->senders);
	ms = &m->senders[m->nsenders++];
	memset(ms, 0, sizeof *ms);
	ms->participant = xstrdup(participant);
	ms->media = xstrdup(media);
	return ms;
}

/*
 * The frame's number and timestamp, and the pace: a sender may run
 * CORE_MEDIA_LEAD_MS ahead of the clock and no further, each frame counting
 * CORE_MEDIA_MIN_FRAME_MS at least; one that fell behind (a pause, a
 * switch) is taken as on time again, with no credit saved up.
 */
static enum core_err
sender_check(struct media_sender *ms, const struct core_frame_in *in, int64_t now,
    struct core_frame_out *out, struct core_status *st)
{
	int first = ms->frames == 0;
	int64_t pts, eff;

	out->frame = in->has_frame ? in->frame : ms->frame + 1;
	pts = in->has_pts ? in->pts : first ? 0 : ms->pts + (now - ms->last_mono);
	if (!first && (out->frame <= ms->frame || pts < ms->pts)) {
		status_set(st, CE_CONFLICT, "stale_frame");
		return CE_CONFLICT;
	}
	eff = first ? pts : pts > ms->eff + CORE_MEDIA_MIN_FRAME_MS ? pts :
	    ms->eff + CORE_MEDIA_MIN_FRAME_MS;
	if (first)
		ms->anchor = eff - now;
	if (eff > ms->anchor + now + CORE_MEDIA_LEAD_MS) {
		out->retry_ms = eff - (ms->anchor + now + CORE_MEDIA_LEAD_MS);
		ms->refused++;
		status_set(st, CE_TOO_FAST, "too_fast");
		return CE_TOO_FAST;
	}
	if (eff < ms->anchor + now)
		ms->anchor = eff - now;
	ms->eff = eff;
	out->pts = pts;
	return CE_OK;
}

/* The line every stream writes for the frame. */
static struct core_frame *
frame_new(const struct core_channel *ch, const struct media_sender *ms,
    const struct core_frame_in *in, const struct core_frame_out *out, int64_t now)
{
	cJSON *o = cJSON_CreateObject();
	struct core_frame *f;
	char *text;
	size_t len;

	cJSON_AddStringToObject(o, "type", "media");
	cJSON_AddStringToObject(o, "media", in->media);
	cJSON_AddStringToObject(o, "from", ch->participant);
	cJSON_AddStringToObject(o, "device", ch->device);
	cJSON_AddNumberToObject(o, "frame", (double)out->frame);
	cJSON_AddNumberToObject(o, "pts", (double)out->pts);
	core_time_json(o, "ts", core_now_ms());
	if (in->codec != NULL)
		cJSON_AddStringToObject(o, "codec", in->codec);
	cJSON_AddStringToObject(o, "data", in->data);
	text = json_print(o);
	cJSON_Delete(o);
	len = strlen(text);
	f = xmalloc(sizeof *f + len + 1);
	f->at_ms = now;
	f->participant = ms->participant;
	f->len = len;
	memcpy(f->line, text, len + 1);
	free(text);
	return f;
}

enum core_err
core_media_frame(struct core *c, struct core_channel *ch, const struct core_frame_in *in,
    struct core_frame_out *out, struct core_status *st)
{
	struct core_session *s = ch->session;
	struct core_media *m;
	struct media_sender *ms;
	struct core_frame *f;
	int64_t now = mono_ms();

	memset(out, 0, sizeof *out);
	status_set(st, CE_OK, NULL);
	if (s->ended || !ch->open) {
		status_set(st, CE_SESSION_ENDED, "the session has ended");
		return CE_SESSION_ENDED;
	}
	if (in->dlen > CORE_MEDIA_FRAME_MAX) {
		status_set(st, CE_BAD_FIELD, "too_large");
		return CE_BAD_FIELD;
	}
	m = media_get(s);
	if ((ms = sender_find(m, ch->participant, in->media)) == NULL &&
	    (ms = sender_add(m, ch->participant, in->media)) == NULL) {
		status_set(st, CE_CONFLICT, "too many kinds of media from one participant");
		return CE_CONFLICT;
	}
	if (sender_check(ms, in, now, out, st) != CE_OK)
		return st->err;
	ms->frame = out->frame;
	ms->pts = out->pts;
	ms->last_mono = now;
	ms->last_ms = core_now_ms();
	ms->frames++;
	ms->bytes += in->dlen;
	if (ms->device == NULL || strcmp(ms->device, ch->device) != 0) {
		free(ms->device);
		ms->device = xstrdup(ch->device);
	}
	f = frame_new(ch, ms, in, out, now);
	ring_expire(c, m);
	ring_push(m, f);
	out->id = f->id;
	if (c->lsn != NULL && c->lsn->media != NULL)
		c->lsn->media(c->lsn->arg, s, f);
	return CE_OK;
}

const struct core_frame *
core_media_next(struct core_session *s, uint64_t id)
{
	struct core_media *m = s->media;

	if (m == NULL)
		return NULL;
	ring_expire(s->core, m);
	if (id < m->first_id)
		id = m->first_id;
	if (id - m->first_id >= m->n)
		return NULL;
	return m->v[(m->head + (id - m->first_id)) % m->cap];
}

void
core_media_opened(struct core_channel *ch)
{
	ch->media_next = ch->session->media != NULL ? ch->session->media->next_id : 1;
}

/*
 * A media stream starts with the first frame its channel was not given
 * (since it opened, as far as the ring goes back); a channel loaded at
 * start, with what comes next.
 */
uint64_t
core_media_start(struct core_channel *ch)
{
	if (ch->media_next == 0)
		ch->media_next = media_get(ch->session)->next_id;
	return ch->media_next;
}

void
core_media_delivered(struct core_channel *ch, uint64_t id)
{
	if (id + 1 > ch->media_next)
		ch->media_next = id + 1;
}

/* The new channel starts with the first frame the old one was not given. */
void
core_media_moved(struct core_channel *from, struct core_channel *to)
{
	to->media_next = core_media_start(from);
}

cJSON *
core_media_json(struct core_session *s)
{
	struct core_media *m = s->media;
	cJSON *o = cJSON_CreateObject(), *a, *e;
	size_t i;

	if (m != NULL)
		ring_expire(s->core, m);
	cJSON_AddNumberToObject(o, "ring_ms", (double)s->core->cfg.media_ring_ms);
	cJSON_AddNumberToObject(o, "ring_max_bytes", CORE_MEDIA_RING_BYTES);
	cJSON_AddNumberToObject(o, "frame_max_bytes", CORE_MEDIA_FRAME_MAX);
	cJSON_AddNumberToObject(o, "lead_ms", CORE_MEDIA_LEAD_MS);
	cJSON_AddNumberToObject(o, "ring_frames", m != NULL ? (double)m->n : 0);
	cJSON_AddNumberToObject(o, "ring_bytes", m != NULL ? (double)m->bytes : 0);
	cJSON_AddNumberToObject(o, "evicted_early", m != NULL ? (double)m->evicted_early : 0);
	a = cJSON_AddArrayToObject(o, "senders");
	for (i = 0; m != NULL && i < m->nsenders; i++) {
		const struct media_sender *ms = &m->senders[i];
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "participant", ms->participant);
		cJSON_AddStringToObject(e, "media", ms->media);
		if (ms->device != NULL)
			cJSON_AddStringToObject(e, "device", ms->device);
		cJSON_AddNumberToObject(e, "frame", (double)ms->frame);
		cJSON_AddNumberToObject(e, "pts", (double)ms->pts);
		cJSON_AddNumberToObject(e, "frames", (double)ms->frames);
		cJSON_AddNumberToObject(e, "bytes", (double)ms->bytes);
		cJSON_AddNumberToObject(e, "refused", (double)ms->refused);
		core_time_json(e, "last_at", ms->frames > 0 ? ms->last_ms : -1);
		cJSON_AddItemToArray(a, e);
	}
	return o;
}

/* The session ended: its frames go, what each sender sent last stays to be shown. */
void
core_media_ended(struct core_session *s)
{
	struct core_media *m = s->media;

	while (m != NULL && m->n > 0)
		ring_drop_oldest(m);
}

void
core_media_free(struct core_session *s)
{
	struct core_media *m = s->media;
	size_t i;

	if (m == NULL)
		return;
	core_media_ended(s);
	free(m->v);
	for (i = 0; i < m->nsenders; i++) {
		free(m->senders[i].participant);
		free(m->senders[i].media);
		free(m->senders[i].device);
	}
	free(m->senders);
	free(m);
	s->media = NULL;
}
