/* rtcs-code: renders a payload as a QR code (PNG, terminal text, SVG, plain text). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "exitcode.h"
#include "json.h"
#include "getopt_std.h"
#include "log.h"
#include "opt.h"
#include "qr_encode.h"
#include "render.h"
#include "xmalloc.h"

#define CODE_MAX_INPUT	65536	/* far above what version 40 holds */

enum code_type { T_PNG, T_UTF8, T_ANSI, T_BLOCKS, T_ASCII, T_SVG, T_TXT };
static const char *const code_types[] = { "png", "utf8", "ansi", "blocks", "ascii", "svg", "txt",
	NULL };
enum code_colour { C_AUTO, C_ALWAYS, C_NEVER };
static const char *const code_colours[] = { "auto", "always", "never", NULL };

struct code_opts {
	int		 type;		/* -1 until chosen */
	const char	*output;	/* NULL or "-": stdout */
	int		 scale, margin, depth, json;
	enum qr_ec	 ec;
	int		 colour;	/* enum code_colour */
	int		 invert;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rtcs-code [-hqVv] [-t png|utf8|ansi|blocks|ascii|svg|txt] [-o FILE|-] [-s PX]\n"
	    "                 [-m MODULES] [-l L|M|Q|H] [--depth 1|8] [--color WHEN] [--invert]\n"
	    "                 [--json] [PAYLOAD|-]\n"
	    "Renders PAYLOAD (or standard input) as a QR code.\n"
	    "  -t, --type TYPE       png, utf8, ansi, blocks, ascii, svg or txt\n"
	    "  -o, --output FILE     write to FILE (- for standard output)\n"
	    "  -s, --scale PX        pixels a module in png and svg (1-64, default 8)\n"
	    "  -m, --margin MODULES  quiet zone (0-64, default 4)\n"
	    "  -l, --level L|M|Q|H   error correction level (default M)\n"
	    "      --depth 1|8       bits a pixel in png (default 1)\n"
	    "      --color WHEN      utf8 and blocks in explicit colours: auto (on a terminal\n"
	    "                        without NO_COLOR, the default), always or never\n"
	    "      --invert          uncoloured text: glyphs draw the dark modules, for dark\n"
	    "                        text on a light background (default: light on dark)\n"
	    "      --json            print the code's metadata as JSON on standard output\n"
	    "  -q, --quiet           no warnings\n"
	    "  -v, --verbose         describe the code on standard error\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         print the version\n");
}

static __attribute__((noreturn)) void
die_cause(int code, char *cause)
{
	log_die(code, "%s", cause);
}

/*
 * The whole of standard input less one trailing newline ("\n" or "\r\n"),
 * any bytes; from a terminal, the first line typed.
 */
