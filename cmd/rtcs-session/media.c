/*
 * rtcs-session media: a device in a call. The main thread sends the audio
 * file (20 ms Opus frames) and the simulated video, each frame at its time on
 * CLOCK_MONOTONIC; a thread reads the device's stream (media=1) and writes
 * what the others send into OUT. At the end (the file sent and the others
 * quiet for --linger seconds, the channel closed, or a signal) it prints
 * what was sent and received: frames, lost, duplicated, late, the longest
 * gap and the jitter.
 */
#include <sys/resource.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "clock.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "payload.h"
#include "session.h"
#include "xmalloc.h"

static atomic_int media_signalled;

struct media_call {
	struct cli	*cli;
	const char	*sid;
	char		*token;
	char		*participant;
	struct client	*post, *stream;
	struct media_rx	*rx;
	struct media_track track[2];	/* audio, video */
	int		 ntracks;
	char		*stream_path, *media_path;
	struct client_err serr;		/* the stream's */
	int		 src;
	long long	 t0_us;
	int		 send_rc;
	struct client_err err;		/* the first failed send */
};

static void
media_on_signal(int sig)
{
	(void)sig;
	atomic_store(&media_signalled, 1);
}

static void *
media_stream_thread(void *arg)
{
	struct media_call *m = arg;

	m->src = client_stream(m->stream, m->stream_path, m->token, 0, media_rx_line, m->rx,
	    &m->serr);
	/* Ended by us (client_interrupt): as if the server had ended it. */
	if (m->src < 0 && client_interrupted(m->stream)) {
		client_err_clear(&m->serr);
		m->src = 0;
	}
	return NULL;
}

/* A whole number the server sent, 0 if it is none. */
static long long
json_whole(const cJSON *n)
{
	return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble <= 9007199254740992.0 ?
	    (long long)n->valuedouble : 0;
}

/* What the server last heard from this participant, per kind; where the log ends. */
static int
media_state(struct media_call *m, cJSON **senders, long long *last_seq)
{
	struct client_err err = { 0 };
	cJSON *o = NULL, *s = NULL;
	char *path = xprintf("/v1/sessions/%s/media", m->sid);
	const char *p;
	int rc = 0;

	if (client_call(m->post, "GET", path, m->token, NULL, &o, &err) != 0 ||
	    (p = json_str(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, "media"), "you"), "participant")) == NULL) {
		rc = err.msg != NULL ? cli_fail(m->cli, m->sid, &err) :
		    cli_error(m->cli, EXIT_PROTOCOL, "%s: rtcs-serve gave no media state", m->sid);
		goto out;
	}
	m->participant = xstrdup(p);
	*senders = cJSON_DetachItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, "media"), "senders");
	free(path);
	path = xprintf("/v1/sessions/%s", m->sid);
	if (client_call(m->post, "GET", path, m->token, NULL, &s, &err) != 0) {
		rc = cli_fail(m->cli, m->sid, &err);
		goto out;
	}
	*last_seq = json_whole(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(s, "session"), "last_seq"));
out:
	client_err_clear(&err);
	cJSON_Delete(o);
	cJSON_Delete(s);
	free(path);
	return rc;
}

/* The participant's last frame of this kind as the server has it, if any. */
static const cJSON *
media_last(const cJSON *senders, const char *participant, const char *media)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, senders)
		if (json_str(e, "participant") != NULL && json_str(e, "media") != NULL &&
		    strcmp(json_str(e, "participant"), participant) == 0 &&
		    strcmp(json_str(e, "media"), media) == 0)
			return e;
	return NULL;
}

/*
 * The participant's timeline goes on: numbers after the server's last frame.
 * --resume takes up the file where its pts says (both start at 0); else it
 * plays from its start after the last pts.
 */
