/*
 * rtcs-session media, the sending half: an audio file read with libsndfile
 * and encoded in 20 ms Opus frames, simulated video frames of a given size,
 * each POSTed to the session's media path with its number and timestamp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <opus.h>
#include <sndfile.h>

#include "client.h"
#include "exitcode.h"
#include "media.h"
#include "xmalloc.h"

#define MEDIA_MAX_PACKET	4000	/* Opus's own limit is 1275 a frame */

struct media_audio {
	SNDFILE		*sf;
	SF_INFO		 info;
	OpusEncoder	*enc;
	int		 spf;		/* samples a frame, per channel */
	short		*pcm;
	unsigned char	 pkt[MEDIA_MAX_PACKET];
};

struct media_audio *
media_audio_open(const char *path, int *exit, char **cause)
{
	struct media_audio *a = xcalloc(1, sizeof *a);
	int r, err;

	if ((a->sf = sf_open(path, SFM_READ, &a->info)) == NULL) {
		*cause = xprintf("cannot read %s: %s", path, sf_strerror(NULL));
		*exit = EXIT_NOINPUT;
		free(a);
		return NULL;
	}
	r = a->info.samplerate;
	if ((r != 8000 && r != 12000 && r != 16000 && r != 24000 && r != 48000) ||
	    a->info.channels < 1 || a->info.channels > 2) {
		*cause = xprintf("%s: Opus takes 8, 12, 16, 24 or 48 kHz, mono or stereo, not "
		    "%d Hz with %d channels (sox IN -r 48000 -c 1 OUT.wav converts it)", path, r,
		    a->info.channels);
		*exit = EXIT_DATAERR;
		media_audio_close(a);
		return NULL;
	}
	a->enc = opus_encoder_create(r, a->info.channels, OPUS_APPLICATION_AUDIO, &err);
	if (a->enc == NULL) {
		*cause = xprintf("opus: %s", opus_strerror(err));
		*exit = EXIT_SOFTWARE;
		media_audio_close(a);
		return NULL;
	}
	opus_encoder_ctl(a->enc, OPUS_SET_BITRATE(MEDIA_BITRATE * a->info.channels));
	a->spf = r / (1000 / MEDIA_FRAME_MS);
	a->pcm = xcalloc((size_t)a->spf * (size_t)a->info.channels, sizeof *a->pcm);
	return a;
}

void
media_audio_close(struct media_audio *a)
{
	if (a == NULL)
		return;
	if (a->enc != NULL)
		opus_encoder_destroy(a->enc);
	if (a->sf != NULL)
		sf_close(a->sf);
	free(a->pcm);
	free(a);
}

int
media_audio_rate(const struct media_audio *a)
{
	return a->info.samplerate;
}

int
media_audio_channels(const struct media_audio *a)
{
	return a->info.channels;
}

long long
media_audio_frames(const struct media_audio *a)
{
	return ((long long)a->info.frames + a->spf - 1) / a->spf;
}

int
media_audio_seek(struct media_audio *a, long long index, char **cause)
{
	if (index >= media_audio_frames(a))
		index = media_audio_frames(a);
	if (sf_seek(a->sf, (sf_count_t)(index * a->spf), SEEK_SET) < 0 &&
	    index * a->spf < a->info.frames) {
		*cause = xprintf("cannot go to %lld ms into the audio: %s",
		    index * MEDIA_FRAME_MS, sf_strerror(a->sf));
		return -1;
	}
	return 0;
}

int
media_audio_next(struct media_audio *a, const unsigned char **pkt, char **cause)
{
	sf_count_t n;
	int len, ch = a->info.channels;

	n = sf_readf_short(a->sf, a->pcm, a->spf);
	if (n <= 0)
		return 0;
	if (n < a->spf)
		memset(a->pcm + n * ch, 0, (size_t)(a->spf - n) * (size_t)ch * sizeof *a->pcm);
	if ((len = opus_encode(a->enc, a->pcm, a->spf, a->pkt, sizeof a->pkt)) < 0) {
		*cause = xprintf("opus: %s", opus_strerror(len));
		return -1;
	}
	*pkt = a->pkt;
	return len;
}