static char *
read_payload_stdin(size_t *len)
{
	char *buf = xmalloc(CODE_MAX_INPUT + 1);
	size_t off = 0;
	ssize_t n;
	int tty = isatty(STDIN_FILENO);

	while (off < CODE_MAX_INPUT && !(tty && off > 0 && buf[off - 1] == '\n')) {
		n = read(STDIN_FILENO, buf + off, CODE_MAX_INPUT - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_die(EXIT_IOERR, "cannot read standard input: %s", strerror(errno));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off == CODE_MAX_INPUT)
		log_die(EXIT_DATAERR, "payload too long (over %d bytes)", CODE_MAX_INPUT);
	if (off > 0 && buf[off - 1] == '\n')
		off--;
	if (off > 0 && buf[off - 1] == '\r')
		off--;
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* Without -t: from -o's extension, else text on a terminal, else PNG. */
static int
default_type(const char *output)
{
	const char *dot, *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (output != NULL && strcmp(output, "-") != 0) {
		if ((dot = strrchr(output, '.')) != NULL) {
			if (strcasecmp(dot, ".svg") == 0)
				return T_SVG;
			if (strcasecmp(dot, ".txt") == 0)
				return T_TXT;
		}
		return T_PNG;
	}
	if (!isatty(STDOUT_FILENO))
		return T_PNG;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return T_ASCII;
	return nc != NULL && nc[0] != '\0' ? T_UTF8 : T_ANSI;
}

/* Explicit colours for utf8 and blocks: asked for, or a terminal that has them. */
static enum render_term_colour
term_colour(const struct code_opts *o, FILE *fp)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (o->type == T_ASCII || o->colour == C_NEVER)
		return RENDER_COLOUR_NONE;
	if (o->type != T_ANSI && o->colour == C_AUTO && (!isatty(fileno(fp)) ||
	    (nc != NULL && nc[0] != '\0') || term == NULL || strcmp(term, "dumb") == 0))
		return RENDER_COLOUR_NONE;
	return render_term_colour_for(term, getenv("COLORTERM"));
}

static int
render(const struct code_opts *o, const struct qr_code *qr, const char *payload,
    size_t len, FILE *fp, char **cause)
{
	struct render_term how = { RENDER_TERM_HALF, term_colour(o, fp), o->invert, o->margin };

	switch (o->type) {
	case T_PNG:
		return render_png(qr, o->scale, o->margin, o->depth, fp, cause);
	case T_BLOCKS:
		how.style = RENDER_TERM_BLOCKS;
		/* FALLTHROUGH */
	case T_UTF8:
	case T_ANSI:
		return render_term(qr, &how, fp, cause);
	case T_ASCII:
		how.style = RENDER_TERM_ASCII;
		return render_term(qr, &how, fp, cause);
	case T_SVG:
		return render_svg(qr, o->scale, o->margin, fp, cause);
	}
	if (fwrite(payload, 1, len, fp) != len || fputc('\n', fp) == EOF || fflush(fp) != 0) {
		*cause = xprintf("cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * FILE is truncated and written in place, as qrencode does: a temporary file
 * and a rename cost a third of the run time on some file systems. A file
 * left half written by an error is removed.
 */
static void
render_to_file(const struct code_opts *o, const struct qr_code *qr, const char *payload,
    size_t len)
{
	char *cause = NULL;
	FILE *fp;

	if ((fp = fopen(o->output, "wb")) == NULL)
		log_die(EXIT_IOERR, "cannot write %s: %s", o->output, strerror(errno));
	if (render(o, qr, payload, len, fp, &cause) != 0) {
		fclose(fp);
		unlink(o->output);
		log_die(EXIT_IOERR, "%s: %s", o->output, cause);
	}
	if (fclose(fp) != 0) {
		unlink(o->output);
		log_die(EXIT_IOERR, "cannot write %s: %s", o->output, strerror(errno));
	}
}

static void
print_json(const struct code_opts *o, const struct qr_code *qr, const char *payload)
{
	cJSON *obj = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(obj, "payload", payload);
	cJSON_AddNumberToObject(obj, "version", qr->version);
	cJSON_AddNumberToObject(obj, "modules", qr->size);
	cJSON_AddStringToObject(obj, "ec", qr_ec_name(qr->ec));
	cJSON_AddStringToObject(obj, "mode", qr->mode);
	cJSON_AddStringToObject(obj, "type", code_types[o->type]);
	if (o->output != NULL)
		cJSON_AddStringToObject(obj, "output", o->output);
	else
		cJSON_AddNullToObject(obj, "output");
	s = json_print(obj);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(obj);
	if (fflush(stdout) != 0)
		log_die(EXIT_IOERR, "cannot write: %s", strerror(errno));
}

static long long
number_arg(const char *opt, const char *s, long long min, long long max)
{
	long long v;
	char *cause = NULL;

	if (opt_number(s, min, max, &v, &cause) != 0)
		log_die(EXIT_USAGE, "%s: %s", opt, cause);
	return v;
}

static void
parse_options(int argc, char **argv, struct code_opts *o)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "scale", required_argument, NULL, 's' },
		{ "margin", required_argument, NULL, 'm' },
		{ "level", required_argument, NULL, 'l' },
		{ "depth", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "color", required_argument, NULL, 'C' },
		{ "invert", no_argument, NULL, 'I' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char *cause = NULL;
	int c, ec;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:o:s:m:l:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((o->type = opt_choice(optarg, code_types, &cause)) < 0)
				log_die(EXIT_USAGE, "-t: %s", cause);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			o->scale = (int)number_arg("-s", optarg, 1, RENDER_MAX_SCALE);
			break;
		case 'm':
			o->margin = (int)number_arg("-m", optarg, 0, RENDER_MAX_MARGIN);
			break;
		case 'l':
			if ((ec = qr_ec_parse(optarg)) < 0)
				log_die(EXIT_USAGE, "-l: '%s' is not one of L, M, Q, H", optarg);
			o->ec = (enum qr_ec)ec;
			break;
		case 'D':
			o->depth = (int)number_arg("--depth", optarg, 1, 8);
			if (o->depth != 1 && o->depth != 8)
				log_die(EXIT_USAGE, "--depth: '%s' is not 1 or 8", optarg);
			break;
		case 'J':
			o->json = 1;
			break;
		case 'C':
			if ((o->colour = opt_choice(optarg, code_colours, &cause)) < 0)
				log_die(EXIT_USAGE, "--color: %s", cause);
			break;
		case 'I':
			o->invert = 1;
			break;
		default:
			getopt_std(c, argv, usage);
		}
	}
}

int
main(int argc, char **argv)
{
	struct code_opts o = { -1, NULL, 8, 4, 1, 0, QR_EC_M, C_AUTO, 0 };
	struct qr_code qr;
	char *payload, *cause = NULL;
	size_t len;

	log_init("rtcs-code", LOG_LEVEL_WARN);
	parse_options(argc, argv, &o);
	if (argc - optind > 1)
		log_die(EXIT_USAGE, "one payload only (see --help)");
	if (o.type < 0)
		o.type = default_type(o.output);
	if (o.json && o.output != NULL && strcmp(o.output, "-") == 0)
		log_die(EXIT_USAGE, "--json prints on standard output: write the code with -o FILE");
	if (o.output != NULL && strcmp(o.output, "-") == 0)
		o.output = NULL;
	if (!o.json && o.output == NULL && o.type == T_PNG && isatty(STDOUT_FILENO))
		log_die(EXIT_USAGE, "not writing a PNG to a terminal: use -o FILE or -t utf8");

	if (optind == argc || strcmp(argv[optind], "-") == 0)
		payload = read_payload_stdin(&len);
	else {
		payload = xstrdup(argv[optind]);
		len = strlen(payload);
	}
	if (qr_encode(payload, len, o.ec, &qr, &cause) != 0)
		die_cause(EXIT_DATAERR, cause);
	log_info("version %d, %d modules, level %s, %s mode", qr.version, qr.size,
	    qr_ec_name(qr.ec), qr.mode);

	if (o.output != NULL)
		render_to_file(&o, &qr, payload, len);
	else if (!o.json && render(&o, &qr, payload, len, stdout, &cause) != 0)
		die_cause(EXIT_IOERR, cause);
	if (o.json)
		print_json(&o, &qr, payload);
	qr_code_free(&qr);
	free(payload);
	return EXIT_OK;
}