static int
media_track_start(struct media_call *m, struct media_track *t, const cJSON *senders)
{
	const cJSON *last = media_last(senders, m->participant, t->media);
	long long lf = json_whole(cJSON_GetObjectItemCaseSensitive(last, "frame"));
	long long lp = json_whole(cJSON_GetObjectItemCaseSensitive(last, "pts"));
	char *cause = NULL;
	int rc;

	t->frame = last ? (uint64_t)lf + 1 : 1;
	t->pts0 = 0;
	if (last != NULL && sopts.resume) {
		t->index = (long long)floor((double)lp / t->interval_ms) + 1;
		if (t->audio != NULL && media_audio_seek(t->audio, t->index, &cause) != 0) {
			rc = cli_error(m->cli, EXIT_DATAERR, "%s", cause);
			free(cause);
			return rc;
		}
	} else if (last != NULL)
		t->pts0 = (int64_t)lp + (int64_t)ceil(t->interval_ms);
	log_info("%s: %s from frame %llu, pts %lld", m->sid, t->media,
	    (unsigned long long)t->frame, (long long)(t->pts0 + t->index * t->interval_ms));
	return 0;
}

/* The tracks, their sources opened; 0 or an exit code. */
static int
media_tracks(struct media_call *m)
{
	struct media_track *t;
	char *cause = NULL;
	double fps;
	size_t size;
	int rc, ex = EXIT_NOINPUT;

	if (sopts.send != NULL) {
		t = &m->track[m->ntracks++];
		t->media = "audio";
		t->codec = "opus";
		t->interval_ms = MEDIA_FRAME_MS;
		if ((t->audio = media_audio_open(sopts.send, &ex, &cause)) == NULL) {
			rc = cli_error(m->cli, ex, "%s", cause);
			free(cause);
			return rc;
		}
	}
	if (sopts.video != NULL) {
		if (media_video_parse(sopts.video, &fps, &size, &cause) != 0) {
			rc = cli_usage_error(m->cli, "--video: %s", cause);
			free(cause);
			return rc;
		}
		t = &m->track[m->ntracks++];
		t->media = "video";
		t->interval_ms = 1000 / fps;
		t->video_size = size;
		t->buf = xmalloc(size);
	}
	return 0;
}

/* Waits until the absolute monotonic time t_us, or a signal. */
static void
media_wait_until(long long t_us)
{
	struct timespec ts = { (time_t)(t_us / 1000000), (long)(t_us % 1000000) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	    !atomic_load(&media_signalled))
		;
}

static int
media_should_stop(struct media_call *m)
{
	return atomic_load(&media_signalled) || media_rx_closed(m->rx) ||
	    (sopts.duration_ms > 0 && clock_mono_us() - m->t0_us >= sopts.duration_ms * 1000);
}

static long long
media_due(const struct media_track *t)
{
	return t->start_us + (long long)((double)t->index * t->interval_ms * 1000);
}

/* Every track's frames, each at its time, until they are all sent or the call stops. */
static void
media_send_all(struct media_call *m)
{
	struct media_track *next;
	int i;

	for (i = 0; i < m->ntracks; i++)
		m->track[i].start_us = m->t0_us - (media_due(&m->track[i]) - m->track[i].start_us);
	for (;;) {
		next = NULL;
		for (i = 0; i < m->ntracks; i++)
			if (!m->track[i].done && (next == NULL ||
			    media_due(&m->track[i]) < media_due(next)))
				next = &m->track[i];
		if (next == NULL)
			return;
		media_wait_until(media_due(next));
		if (media_should_stop(m))
			return;
		if (media_send_next(m->post, m->media_path, m->token, next, &m->err) < 0) {
			m->send_rc = m->err.exit ? m->err.exit : EXIT_SOFTWARE;
			return;
		}
		/* Without --duration the video lasts as long as the audio file. */
		if (next->audio != NULL && next->done && sopts.duration_ms == 0)
			for (i = 0; i < m->ntracks; i++)
				m->track[i].done = 1;
	}
}

/*
 * Then until the others have been quiet for --linger seconds (default 2
 * after sending; receiving only: until the channel closes, or --linger
 * after the first frame heard), the channel closes, or a signal comes.
 */
static void
media_linger(struct media_call *m, int sending)
{
	long long quiet_ms = sopts.linger_ms >= 0 ? sopts.linger_ms : sending ? 2000 : -1;
	long long since = clock_mono_us(), last;

	for (;;) {
		if (atomic_load(&media_signalled) || media_rx_closed(m->rx))
			return;
		if (quiet_ms >= 0) {
			last = media_rx_last_us(m->rx);
			if (sending && last < since)
				last = since;
			if (last > 0 && clock_mono_us() - last >= quiet_ms * 1000)
				return;
		}
		media_wait_until(clock_mono_us() + 20000);
	}
}

