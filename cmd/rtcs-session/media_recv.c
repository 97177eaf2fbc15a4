/*
 * rtcs-session media, the receiving half: the frames of every other
 * participant from the device's stream, counted (lost, duplicated, late,
 * gaps, jitter) and, for audio, decoded with libopus and mixed into a WAV
 * file (libsndfile) by their timestamps, silence where nothing came.
 *
 * Each sender's first frame lands in OUT where it arrived (the file starts
 * with the first frame heard); after that a frame's place is its pts, so a
 * late or bunched frame still lands where it belongs. The report gives each
 * sender's start_pts and start_ms (its first frame's place in OUT), so the
 * files of two devices of one participant line up.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <opus.h>
#include <sndfile.h>

#include "clock.h"
#include "json.h"
#include "media.h"
#include "xmalloc.h"

#define RX_MAX_SENDERS	64
#define RX_MAX_DECODED	5760		/* 120 ms at 48 kHz: Opus's longest frame */
#define RX_MAX_AHEAD_S	3600		/* a frame further than this ahead of OUT is bad */

struct rx_sender {
	char		*participant, *media;
	char		 device[65];	/* the last device it came from */
	int		 devices;	/* how many it came from */
	OpusDecoder	*dec;
	uint64_t	 frames, lost, duplicated, late, corrupt, undecoded;
	size_t		 bytes;
	uint64_t	 first_frame, last_frame;
	int64_t		 first_pts, last_pts;
	long long	 first_us, last_us;		/* arrivals, monotonic */
	long long	 first_at, last_at;		/* arrivals, wall clock ms */
	long long	 gap_us;			/* the longest between two arrivals */
	uint64_t	 gap_after;			/* the frame before it */
	double		 jitter_us;			/* RFC 3550's estimate */
	long long	 base_us;			/* playout: when pts 0 is due */
	int64_t		 start_pos;			/* OUT frame where its pts start_pts is */
};

/* OUT: a window of MEDIA_WINDOW_S kept open for mixing, written as time goes by. */
struct rx_wav {
	SNDFILE		*sf;
	int		 rate, ch;
	int32_t		*win;			/* circular, frames x channels */
	int64_t		 wlen;			/* frames in the window */
	int64_t		 written;		/* frames written to the file */
	int64_t		 end;			/* the furthest frame mixed in */
	long long	 t0_us;			/* when OUT's frame 0 arrived */
	int		 started;
};

struct media_rx {
	struct rx_wav	 wav;
	int		 want_wav;
	struct rx_sender s[RX_MAX_SENDERS];
	size_t		 ns;
	uint64_t	 ignored;			/* beyond RX_MAX_SENDERS, or malformed */
	atomic_llong	 last_us;
	atomic_int	 closed;
	char		 reason[32];
	short		 pcm[RX_MAX_DECODED * 2];
	unsigned char	*dbuf;
	size_t		 dcap;
};

struct media_rx *
media_rx_new(const char *out, int rate, int channels, char **cause)
{
	struct media_rx *rx = xcalloc(1, sizeof *rx);
	SF_INFO info;

	rx->wav.rate = rate;
	rx->wav.ch = channels;
	if (out == NULL)
		return rx;
	memset(&info, 0, sizeof info);
	info.samplerate = rate;
	info.channels = channels;
	info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	if ((rx->wav.sf = sf_open(out, SFM_WRITE, &info)) == NULL) {
		*cause = xprintf("cannot write %s: %s", out, sf_strerror(NULL));
		free(rx);
		return NULL;
	}
	rx->want_wav = 1;
	rx->wav.wlen = (int64_t)rate * MEDIA_WINDOW_S;
	rx->wav.win = xcalloc((size_t)rx->wav.wlen * (size_t)channels, sizeof *rx->wav.win);
	return rx;
}

/* Writes OUT's frames up to upto (what the window holds, silence where nothing came). */
static void
wav_flush(struct rx_wav *w, int64_t upto)
{
	short buf[4096];
	int64_t n, i, j, k, at;

	while (w->written < upto) {
		n = upto - w->written;
		if (n > (int64_t)(sizeof buf / sizeof buf[0]) / w->ch)
			n = (int64_t)(sizeof buf / sizeof buf[0]) / w->ch;
		for (i = 0; i < n; i++) {
			at = ((w->written + i) % w->wlen) * w->ch;
			for (j = 0; j < w->ch; j++) {
				k = w->win[at + j];
				buf[i * w->ch + j] = (short)(k > 32767 ? 32767 : k < -32768 ? -32768 : k);
				w->win[at + j] = 0;
			}
		}
		sf_writef_short(w->sf, buf, n);
		w->written += n;
	}
}