int
media_video_parse(const char *spec, double *fps, size_t *size, char **cause)
{
	char *end, *unit;
	double f, s;

	f = strtod(spec, &end);
	if (end == spec || strncmp(end, "fps:", 4) != 0 || f < 1 || f > 100)
		goto bad;
	s = strtod(end + 4, &unit);
	if (unit == end + 4 || s < 1)
		goto bad;
	if (strcmp(unit, "KB") == 0 || strcmp(unit, "kB") == 0)
		s *= 1000;
	else if (strcmp(unit, "KiB") == 0)
		s *= 1024;
	else if (strcmp(unit, "B") != 0 && *unit != '\0')
		goto bad;
	if (s < 8 || s > 128 * 1024)
		goto bad;
	*fps = f;
	*size = (size_t)s;
	return 0;
bad:
	*cause = xprintf("'%s' is not RATEfps:SIZE (1 to 100 fps, 8 B to 128 KiB: 30fps:25KB)",
	    spec);
	return -1;
}

void
media_video_fill(unsigned char *buf, size_t size, uint64_t frame)
{
	size_t i;

	for (i = 0; i < 8; i++)
		buf[i] = (unsigned char)(frame >> (56 - 8 * i));
	for (i = 8; i < size; i++)
		buf[i] = (unsigned char)(frame + i);
}

int
media_video_check(const unsigned char *buf, size_t size, uint64_t frame)
{
	size_t i;
	uint64_t n = 0;

	if (size < 8)
		return 0;
	for (i = 0; i < 8; i++)
		n = n << 8 | buf[i];
	for (i = 8; i < size; i++)
		if (buf[i] != (unsigned char)(frame + i))
			return 0;
	return n == frame;
}

/* POSTs one frame: 0, 1 refused as too fast (counted), -1 with *err. */
static int
post_frame(struct client *c, const char *path, const char *token, struct media_track *t,
    int64_t pts, const unsigned char *data, size_t len, struct client_err *err)
{
	cJSON *body = cJSON_CreateObject();
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64len);
	int rc;

	sodium_bin2base64(b64, b64len, data, len, sodium_base64_VARIANT_ORIGINAL);
	cJSON_AddStringToObject(body, "media", t->media);
	if (t->codec != NULL)
		cJSON_AddStringToObject(body, "codec", t->codec);
	cJSON_AddNumberToObject(body, "frame", (double)t->frame);
	cJSON_AddNumberToObject(body, "pts", (double)pts);
	cJSON_AddStringToObject(body, "data", b64);
	free(b64);
	rc = client_call(c, "POST", path, token, body, NULL, err);
	cJSON_Delete(body);
	if (rc != 0 && err->status == 429) {
		t->refused++;
		client_err_clear(err);
		return 1;
	}
	return rc;
}

int
media_send_next(struct client *c, const char *path, const char *token, struct media_track *t,
    struct client_err *err)
{
	const unsigned char *data = t->buf;
	int64_t pts = t->pts0 + (int64_t)((double)t->index * t->interval_ms + 0.5);
	char *cause = NULL;
	int len, rc;

	if (t->audio != NULL) {
		if ((len = media_audio_next(t->audio, &data, &cause)) <= 0) {
			if (len < 0) {
				client_err_set(err, EXIT_DATAERR, "%s", cause);
				free(cause);
				return -1;
			}
			t->done = 1;
			return 1;
		}
	} else {
		len = (int)t->video_size;
		media_video_fill(t->buf, t->video_size, t->frame);
	}
	if ((rc = post_frame(c, path, token, t, pts, data, (size_t)len, err)) < 0)
		return -1;
	if (rc == 0) {
		if (t->sent++ == 0) {
			t->first_frame = t->frame;
			t->first_pts = pts;
		}
		t->last_frame = t->frame;
		t->last_pts = pts;
		t->bytes += (size_t)len;
	}
	t->frame++;
	t->index++;
	return 0;
}

cJSON *
media_track_json(const struct media_track *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "media", t->media);
	cJSON_AddNumberToObject(o, "frames", (double)t->sent);
	cJSON_AddNumberToObject(o, "refused", (double)t->refused);
	cJSON_AddNumberToObject(o, "bytes", (double)t->bytes);
	if (t->sent > 0) {
		cJSON_AddNumberToObject(o, "first_frame", (double)t->first_frame);
		cJSON_AddNumberToObject(o, "last_frame", (double)t->last_frame);
		cJSON_AddNumberToObject(o, "first_pts", (double)t->first_pts);
		cJSON_AddNumberToObject(o, "last_pts", (double)t->last_pts);
	}
	return o;
}
