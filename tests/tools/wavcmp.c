/*
 * wavcmp: compares received audio with what was sent (tests/media_continuity.bats,
 * bench/run).
 *
 *   wavcmp REF.wav OUT.wav[@MS] [OUT2.wav[@MS] ...]
 *
 * The OUT files are placed MS milliseconds into the timeline (default 0) and
 * summed, as one device's files after a switch (the phone's part, then the
 * tablet's). The codec's delay is found by cross-correlation (0 to 40 ms).
 * Then REF is cut in 20 ms blocks; a block that has sound in REF (RMS over
 * 1% of full scale) and next to none in the sum (RMS under a fifth of REF's)
 * is silent. Prints one JSON object:
 *   {"blocks":N,"silent_blocks":K,"longest_silence_ms":L,"first_silent_ms":T,
 *    "lag_ms":D,"correlation":C,"snr_db":S}
 * Exit 0, or 66/65 when a file cannot be read or is not alike (rate, channels).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

struct track {
	float	*v;
	long	 n;
	int	 rate;
};

/* Channel 0 of path, added into t at offset samples (t grows as needed). */
static int
load(const char *path, long offset, struct track *t)
{
	SF_INFO info;
	SNDFILE *sf;
	float *buf;
	sf_count_t got, i;
	long end;

	memset(&info, 0, sizeof info);
	if ((sf = sf_open(path, SFM_READ, &info)) == NULL) {
		fprintf(stderr, "wavcmp: %s: %s\n", path, sf_strerror(NULL));
		return 66;
	}
	if (t->rate != 0 && info.samplerate != t->rate) {
		fprintf(stderr, "wavcmp: %s: %d Hz, not %d\n", path, info.samplerate, t->rate);
		sf_close(sf);
		return 65;
	}
	t->rate = info.samplerate;
	buf = calloc((size_t)info.frames * (size_t)info.channels + 1, sizeof *buf);
	got = sf_readf_float(sf, buf, info.frames);
	sf_close(sf);
	end = offset + (long)got;
	if (end > t->n) {
		t->v = realloc(t->v, (size_t)end * sizeof *t->v);
		memset(t->v + t->n, 0, (size_t)(end - t->n) * sizeof *t->v);
		t->n = end;
	}
	for (i = 0; i < got; i++)
		if (offset + i >= 0)
			t->v[offset + i] += buf[i * info.channels];
	free(buf);
	return 0;
}

static double
rms(const float *v, long n)
{
	double s = 0;
	long i;

	for (i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	return n > 0 ? sqrt(s / (double)n) : 0;
}

/* out[i + lag] against ref[i], over the first seconds: the lag that fits best. */
static long
best_lag(const struct track *ref, const struct track *out, long max)
{
	long lag, i, n = ref->n < ref->rate * 5 ? ref->n : ref->rate * 5, best = 0;
	double c, bestc = -1e300;

	for (lag = 0; lag <= max; lag++) {
		c = 0;
		for (i = 0; i < n && i + lag < out->n; i++)
			c += (double)ref->v[i] * out->v[i + lag];
		if (c > bestc) {
			bestc = c;
			best = lag;
		}
	}
	return best;
}

int
main(int argc, char **argv)
{
	struct track ref = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	long blk, i, b, nb, lag, silent = 0, run = 0, longest = 0, first = -1;
	double sr, so, sxy = 0, sxx = 0, syy = 0, err = 0, d;
	char *at, *end;
	int a, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: wavcmp REF.wav OUT.wav[@MS] ...\n");
		return 64;
	}
	if ((rc = load(argv[1], 0, &ref)) != 0)
		return rc;
	out.rate = ref.rate;
	for (a = 2; a < argc; a++) {
		long ms = 0;
		if ((at = strrchr(argv[a], '@')) != NULL) {
			*at = '\0';
			ms = strtol(at + 1, &end, 10);
			if (*end != '\0') {
				fprintf(stderr, "wavcmp: %s: bad offset\n", at + 1);
				return 64;
			}
		}
		if ((rc = load(argv[a], ms * ref.rate / 1000, &out)) != 0)
			return rc;
	}
	lag = best_lag(&ref, &out, ref.rate / 25);
	blk = ref.rate / 50;
	nb = ref.n / blk;
	for (b = 0; b < nb; b++) {
		long o = b * blk + lag, have = out.n - o < blk ? out.n - o : blk;
		/* The end of REF still in the encoder's look-ahead never came out. */
		if (b == nb - 1 && have < blk)
			have = blk - lag > 0 ? blk - lag : 0;
		if (have <= 0)
			have = 0;
		sr = rms(ref.v + b * blk, have > 0 ? have : blk);
		so = have > 0 && o + have <= out.n ? rms(out.v + o, have) : 0;
		if (sr > 0.01 && so < sr / 5) {
			silent++;
			if (first < 0)
				first = b;
			if (++run > longest)
				longest = run;
		} else
			run = 0;
	}
	for (i = 0; i < ref.n; i++) {
		double y = i + lag < out.n ? out.v[i + lag] : 0;
		sxy += ref.v[i] * y;
		sxx += (double)ref.v[i] * ref.v[i];
		syy += y * y;
		d = ref.v[i] - y;
		err += d * d;
	}
	printf("{\"blocks\":%ld,\"silent_blocks\":%ld,\"longest_silence_ms\":%ld,"
	    "\"first_silent_ms\":%ld,\"lag_ms\":%.2f,\"correlation\":%.4f,\"snr_db\":%.1f}\n",
	    nb, silent, longest * 20, first < 0 ? -1 : first * 20, lag * 1000.0 / ref.rate,
	    sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0,
	    err > 0 ? 10 * log10(sxx / err) : 99.0);
	free(ref.v);
	free(out.v);
	return 0;
}
