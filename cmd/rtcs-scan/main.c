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
#include "getopt_std.h"
#include "log.h"
#include "opt.h"
#include "scan.h"
#include "sibling.h"
#include "xmalloc.h"

/* What --submit hands on to "rtcs-transfer submit". */
struct scan_submit_opts {
	const char	*device, *keys, *socket, *session, *name, *timeout;
	int		 upload, wait, json;
};

struct scan_opts {
	enum qr_decode_symbols	 which;
	int			 json;
	int			 submit;
	int			 explain;
	struct scan_submit_opts	 sub;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rtcs-scan [-hqVv] [--symbols qr|all] [--json] [FILE...|-]\n"
	    "       rtcs-scan --submit --as DEVICE [--upload] [--wait] [-S SOCKET] [--keys DIR]\n"
	    "                 [--session ID] [--name NAME] [--timeout SECONDS] FILE...|-\n"
	    "       rtcs-scan --explain [--json] [-S SOCKET] [--keys DIR] FILE...|-\n"
	    "Prints the payload of every code found in the images (PNG, PGM, PPM);\n"
	    "with --submit, hands each rtcs code to rtcs-serve as DEVICE's image data;\n"
	    "with --explain, says what each would do and who issued it, submitting nothing.\n"
	    "      --symbols qr|all  QR codes only (default) or every symbology zbar knows\n"
	    "      --json            one JSON object a code: file, type, payload, position\n"
	    "      --submit          submit each rtcs code found to the server\n"
	    "      --explain         what each code would do, on which server, until when,\n"
	    "                        and whether its signature holds (exit 1 if suspicious)\n"
	    "      --as DEVICE       the device that submits (its key directory holds its token)\n"
	    "      --upload          send the PNG itself; the server decodes it\n"
	    "      --wait            block until the transfer ends; store the new token\n"
	    "  -S, --socket PATH     the server's socket\n"
	    "      --keys DIR        the device's key directory\n"
	    "      --session ID      the session, when the device is in several\n"
	    "      --name NAME       invite codes: the participant name (default: the device)\n"
	    "      --timeout SECONDS bound on --wait (exit 124)\n"
	    "  -q, --quiet           no message when an image holds no code\n"
	    "  -v, --verbose         say how many codes each image holds\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         print the version\n"
	    "Exit: 0 found, 1 none found (--explain: or suspicious), 64 usage, 65 bad image,\n"
	    "66 missing file, 74 I/O error, 77 a server's key changed.\n");
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
		log_die(EXIT_IOERR, "cannot write: %s", strerror(errno));
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
		{ "submit", no_argument, NULL, 'U' },
		{ "explain", no_argument, NULL, 'X' },
		{ "as", required_argument, NULL, 'A' },
		{ "upload", no_argument, NULL, 'P' },
		{ "wait", no_argument, NULL, 'W' },
		{ "socket", required_argument, NULL, 'S' },
		{ "keys", required_argument, NULL, 'K' },
		{ "session", required_argument, NULL, 'E' },
		{ "name", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	long long ms;
	char *cause;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvhVS:", longopts, NULL)) != -1) {
		switch (c) {
		case 'Y':
			if (strcmp(optarg, "qr") == 0)
				o->which = QR_DECODE_QR;
			else if (strcmp(optarg, "all") == 0)
				o->which = QR_DECODE_ALL;
			else
				log_die(EXIT_USAGE, "--symbols: '%s' is not one of: qr, all", optarg);
			break;
		case 'J':
			o->json = 1;
			o->sub.json = 1;
			break;
		case 'U':
			o->submit = 1;
			break;
		case 'X':
			o->explain = 1;
			break;
		case 'A':
			o->sub.device = optarg;
			break;
		case 'P':
			o->sub.upload = 1;
			break;
		case 'W':
			o->sub.wait = 1;
			break;
		case 'S':
			o->sub.socket = optarg;
			break;
		case 'K':
			o->sub.keys = optarg;
			break;
		case 'E':
			o->sub.session = optarg;
			break;
		case 'N':
			o->sub.name = optarg;
			break;
		case 'T':
			if (opt_seconds_ms(optarg, 1, 86400000, &ms, &cause) != 0)
				log_die(EXIT_USAGE, "--timeout: %s", cause);
			o->sub.timeout = optarg;
			break;
		default:
			getopt_std(c, argv, usage);
		}
	}
	if (o->submit && o->explain)
		log_die(EXIT_USAGE, "--submit and --explain do not go together: explain first");
	if (o->submit && o->sub.device == NULL)
		log_die(EXIT_USAGE, "--submit needs --as DEVICE (see --help)");
	if (o->explain && (o->sub.device || o->sub.upload || o->sub.wait || o->sub.session ||
	    o->sub.name || o->sub.timeout))
		log_die(EXIT_USAGE, "--explain takes --socket, --keys and --json only");
	if (!o->submit && !o->explain && (o->sub.device || o->sub.upload || o->sub.wait ||
	    o->sub.socket || o->sub.keys || o->sub.session || o->sub.name || o->sub.timeout))
		log_die(EXIT_USAGE, "--as, --upload, --wait, --socket, --keys, --session, --name and --timeout go with --submit");
}

