/* rtcs-scan: reads images (PNG, PGM, PPM; files or stdin), prints the codes' payloads. */
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
#include "log.h"
#include "scan.h"
#include "xmalloc.h"

struct scan_opts {
	enum qr_decode_symbols	 which;
	int			 json;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rtcs-scan [-hqVv] [--symbols qr|all] [--json] [FILE...|-]\n"
	    "Prints the payload of every code found in the images (PNG, PGM, PPM).\n"
	    "      --symbols qr|all  QR codes only (default) or every symbology zbar knows\n"
	    "      --json            one JSON object a code: file, type, payload, position\n"
	    "  -q, --quiet           no message when an image holds no code\n"
	    "  -v, --verbose         say how many codes each image holds\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         print the version\n"
	    "Exit: 0 found, 1 none found, 64 usage, 65 bad image, 66 missing file, 74 I/O error.\n");
}

static __attribute__((noreturn, format(printf, 2, 3))) void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rtcs-scan: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned int c;

	while (i < len) {
		c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		for (k = 1; k <= n; k++)
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
		/* Overlong three- and four-byte forms, surrogates, past U+10FFFF. */
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* A payload that is not clean UTF-8 goes out as "payload": null plus "payload_hex". */
static void
print_json(const struct scan_input *in, const struct qr_symbol *s)
{
	cJSON *obj = cJSON_CreateObject(), *pts, *pt;
	char *hex, *line;
	size_t i;
	int k;

	cJSON_AddStringToObject(obj, "file", in->name);
	cJSON_AddStringToObject(obj, "type", s->type);
	if (utf8_valid((const unsigned char *)s->data, s->len))
		cJSON_AddStringToObject(obj, "payload", s->data);
	else {
		cJSON_AddNullToObject(obj, "payload");
		hex = xmalloc(2 * s->len + 1);
		for (i = 0; i < s->len; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s->data[i]);
		hex[2 * s->len] = '\0';
		cJSON_AddStringToObject(obj, "payload_hex", hex);
		free(hex);
	}
	cJSON_AddNumberToObject(obj, "x", s->x);
	cJSON_AddNumberToObject(obj, "y", s->y);
	cJSON_AddNumberToObject(obj, "width", s->w);
	cJSON_AddNumberToObject(obj, "height", s->h);
	pts = cJSON_AddArrayToObject(obj, "points");
	for (k = 0; k < s->npoints; k++) {
		pt = cJSON_CreateArray();
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(s->px[k]));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(s->py[k]));
		cJSON_AddItemToArray(pts, pt);
	}
	line = json_print(obj);
	printf("%s\n", line);
	free(line);
	cJSON_Delete(obj);
}

static void
print_input(const struct scan_opts *o, const struct scan_input *in)
{
	int i;

	for (i = 0; i < in->nsyms; i++) {
		if (o->json)
			print_json(in, &in->syms[i]);
		else {
			fwrite(in->syms[i].data, 1, in->syms[i].len, stdout);
			putchar('\n');
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_IOERR, "cannot write: %s", strerror(errno));
	if (in->status == EXIT_NO)
		log_warnx("%s", in->cause);
	else if (in->status != EXIT_OK)
		fprintf(stderr, "rtcs-scan: %s\n", in->cause);
	else
		log_info("%s: %d code%s", in->name, in->nsyms, in->nsyms == 1 ? "" : "s");
}

static void
parse_options(int argc, char **argv, struct scan_opts *o)
{
	static const struct option longopts[] = {
		{ "symbols", required_argument, NULL, 'Y' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'Y':
			if (strcmp(optarg, "qr") == 0)
				o->which = QR_DECODE_QR;
			else if (strcmp(optarg, "all") == 0)
				o->which = QR_DECODE_ALL;
			else
				die(EXIT_USAGE, "--symbols: '%s' is not one of: qr, all", optarg);
			break;
		case 'J':
			o->json = 1;
			break;
		case 'q':
			log_set_level(LOG_LEVEL_QUIET);
			break;
		case 'v':
			log_set_level(log_get_level() + 1);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("rtcs-scan %s\n", RTCS_VERSION);
			exit(EXIT_OK);
		case ':':
			die(EXIT_USAGE, "option %s needs an argument (see --help)", argv[optind - 1]);
		default:
			if (optopt != 0)
				die(EXIT_USAGE, "unknown option -%c (see --help)", optopt);
			die(EXIT_USAGE, "unknown option %s (see --help)", argv[optind - 1]);
		}
	}
}

int
main(int argc, char **argv)
{
	struct scan_opts o = { QR_DECODE_QR, 0 };
	struct scan_input in;
	char *stdin_only[] = { "-" };
	char **files;
	int i, nfiles, status = EXIT_OK;

	log_init("rtcs-scan", LOG_LEVEL_WARN);
	parse_options(argc, argv, &o);
	files = argv + optind;
	nfiles = argc - optind;
	if (nfiles == 0) {
		if (isatty(STDIN_FILENO))
			die(EXIT_USAGE, "no input: name an image FILE or pipe one in (see --help)");
		files = stdin_only;
		nfiles = 1;
	}
	/*
	 * Each input is decoded, reported and freed before the next, so the
	 * output streams. A --submit mode (submit.c) hooks in here, after
	 * print_input, with the same struct scan_input (payloads and raw bytes).
	 */
	for (i = 0; i < nfiles; i++) {
		scan_decode(files[i], o.which, &in);
		print_input(&o, &in);
		status = scan_worse(status, in.status);
		scan_input_free(&in);
	}
	return status;
}