static void
media_print_human(const cJSON *sent, const cJSON *rx, const char *closed)
{
	const cJSON *t, *s;

	cJSON_ArrayForEach(t, sent) {
		printf("sent %s: %lld frames (%lld refused as too fast)", json_str(t, "media"),
		    json_whole(cJSON_GetObjectItemCaseSensitive(t, "frames")),
		    json_whole(cJSON_GetObjectItemCaseSensitive(t, "refused")));
		if (json_whole(cJSON_GetObjectItemCaseSensitive(t, "frames")) > 0)
			printf(", frames %lld to %lld",
			    json_whole(cJSON_GetObjectItemCaseSensitive(t, "first_frame")),
			    json_whole(cJSON_GetObjectItemCaseSensitive(t, "last_frame")));
		putchar('\n');
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rx, "senders"))
#define N(k) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, k))
		printf("received %s from %s: %.0f frames, lost %.0f, duplicated %.0f, late %.0f, "
		    "longest gap %.1f ms, jitter %.2f ms\n", json_str(s, "media"),
		    json_str(s, "participant"), N("frames"), N("lost"), N("duplicated"), N("late"),
		    N("gap_ms"), N("jitter_ms"));
#undef N
	if (closed != NULL)
		printf("channel closed: %s\n", strcmp(closed, "transferred") == 0 ?
		    "the call moved to another device" : strcmp(closed, "session_ended") == 0 ?
		    "the session ended" : closed);
}

static void
media_report(struct media_call *m)
{
	cJSON *o = cJSON_CreateObject(), *sent = cJSON_AddArrayToObject(o, "sent"), *rx;
	struct rusage ru;
	int i;

	for (i = 0; i < m->ntracks; i++)
		cJSON_AddItemToArray(sent, media_track_json(&m->track[i]));
	rx = media_rx_json(m->rx);
	if (m->cli->json) {
		cJSON_AddStringToObject(o, "session", m->sid);
		cJSON_AddStringToObject(o, "device", sopts.as);
		cJSON_AddStringToObject(o, "participant", m->participant);
		cJSON_AddItemToObject(o, "received", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rx, "senders"), 1));
		cJSON_AddItemToObject(o, "totals", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rx, "totals"), 1));
		if (media_rx_closed(m->rx))
			cJSON_AddStringToObject(o, "closed", media_rx_reason(m->rx));
		else
			cJSON_AddNullToObject(o, "closed");
		getrusage(RUSAGE_SELF, &ru);
		cJSON_AddNumberToObject(o, "cpu_ms", (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    1000 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
		cJSON_AddNumberToObject(o, "duration_ms", (double)(clock_mono_us() - m->t0_us) / 1000);
		print_json(o);
	} else
		media_print_human(sent, rx, media_rx_closed(m->rx) ? media_rx_reason(m->rx) : NULL);
	fflush(stdout);
	cJSON_Delete(rx);
	cJSON_Delete(o);
}

/*
 * --transfer: the claimant of a switch waits, its file open, until the
 * transfer completes, collects its new channel's token and goes on at once:
 * make before break on the device's side.
 */
static int
media_take_over(struct media_call *m)
{
	struct transfer_wait w;
	struct client_err err = { 0 };
	char *sid = NULL, *lost = NULL, *dir;
	int rc = 0;

	memset(&w, 0, sizeof w);
	w.id = sopts.transfer;
	w.timeout_ms = m->cli->timeout_ms;
	if ((rc = transfer_wait(m->stream, &w, &err)) < 0)
		return cli_fail(m->cli, sopts.transfer, &err);
	if (rc == 1)
		return cli_error(m->cli, EXIT_NO, "transfer %s %s%s%s", sopts.transfer, w.state,
		    w.reason[0] ? ": " : "", w.reason);
	dir = cli_keys_dir(m->cli);
	if (transfer_collect_token(m->post, dir, sopts.as, sopts.transfer, &sid, &lost, &err) != 0) {
		if (lost != NULL)
			printf("%s %s\n", sid, lost);
		rc = cli_fail(m->cli, sopts.transfer, &err);
	} else if (strcmp(sid, m->sid) != 0)
		rc = cli_error(m->cli, EXIT_DATAERR, "transfer %s moved %s into session %s, not %s",
		    sopts.transfer, sopts.as, sid, m->sid);
	client_err_clear(&err);
	free(lost);
	free(sid);
	free(dir);
	return rc;
}

