/* Unit tests for the code and scan primitives: PNM/PNG reading, encoding, rendering, decoding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finder.h"
#include "homography.h"
#include "image.h"
#include "image_filter.h"
#include "qr_decode.h"
#include "qr_encode.h"
#include "render.h"
#include "warp.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static int
pnm(const char *s, size_t len, struct image *img)
{
	char *cause = NULL;
	int rc = image_decode((const unsigned char *)s, len, img, &cause);

	if (rc != 0) {
		CHECK(cause != NULL && cause[0] != '\0');
		free(cause);
	}
	return rc;
}

static void
test_pnm(void)
{
	struct image img;
	static const char ok8[] = "P5\n# comment\n2 2\n255\n\x00\xff\x80\x01";
	static const char ok16[] = "P5 2 1 65535\n\xff\xff\x00\x00";
	static const char okrgb[] = "P6\n1 1\n255\n\xff\xff\xff";
	static const char *const bad[] = { "P5", "P5\n", "P5\n2", "P5\n2 2", "P5\n2 2\n255",
	    "P5\n0 2\n255\n", "P5\n2 2\n0\n", "P5\n2 2\n65536\n", "P5\n2 2\n255\n\x01",
	    "P52 2 255\n", "P5\n+2 2\n255\n", "P5\n4097 1\n255\n", "P7\n", "\x89PNG\r\n\x1a\n" };
	size_t i;

	CHECK(pnm(ok8, sizeof ok8 - 1, &img) == 0);
	CHECK(img.w == 2 && img.h == 2 && img.px[0] == 0 && img.px[1] == 255 && img.px[2] == 0x80);
	image_free(&img);
	CHECK(pnm(ok16, sizeof ok16 - 1, &img) == 0);
	CHECK(img.w == 2 && img.h == 1 && img.px[0] == 255 && img.px[1] == 0);
	image_free(&img);
	CHECK(pnm(okrgb, sizeof okrgb - 1, &img) == 0);
	CHECK(img.px[0] == 255);
	image_free(&img);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(pnm(bad[i], strlen(bad[i]), &img) != 0);
	CHECK(pnm("", 0, &img) != 0);
}

static void
test_encode(void)
{
	struct qr_code qr;
	char *cause = NULL;
	const char *p = "RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	CHECK(qr_ec_parse("L") == QR_EC_L && qr_ec_parse("h") == QR_EC_H);
	CHECK(qr_ec_parse("") < 0 && qr_ec_parse("X") < 0 && qr_ec_parse("LM") < 0 && qr_ec_parse(" ") < 0);
	CHECK(strcmp(qr_mode_name("123", 3), "numeric") == 0);
	CHECK(strcmp(qr_mode_name(p, strlen(p)), "alphanumeric") == 0);
	CHECK(strcmp(qr_mode_name("abc", 3), "byte") == 0);
	CHECK(qr_encode(p, strlen(p), QR_EC_M, &qr, &cause) == 0);
	CHECK(qr.version == 3 && qr.size == 29);
	/* Finder pattern corners: dark at the quiet zone's inner edge. */
	CHECK(render_dark(&qr, 4, 4, 4) && !render_dark(&qr, 4, 3, 3));
	qr_code_free(&qr);
	CHECK(qr_encode("", 0, QR_EC_M, &qr, &cause) != 0);
	free(cause);
}

/* Encode, render a PNG into memory, read it back, decode it: all in process. */
static void
test_roundtrip(void)
{
	struct qr_code qr;
	struct image img;
	struct qr_symbol *syms;
	char *buf = NULL, *cause = NULL;
	size_t len = 0;
	FILE *fp;
	int n, depth;
	const char *p = "RTCS:1:I:IABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ";

	for (depth = 1; depth <= 8; depth += 7) {
		CHECK(qr_encode(p, strlen(p), QR_EC_Q, &qr, &cause) == 0);
		fp = open_memstream(&buf, &len);
		CHECK(render_png(&qr, 3, 2, depth, fp, &cause) == 0);
		fclose(fp);
		qr_code_free(&qr);
		CHECK(image_decode((unsigned char *)buf, len, &img, &cause) == 0);
		CHECK(img.w == img.h && img.w > 0);
		n = qr_decode(&img, QR_DECODE_QR, &syms, &cause);
		CHECK(n == 1);
		if (n == 1)
			CHECK(syms[0].len == strlen(p) && memcmp(syms[0].data, p, syms[0].len) == 0);
		qr_symbols_free(syms, n);
		image_free(&img);
		/* The same PNG cut short is refused, not half read. */
		CHECK(image_decode((unsigned char *)buf, len / 2, &img, &cause) != 0);
		free(cause);
		cause = NULL;
		free(buf);
		buf = NULL;
	}
}

