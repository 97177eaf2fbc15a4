/*
 * rtcs-session media: real audio (libsndfile, libopus) and simulated video
 * through a session's media path. media.c runs the call, media_send.c makes
 * and sends the frames, media_recv.c takes the stream's frames apart.
 */
#ifndef RTCS_SESSION_MEDIA_H
#define RTCS_SESSION_MEDIA_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define MEDIA_FRAME_MS		20	/* one Opus frame */
#define MEDIA_BUFFER_MS		60	/* the playout buffer "late" is measured against */
#define MEDIA_WINDOW_S		10	/* how far out of order a frame still reaches OUT */
#define MEDIA_BITRATE		48000	/* Opus bits per second and channel */

struct client;
struct client_err;

/* ---- media_send.c ---- */

/* One kind of media this device sends, and what became of it. */
struct media_track {
	const char	*media;		/* "audio" or "video" */
	const char	*codec;		/* "opus", or NULL */
	double		 interval_ms;	/* between frames */
	long long	 index;		/* the next frame's place in the source */
	uint64_t	 frame;		/* the next frame's number */
	int64_t		 pts0;		/* pts of index 0 */
	long long	 start_us;	/* when index 0 was due (monotonic) */
	long long	 sent, refused;
	uint64_t	 first_frame, last_frame;
	int64_t		 first_pts, last_pts;
	size_t		 bytes;
	int		 done;
	/* the source */
	struct media_audio *audio;
	size_t		 video_size;
	unsigned char	*buf;
};

struct media_audio;
/* Opens an audio file for 20 ms Opus frames: NULL with *cause and *exit if it cannot. */
struct media_audio *media_audio_open(const char *path, int *exit, char **cause);
void	 media_audio_close(struct media_audio *);
int	 media_audio_rate(const struct media_audio *);
int	 media_audio_channels(const struct media_audio *);
/* Frames of the file (the last one padded with silence). */
long long media_audio_frames(const struct media_audio *);
/* Goes to frame index; -1 with *cause if it cannot. */
int	 media_audio_seek(struct media_audio *, long long index, char **cause);
/* The next frame, encoded: its length, 0 at the end, -1 with *cause. */
int	 media_audio_next(struct media_audio *, const unsigned char **pkt, char **cause);

/* "30fps:25KB": frames per second and bytes a frame; -1 with *cause. */
int	 media_video_parse(const char *spec, double *fps, size_t *size, char **cause);
/* A video frame's bytes: its number, then a pattern a receiver checks. */
void	 media_video_fill(unsigned char *buf, size_t size, uint64_t frame);
/* Whether a received video frame has the pattern of its number. */
int	 media_video_check(const unsigned char *buf, size_t size, uint64_t frame);

/*
 * Sends the track's next frame (made from its source): 0, 1 when the track
 * is over, -1 with *err when the call failed (a 429 is counted, not a failure).
 */
int	 media_send_next(struct client *, const char *path, const char *token,
	    struct media_track *, struct client_err *);
cJSON	*media_track_json(const struct media_track *);

/* ---- media_recv.c ---- */

struct media_rx;
/* OUT (NULL: none) at rate and channels; -1 with *cause. */
struct media_rx *media_rx_new(const char *out, int rate, int channels, char **cause);
/* The stream's line handler (client_line_cb): 1 once the channel closed. */
int	 media_rx_line(cJSON *line, void *arg);
/* When the last frame came (clock_mono_us), 0 if none yet. */
long long media_rx_last_us(struct media_rx *);
/* Whether the channel closed, and why (after the stream ended). */
int	 media_rx_closed(struct media_rx *);
const char *media_rx_reason(struct media_rx *);
/* Writes the rest of OUT and closes it: 0, or -1 with *cause. */
int	 media_rx_finish(struct media_rx *, char **cause);
/* Per sender, and totals per kind of media. */
cJSON	*media_rx_json(struct media_rx *);
void	 media_rx_free(struct media_rx *);
#endif