/* Sets up the call: tracks, where they go on from, OUT, the stream; 0 or an exit code. */
static int
media_setup(struct media_call *m)
{
	cJSON *senders = NULL;
	char *cause = NULL;
	long long last_seq = 0;
	int i, rc;

	if ((rc = media_tracks(m)) != 0)
		goto out;
	if (sopts.transfer != NULL && (rc = media_take_over(m)) != 0)
		goto out;
	if ((rc = cli_device_key(m->cli, sopts.as, "token", m->sid, &m->token, NULL)) != 0 ||
	    (rc = media_state(m, &senders, &last_seq)) != 0)
		goto out;
	for (i = 0; i < m->ntracks; i++)
		if ((rc = media_track_start(m, &m->track[i], senders)) != 0)
			goto out;
	m->rx = media_rx_new(sopts.receive, m->ntracks > 0 && m->track[0].audio != NULL ?
	    media_audio_rate(m->track[0].audio) : 48000, m->ntracks > 0 &&
	    m->track[0].audio != NULL ? media_audio_channels(m->track[0].audio) : 1, &cause);
	if (m->rx == NULL) {
		rc = cli_error(m->cli, EXIT_IOERR, "%s", cause);
		free(cause);
		goto out;
	}
	/* The stream from the end of the log: this is for media, not for the chat's past. */
	m->stream_path = xprintf("/v1/sessions/%s/stream?media=1&since=%lld", m->sid, last_seq);
	m->media_path = xprintf("/v1/sessions/%s/media", m->sid);
out:
	cJSON_Delete(senders);
	return rc;
}

static int
media_run(struct media_call *m)
{
	struct sigaction sa;
	pthread_t th;
	char *cause = NULL;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = media_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((errno = pthread_create(&th, NULL, media_stream_thread, m)) != 0)
		return cli_error(m->cli, EXIT_SOFTWARE, "cannot start a thread: %s", strerror(errno));
	m->t0_us = clock_mono_us();
	media_send_all(m);
	/* A 401: the channel closed under the sender; its stream says why. */
	if (m->send_rc == 0 || m->err.status == 401)
		media_linger(m, m->ntracks > 0);
	client_interrupt(m->stream);
	pthread_join(th, NULL);
	if (m->send_rc != 0 && m->err.status == 401 && media_rx_closed(m->rx))
		m->send_rc = 0;
	rc = m->send_rc != 0 ? cli_fail(m->cli, m->sid, &m->err) : 0;
	if (rc == 0 && m->src < 0)
		rc = cli_fail(m->cli, m->sid, &m->serr);
	else if (rc == 0 && media_rx_closed(m->rx) && strcmp(media_rx_reason(m->rx), "shutdown") == 0)
		rc = cli_error(m->cli, EXIT_UNAVAILABLE, "rtcs-serve is shutting down");
	if (media_rx_finish(m->rx, &cause) != 0) {
		if (rc == 0)
			rc = cli_error(m->cli, EXIT_IOERR, "%s: %s", sopts.receive, cause);
		free(cause);
	}
	media_report(m);
	return rc;
}

int
cmd_media(struct cli *cli, int argc, char **argv)
{
	struct media_call m;
	int i, rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if (sopts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if (sopts.resume && sopts.send == NULL && sopts.video == NULL)
		return cli_usage_error(cli, "--resume goes with --send or --video");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	memset(&m, 0, sizeof m);
	m.cli = cli;
	m.sid = argv[0];
	if (sopts.transfer != NULL && !payload_id_valid(sopts.transfer, 'T'))
		return cli_error(cli, EXIT_DATAERR, "'%s' is not a transfer id", sopts.transfer);
	if ((m.post = cli_client(cli)) == NULL || (m.stream = cli_client(cli)) == NULL)
		rc = EXIT_SOFTWARE;
	else if ((rc = media_setup(&m)) == 0)
		rc = media_run(&m);
	for (i = 0; i < m.ntracks; i++) {
		media_audio_close(m.track[i].audio);
		free(m.track[i].buf);
	}
	media_rx_free(m.rx);
	client_free(m.post);
	client_free(m.stream);
	client_err_clear(&m.err);
	client_err_clear(&m.serr);
	free(m.participant);
	free(m.stream_path);
	free(m.media_path);
	free(m.token);
	return rc;
}