/* A 1-pixel light seam and a 3-pixel hole inside dark are closed; a wide gap and the edges stay. */
static void
test_close_gaps(void)
{
	static const char *const rows[] = {
		"............................",
		"..######.########.....####..",
		"..######.########.....####..",
		"..####...########.....####..",
		"..######.########.....####..",
		"............................",
	};
	struct image img = { 28, 6, NULL }, out, inv, back;
	int x, y;

	img.px = malloc(28 * 6);
	for (y = 0; y < 6; y++)
		for (x = 0; x < 28; x++)
			img.px[y * 28 + x] = rows[y][x] == '#' ? 0 : 255;
	image_close_gaps(&img, 5, 3, 1, &out);
	CHECK(out.w == 28 && out.h == 6);
	CHECK(out.px[1 * 28 + 8] == 0 && out.px[4 * 28 + 8] == 0);	/* the seam */
	CHECK(out.px[3 * 28 + 6] == 0 && out.px[3 * 28 + 7] == 0);	/* the hole */
	CHECK(out.px[2 * 28 + 19] == 255);				/* the 5-pixel gap */
	CHECK(out.px[0] == 255 && out.px[1 * 28 + 1] == 255 && out.px[5 * 28 + 27] == 255);
	CHECK(out.px[1 * 28 + 2] == 0 && out.px[1 * 28 + 25] == 0 && out.px[1 * 28 + 26] == 255);
	/* Closing the light parts of the negative is the negative of closing the dark ones. */
	inv = img;
	inv.px = malloc(28 * 6);
	for (x = 0; x < 28 * 6; x++)
		inv.px[x] = (unsigned char)(255 - img.px[x]);
	image_close_gaps(&inv, 5, 3, 0, &back);
	for (x = 0; x < 28 * 6; x++)
		CHECK(back.px[x] == 255 - out.px[x]);
	image_free(&back);
	image_free(&out);
	/* Kernels are clamped; a 1x1 image survives. */
	image_close_gaps(&img, 0, 1000, 1, &out);
	CHECK(out.w == 28);
	image_free(&out);
	img.w = img.h = 1;
	image_close_gaps(&img, 64, 64, 0, &out);
	CHECK(out.px[0] == img.px[0]);
	image_free(&out);
	image_free(&inv);
	image_free(&img);
}

static void
test_term_colour(void)
{
	CHECK(render_term_colour_for(NULL, NULL) == RENDER_COLOUR_16);
	CHECK(render_term_colour_for("xterm", NULL) == RENDER_COLOUR_16);
	CHECK(render_term_colour_for("xterm-256color", "") == RENDER_COLOUR_256);
	CHECK(render_term_colour_for("screen.xterm-256color", NULL) == RENDER_COLOUR_256);
	CHECK(render_term_colour_for("xterm", "truecolor") == RENDER_COLOUR_24);
	CHECK(render_term_colour_for("linux", "24bit") == RENDER_COLOUR_24);
}

static void
test_homography(void)
{
	static const double sq[4][2] = { { 0, 0 }, { 10, 0 }, { 10, 10 }, { 0, 10 } };
	static const double kite[4][2] = { { 100, 50 }, { 180, 60 }, { 220, 200 }, { 60, 170 } };
	static const double line[4][2] = { { 0, 0 }, { 1, 1 }, { 2, 2 }, { 5, 0 } };
	double src[12][2], dst[12][2], x, y;
	struct homography hg, exact;
	int i;

	CHECK(homography_fit(sq, kite, 4, &exact) == 0);
	for (i = 0; i < 4; i++) {
		CHECK(homography_map(&exact, sq[i][0], sq[i][1], &x, &y) == 0);
		CHECK(fabs(x - kite[i][0]) < 1e-6 && fabs(y - kite[i][1]) < 1e-6);
	}
	/* Twelve points on a grid through the same map: least squares finds it again. */
	for (i = 0; i < 12; i++) {
		src[i][0] = (i % 4) * 3.0;
		src[i][1] = (i / 4) * 5.0;
		homography_map(&exact, src[i][0], src[i][1], &dst[i][0], &dst[i][1]);
	}
	CHECK(homography_fit(src, dst, 12, &hg) == 0);
	CHECK(homography_map(&hg, 7, 7, &x, &y) == 0);
	homography_map(&exact, 7, 7, &src[0][0], &src[0][1]);
	CHECK(fabs(x - src[0][0]) < 1e-6 && fabs(y - src[0][1]) < 1e-6);
	CHECK(homography_fit(sq, line, 4, &hg) != 0);
	CHECK(homography_fit(sq, sq, 4, &hg) == 0);
	CHECK(homography_fit(line, line, 3, &hg) != 0);
	CHECK(homography_fit(sq, kite, HOMOGRAPHY_MAX_POINTS + 1, &hg) != 0);
	src[0][0] = NAN;
	CHECK(homography_fit(src, dst, 12, &hg) != 0);
}