/* Mixes n frames at pos; 0, or -1 when they are too late for the file. */
static int
wav_mix(struct rx_wav *w, int64_t pos, const short *pcm, int64_t n)
{
	int64_t i, j, at;

	if (pos + n <= w->written)
		return -1;
	if (pos + n > w->written + w->wlen)
		wav_flush(w, pos + n - w->wlen);
	for (i = pos < w->written ? w->written - pos : 0; i < n; i++) {
		at = ((pos + i) % w->wlen) * w->ch;
		for (j = 0; j < w->ch; j++)
			w->win[at + j] += pcm[i * w->ch + j];
	}
	if (pos + n > w->end)
		w->end = pos + n;
	return 0;
}

static struct rx_sender *
rx_sender(struct media_rx *rx, const char *participant, const char *media)
{
	struct rx_sender *s;
	size_t i;
	int err;

	for (i = 0; i < rx->ns; i++)
		if (strcmp(rx->s[i].participant, participant) == 0 &&
		    strcmp(rx->s[i].media, media) == 0)
			return &rx->s[i];
	if (rx->ns == RX_MAX_SENDERS)
		return NULL;
	s = &rx->s[rx->ns++];
	memset(s, 0, sizeof *s);
	s->participant = xstrdup(participant);
	s->media = xstrdup(media);
	if (strcmp(media, "audio") == 0 && rx->want_wav)
		s->dec = opus_decoder_create(rx->wav.rate, rx->wav.ch, &err);
	return s;
}

/* Counts a frame's arrival: gaps, jitter, lateness against the playout buffer. */
static void
rx_count(struct rx_sender *s, uint64_t frame, int64_t pts, long long now, size_t len)
{
	long long d;

	s->bytes += len;
	if (s->frames++ == 0) {
		s->first_frame = frame;
		s->first_pts = pts;
		s->first_us = now;
		s->first_at = clock_now_ms();
		s->base_us = now - pts * 1000;
	} else {
		if (frame > s->last_frame + 1)
			s->lost += frame - s->last_frame - 1;
		if (now - s->last_us > s->gap_us) {
			s->gap_us = now - s->last_us;
			s->gap_after = s->last_frame;
		}
		d = (now - s->last_us) - (pts - s->last_pts) * 1000;
		s->jitter_us += (fabs((double)d) - s->jitter_us) / 16;
		/* After a pause longer than the buffer, playout starts again (a new talkspurt). */
		if (now - s->last_us > MEDIA_BUFFER_MS * 1000)
			s->base_us = now - pts * 1000;
		else if (now > s->base_us + pts * 1000 + MEDIA_BUFFER_MS * 1000)
			s->late++;
		if (now - pts * 1000 < s->base_us)
			s->base_us = now - pts * 1000;
	}
	s->last_frame = frame;
	s->last_pts = pts;
	s->last_us = now;
	s->last_at = clock_now_ms();
}