/* Runs "rtcs-transfer submit" (or explain) for one payload; its exit code is ours. */
static int
submit_payload(const struct scan_opts *o, const char *payload, const void *png, size_t len)
{
	const struct scan_submit_opts *so = &o->sub;
	char *argv[32], *cause = NULL, *in;
	int n = 0, rc;

#define ARG(flag, v) do { if (v) { argv[n++] = (char *)(flag); argv[n++] = (char *)(v); } } while (0)
	argv[n++] = "rtcs-scan";	/* its messages then say rtcs-scan */
	argv[n++] = o->explain ? "explain" : "submit";
	ARG("--as", so->device);
	ARG("--socket", so->socket);
	ARG("--keys", so->keys);
	ARG("--session", so->session);
	ARG("--name", so->name);
	ARG("--timeout", so->timeout);
#undef ARG
	if (so->upload)
		argv[n++] = "--upload";
	if (so->wait)
		argv[n++] = "--wait";
	if (so->json)
		argv[n++] = "--json";
	if (log_get_level() < LOG_LEVEL_WARN)
		argv[n++] = "--quiet";
	else if (log_get_level() > LOG_LEVEL_WARN)
		argv[n++] = "--verbose";
	/* The payload holds a secret: on stdin (its line, then the PNG), never in argv. */
	argv[n++] = "--";
	argv[n++] = "-";
	argv[n] = NULL;
	in = xmalloc(strlen(payload) + 1 + len);
	memcpy(in, payload, strlen(payload));
	in[strlen(payload)] = '\n';
	if (len > 0)
		memcpy(in + strlen(payload) + 1, png, len);
	fflush(stdout);
	rc = sibling_run_as("rtcs-transfer", argv, in, strlen(payload) + 1 + len, &cause);
	free(in);
	if (rc < 0) {
		fprintf(stderr, "rtcs-scan: %s\n", cause);
		free(cause);
		return EXIT_SOFTWARE;
	}
	return rc;
}

/* Each code found goes to the server; the PNG bytes too with --upload. */
static int
submit_input(const struct scan_opts *o, const struct scan_input *in)
{
	int i, status = EXIT_OK;

	if (in->status != EXIT_OK)
		return in->status;
	if (o->sub.upload && (in->len < 8 || memcmp(in->data, "\x89PNG\r\n\x1a\n", 8) != 0)) {
		fprintf(stderr, "rtcs-scan: %s: --upload sends PNG images only\n", in->name);
		return EXIT_DATAERR;
	}
	for (i = 0; i < in->nsyms; i++) {
		char *payload = xstrndup(in->syms[i].data, in->syms[i].len);
		status = scan_worse(status, submit_payload(o, payload,
		    o->sub.upload ? in->data : NULL, o->sub.upload ? in->len : 0));
		free(payload);
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct scan_opts o;
	struct scan_input in;
	char *stdin_only[] = { "-" };
	char **files;
	int i, nfiles, status = EXIT_OK;

	memset(&o, 0, sizeof o);
	o.which = QR_DECODE_QR;
	log_init("rtcs-scan", LOG_LEVEL_WARN);
	parse_options(argc, argv, &o);
	files = argv + optind;
	nfiles = argc - optind;
	if (nfiles == 0) {
		if (isatty(STDIN_FILENO))
			log_die(EXIT_USAGE, "no input: name an image FILE or pipe one in (see --help)");
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
		if (o.submit || o.explain) {
			if (in.status != EXIT_OK)
				print_input(&o, &in);
			status = scan_worse(status, submit_input(&o, &in));
		} else {
			print_input(&o, &in);
			status = scan_worse(status, in.status);
		}
		scan_input_free(&in);
	}
	return status;
}