/*
 * A code rendered at 6 px a module, seen through a strong keystone (top edge
 * half the bottom one) and turned: the finders are found where the map puts
 * them, and qr_decode reads the code.
 */
static void
test_warp(void)
{
	const char *p = "RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	/* Module coordinates (0..side) -> photo pixels: a trapezoid, turned 30 degrees. */
	double mod[4][2], img4[4][2], x, y, c, s2, ax, ay;
	struct image flat = { 0, 0, NULL }, photo = { 420, 420, NULL };
	struct homography to_photo, to_flat;
	struct finder_bitmap bm;
	struct finder f[FINDER_MAX];
	struct warp_view views[WARP_VIEWS];
	struct qr_symbol *syms;
	struct qr_code qr;
	char *cause = NULL, *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int i, n, side, px, py, found;

	CHECK(qr_encode(p, strlen(p), QR_EC_M, &qr, &cause) == 0);
	side = qr.size + 8;
	fp = open_memstream(&buf, &len);
	CHECK(render_png(&qr, 6, 4, 8, fp, &cause) == 0);
	fclose(fp);
	CHECK(image_decode((unsigned char *)buf, len, &flat, &cause) == 0);
	free(buf);
	{
		const double m[4][2] = { { 0, 0 }, { side, 0 }, { side, side }, { 0, side } };
		const double t[4][2] = { { 140, 110 }, { 260, 110 }, { 330, 330 }, { 70, 330 } };
		c = cos(M_PI / 6), s2 = sin(M_PI / 6);
		for (i = 0; i < 4; i++) {
			mod[i][0] = m[i][0], mod[i][1] = m[i][1];
			/* Turned about the photo's centre. */
			img4[i][0] = 210 + (t[i][0] - 210) * c - (t[i][1] - 210) * s2;
			img4[i][1] = 210 + (t[i][0] - 210) * s2 + (t[i][1] - 210) * c;
		}
	}
	CHECK(homography_fit(mod, img4, 4, &to_photo) == 0);
	CHECK(homography_fit(img4, mod, 4, &to_flat) == 0);
	photo.px = malloc(420 * 420);
	for (py = 0; py < 420; py++)
		for (px = 0; px < 420; px++) {
			homography_map(&to_flat, px + 0.5, py + 0.5, &x, &y);
			x *= 6, y *= 6;
			photo.px[py * 420 + px] = x < 0 || y < 0 || x >= flat.w || y >= flat.h ? 255 :
			    flat.px[(int)y * flat.w + (int)x];
		}
	finder_binarize(&photo, &bm);
	n = finder_locate(&bm, f, FINDER_MAX);
	CHECK(n >= 3);
	/* The top-left finder's centre: module (7.5, 7.5) with the quiet zone. */
	homography_map(&to_photo, 7.5, 7.5, &ax, &ay);
	for (found = 0, i = 0; i < n; i++)
		found |= hypot(f[i].x - ax, f[i].y - ay) < 3;
	CHECK(found);
	finder_bitmap_free(&bm);
	n = warp_views(&photo, views, WARP_VIEWS);
	CHECK(n >= 1);
	CHECK(n >= 1 && views[0].modules == qr.size);
	for (i = 0; i < n; i++)
		image_free(&views[i].img);
	n = qr_decode(&photo, QR_DECODE_QR, &syms, &cause);
	CHECK(n == 1 && syms[0].len == strlen(p) && memcmp(syms[0].data, p, syms[0].len) == 0);
	/* The corners reported are the photo's, not the view's. */
	if (n == 1)
		CHECK(syms[0].x > 40 && syms[0].x < 210 && syms[0].y > 40 && syms[0].y < 400);
	qr_symbols_free(syms, n);
	/* Nothing to find: no view, no crash. */
	memset(photo.px, 255, 420 * 420);
	CHECK(warp_views(&photo, views, WARP_VIEWS) == 0);
	image_free(&photo);
	image_free(&flat);
	qr_code_free(&qr);
}

int
main(void)
{
	test_pnm();
	test_encode();
	test_roundtrip();
	test_close_gaps();
	test_term_colour();
	test_homography();
	test_warp();
	if (failures) {
		fprintf(stderr, "test_code: %d failures\n", failures);
		return 1;
	}
	printf("test_code: ok\n");
	return 0;
}