/* The frame's data, decoded from base64: its length, or -1. */
static long
rx_data(struct media_rx *rx, const char *b64)
{
	size_t n = strlen(b64), len = 0;
	const char *end = NULL;

	if (n % 4 != 0)
		return -1;
	if (rx->dcap < n / 4 * 3 + 1) {
		rx->dcap = n / 4 * 3 + 1;
		rx->dbuf = xrealloc(rx->dbuf, rx->dcap);
	}
	if (n == 0)
		return 0;
	if (sodium_base642bin(rx->dbuf, rx->dcap, b64, n, NULL, &len, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + n)
		return -1;
	return (long)len;
}

/* An audio frame into OUT: the first one where it arrived, the others by pts. */
static void
rx_audio(struct media_rx *rx, struct rx_sender *s, long len, int64_t pts, long long now)
{
	struct rx_wav *w = &rx->wav;
	int n;

	if (s->dec == NULL)
		return;
	if ((n = opus_decode(s->dec, rx->dbuf, (opus_int32)len, rx->pcm, RX_MAX_DECODED, 0)) < 0) {
		s->undecoded++;
		return;
	}
	if (!w->started) {
		w->started = 1;
		w->t0_us = now;
	}
	if (s->frames == 1)
		s->start_pos = (now - w->t0_us) * w->rate / 1000000 / (w->rate / 50) * (w->rate / 50);
	if ((pts - s->first_pts) * w->rate / 1000 > (int64_t)RX_MAX_AHEAD_S * w->rate) {
		s->corrupt++;
		return;
	}
	if (wav_mix(w, s->start_pos + (pts - s->first_pts) * w->rate / 1000, rx->pcm, n) != 0)
		s->late++;
}

static void
rx_frame(struct media_rx *rx, const cJSON *line)
{
	const char *from = json_str(line, "from"), *media = json_str(line, "media");
	const char *data = json_str(line, "data"), *dev = json_str(line, "device");
	const cJSON *fr = cJSON_GetObjectItemCaseSensitive(line, "frame");
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(line, "pts");
	struct rx_sender *s;
	long long now = clock_mono_us();
	uint64_t frame;
	int64_t pts;
	long len;

	if (from == NULL || media == NULL || data == NULL || !cJSON_IsNumber(fr) ||
	    !cJSON_IsNumber(pt) || (s = rx_sender(rx, from, media)) == NULL) {
		rx->ignored++;
		return;
	}
	atomic_store(&rx->last_us, now);
	frame = (uint64_t)fr->valuedouble;
	pts = (int64_t)pt->valuedouble;
	if (s->frames > 0 && frame <= s->last_frame) {
		s->duplicated++;
		return;
	}
	if (dev != NULL && strcmp(dev, s->device) != 0) {
		snprintf(s->device, sizeof s->device, "%s", dev);
		s->devices++;
	}
	if ((len = rx_data(rx, data)) < 0) {
		s->corrupt++;
		return;
	}
	rx_count(s, frame, pts, now, (size_t)len);
	if (strcmp(media, "audio") == 0)
		rx_audio(rx, s, len, pts, now);
	else if (strcmp(media, "video") == 0 && !media_video_check(rx->dbuf, (size_t)len, frame))
		s->corrupt++;
}

int
media_rx_line(cJSON *line, void *arg)
{
	struct media_rx *rx = arg;
	const char *type = json_str(line, "type"), *ev = json_str(line, "event");

	if (type != NULL && strcmp(type, "media") == 0) {
		rx_frame(rx, line);
		return 0;
	}
	if (ev != NULL && strcmp(ev, "channel.closed") == 0) {
		snprintf(rx->reason, sizeof rx->reason, "%s",
		    json_str(line, "reason") ? json_str(line, "reason") : "?");
		atomic_store(&rx->closed, 1);
		return 1;
	}
	return 0;
}

long long
media_rx_last_us(struct media_rx *rx)
{
	return atomic_load(&rx->last_us);
}

int
media_rx_closed(struct media_rx *rx)
{
	return atomic_load(&rx->closed);
}

const char *
media_rx_reason(struct media_rx *rx)
{
	return rx->reason;
}

int
media_rx_finish(struct media_rx *rx, char **cause)
{
	struct rx_wav *w = &rx->wav;
	int rc = 0;

	if (w->sf == NULL)
		return 0;
	wav_flush(w, w->end);
	if (sf_error(w->sf) != SF_ERR_NO_ERROR) {
		*cause = xprintf("cannot write the audio: %s", sf_strerror(w->sf));
		rc = -1;
	}
	if (sf_close(w->sf) != 0 && rc == 0) {
		*cause = xstrdup("cannot close the audio file");
		rc = -1;
	}
	w->sf = NULL;
	return rc;
}

static cJSON *
sender_json(const struct rx_sender *s, int rate)
{
	cJSON *o = cJSON_CreateObject();
	char *t;

	cJSON_AddStringToObject(o, "participant", s->participant);
	cJSON_AddStringToObject(o, "media", s->media);
	cJSON_AddStringToObject(o, "device", s->device);
	cJSON_AddNumberToObject(o, "devices", s->devices);
	cJSON_AddNumberToObject(o, "frames", (double)s->frames);
	cJSON_AddNumberToObject(o, "lost", (double)s->lost);
	cJSON_AddNumberToObject(o, "duplicated", (double)s->duplicated);
	cJSON_AddNumberToObject(o, "late", (double)s->late);
	cJSON_AddNumberToObject(o, "corrupt", (double)(s->corrupt + s->undecoded));
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(o, "gap_ms", round((double)s->gap_us / 100) / 10);
	cJSON_AddNumberToObject(o, "gap_after_frame", (double)s->gap_after);
	cJSON_AddNumberToObject(o, "jitter_ms", round(s->jitter_us / 10) / 100);
	if (s->frames > 0) {
		cJSON_AddNumberToObject(o, "first_frame", (double)s->first_frame);
		cJSON_AddNumberToObject(o, "last_frame", (double)s->last_frame);
		cJSON_AddNumberToObject(o, "first_pts", (double)s->first_pts);
		cJSON_AddNumberToObject(o, "last_pts", (double)s->last_pts);
		t = clock_format_ms(s->first_at);
		cJSON_AddStringToObject(o, "first_at", t);
		free(t);
		t = clock_format_ms(s->last_at);
		cJSON_AddStringToObject(o, "last_at", t);
		free(t);
		if (s->dec != NULL)
			cJSON_AddNumberToObject(o, "start_ms", (double)(s->start_pos * 1000 / rate));
	}
	return o;
}

/* Totals of one kind of media over every sender: sums, and the worst gap and jitter. */
static void
add_total(cJSON *totals, const struct rx_sender *s)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(totals, s->media), *v;
	double add[] = { (double)s->frames, (double)s->lost, (double)s->duplicated,
	    (double)s->late, (double)(s->corrupt + s->undecoded) };
	static const char *const keys[] = { "frames", "lost", "duplicated", "late", "corrupt" };
	size_t i;

	if (t == NULL) {
		t = cJSON_AddObjectToObject(totals, s->media);
		for (i = 0; i < 5; i++)
			cJSON_AddNumberToObject(t, keys[i], 0);
		cJSON_AddNumberToObject(t, "gap_ms", 0);
		cJSON_AddNumberToObject(t, "jitter_ms", 0);
		cJSON_AddNumberToObject(t, "senders", 0);
	}
	for (i = 0; i < 5; i++) {
		v = cJSON_GetObjectItemCaseSensitive(t, keys[i]);
		cJSON_SetNumberValue(v, v->valuedouble + add[i]);
	}
	v = cJSON_GetObjectItemCaseSensitive(t, "senders");
	cJSON_SetNumberValue(v, v->valuedouble + 1);
	v = cJSON_GetObjectItemCaseSensitive(t, "gap_ms");
	if ((double)s->gap_us / 1000 > v->valuedouble)
		cJSON_SetNumberValue(v, round((double)s->gap_us / 100) / 10);
	v = cJSON_GetObjectItemCaseSensitive(t, "jitter_ms");
	if (s->jitter_us / 1000 > v->valuedouble)
		cJSON_SetNumberValue(v, round(s->jitter_us / 10) / 100);
}

cJSON *
media_rx_json(struct media_rx *rx)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "senders");
	cJSON *totals = cJSON_AddObjectToObject(o, "totals");
	size_t i;

	for (i = 0; i < rx->ns; i++) {
		cJSON_AddItemToArray(a, sender_json(&rx->s[i], rx->wav.rate));
		add_total(totals, &rx->s[i]);
	}
	if (rx->ignored > 0)
		cJSON_AddNumberToObject(o, "ignored", (double)rx->ignored);
	return o;
}

void
media_rx_free(struct media_rx *rx)
{
	size_t i;
	char *cause = NULL;

	if (rx == NULL)
		return;
	if (rx->wav.sf != NULL && media_rx_finish(rx, &cause) != 0)
		free(cause);
	for (i = 0; i < rx->ns; i++) {
		if (rx->s[i].dec != NULL)
			opus_decoder_destroy(rx->s[i].dec);
		free(rx->s[i].participant);
		free(rx->s[i].media);
	}
	free(rx->wav.win);
	free(rx->dbuf);
	free(rx);
}
