# rtcs-code and rtcs-scan: link tweaks and fuzz targets (included by the Makefile).

# Whole-process speed (design.md 10). rtcs-code must start at least as fast
# as qrencode, which loads the same libqrencode and libpng: libpng and zlib
# linked statically spare it two shared-object look-ups at every start.
# rtcs-scan uses only zbar's image scanner, but the shared libzbar drags in
# X11, xcb, v4l, jpeg and dbus (with systemd, gcrypt, lzma, zstd, lz4): the
# static archive links just the scanner, and zbar_nodbus.c stands in for the
# dbus calls it never makes. 4.1 ms -> 2.7 ms a run (zbarimg: 11.5 ms).
CODE_STATIC_BEGIN = -Wl,-Bstatic
CODE_STATIC_END = -Wl,-Bdynamic
CODE_LIBDIR := $(shell $(CC) -print-multiarch 2>/dev/null)
CODE_LIBDIR := $(if $(CODE_LIBDIR),/usr/lib/$(CODE_LIBDIR),/usr/lib)
ifneq ($(wildcard $(CODE_LIBDIR)/libpng16.a),)
$(O)/bin/rtcs-code: PKG_LIBS := $(filter-out -lpng16 -lz,$(PKG_LIBS)) $(CODE_STATIC_BEGIN) -lpng16 -lz $(CODE_STATIC_END)
endif
ifneq ($(wildcard $(CODE_LIBDIR)/libzbar.a),)
CODE_NODBUS = $(O)/cmd/rtcs-scan/static/zbar_nodbus.o
$(O)/bin/rtcs-scan: $(CODE_NODBUS)
$(O)/bin/rtcs-scan: PKG_LIBS := $(CODE_NODBUS) $(patsubst -lzbar,$(CODE_STATIC_BEGIN) -lzbar $(CODE_STATIC_END),$(PKG_LIBS))
endif

# libFuzzer targets (clang), each run briefly: make fuzz FUZZ_TIME=60 for longer.
FUZZ_CC ?= clang
FUZZ_TIME ?= 10
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES = fuzz_payload fuzz_pnm fuzz_png_zbar fuzz_store_format fuzz_warp fuzz_json fuzz_gate fuzz_serve
FUZZ_BIN = $(FUZZ_NAMES:%=$(O)/fuzz/%)
FUZZ_COMMON = common/xmalloc.c common/log.c common/fsutil.c common/rand.c common/base32.c common/payload.c \
	common/payload_sign.c common/names.c \
	common/image.c common/image_png.c common/image_pnm.c common/qr_decode.c common/hash.c \
	common/store_format.c common/image_filter.c common/finder.c common/homography.c common/warp.c \
	common/json.c common/strmap.c

# The gate is rtcs-serve's: its file, and the server's headers.
$(O)/fuzz/fuzz_gate: FUZZ_EXTRA = -Icmd/rtcs-serve cmd/rtcs-serve/gate.c
$(O)/fuzz/fuzz_gate: cmd/rtcs-serve/gate.c cmd/rtcs-serve/gate.h
# The whole server but its main, and the rest of common/.
FUZZ_SERVE_SRC = $(filter-out cmd/rtcs-serve/main.c,$(wildcard cmd/rtcs-serve/*.c)) \
	$(filter-out $(FUZZ_COMMON),$(wildcard common/*.c))
$(O)/fuzz/fuzz_serve: FUZZ_EXTRA = -Icmd/rtcs-serve -I$(O)/gen $(FUZZ_SERVE_SRC) -lpthread
$(O)/fuzz/fuzz_serve: $(FUZZ_SERVE_SRC) $(wildcard cmd/rtcs-serve/*.h common/*.h) $(O)/gen/rtcs_build.h

$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_COMMON) | $(O)/config.mk deps-clang
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_EXTRA) $(FUZZ_COMMON) $(PKG_LIBS) -lm

# Seeds: a transfer payload, a PNG code, a PGM code; for fuzz_warp a code's
# pixels (2 px a module) behind its width and height bytes.
$(O)/fuzz/seeds: $(O)/bin/rtcs-code
	@mkdir -p $@/fuzz_payload $@/fuzz_pnm $@/fuzz_png_zbar $@/fuzz_store_format $@/fuzz_warp \
	    $@/fuzz_json $@/fuzz_gate $@/fuzz_serve
	@printf '{"device":"alice-tablet","payload":"RTCS:1:TA:B","n":[1,2.5,null,true],"u":"\\u00e9"}' \
	    > $@/fuzz_json/body
	@printf 'POST /v1/transfers HTTP/1.1\r\nHost: rtcs\r\nContent-Length: 2\r\n\r\n{}GET /v1/health HTTP/1.0\r\n\r\n' \
	    > $@/fuzz_gate/two
	@printf 'POST /v1/sessions HTTP/1.1\r\nHost: rtcs\r\nContent-Length: 86\r\n\r\n{"kind":"chat","participants":[{"name":"a","device":"a-1"},{"name":"b","device":"b-1"}]}' \
	    > $@/fuzz_serve/session
	@printf 'POST /v1/transfers HTTP/1.1\r\nHost: rtcs\r\nContent-Length: 19\r\n\r\n{"device":"tablet"}GET /v1/transfers HTTP/1.1\r\n\r\n' \
	    > $@/fuzz_serve/offer
	@printf 'GET /v1/events?since=0 HTTP/1.1\r\n\r\nGET /v1/sessions HTTP/1.1\r\n\r\n' > $@/fuzz_serve/reads
	@echo -n 'RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ' > $@/fuzz_payload/transfer
	@echo -n 'RTCS:1:I:IABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ' > $@/fuzz_payload/invite
	@echo -n 'RTCS:1:TVY3E54F7TT3LTMNT:PD6HDZBQXW6DGRM6WVSSLEQ77E:PUSH/CHAT/ALICE/ALICE-PHONE/VM/1796183142:O3XMHMIIJICKWCKWZ5Z57UGOLNX2QKU4A7YE2X3ZS54WHHWBLFFZZXP5QJTO5AKQPKKTK5KXTZRZHVKD2JVMI2ZOMJSM7CTPSM4VGAY' > $@/fuzz_payload/signed
	@$(O)/bin/rtcs-code -t png -s 1 -m 1 RTCS:1:TA > $@/fuzz_png_zbar/code.png
	@printf 'P5\n# c\n4 2\n255\n\0\377\0\377\377\0\377\0' > $@/fuzz_pnm/small.pgm
	@printf 'P6\n1 1\n65535\n\0\1\2\3\4\5' > $@/fuzz_pnm/rgb16.ppm
	@cp $@/fuzz_pnm/small.pgm $@/fuzz_png_zbar/
	@printf '{"id":"S1"}\nthen S1 1 {"seq":1}\nrtcs-doc 2 rev=1 log=0 crc=00000000\n' > $@/fuzz_store_format/doc
	@printf '12 0badc0de {"seq":12}' > $@/fuzz_store_format/record
	@$(O)/bin/rtcs-code -t ascii --invert -m 2 RTCS:1:TA | perl -e 'my @r; while (my $$s = <STDIN>) { \
	  chomp $$s; my $$l = join "", map { (substr($$s, 2 * $$_, 1) eq "#" ? "\0" : "\xff") x 2 } 0 .. length($$s) / 2 - 1; \
	  push @r, $$l, $$l } print chr(length($$r[0]) - 1), chr(@r - 1), @r' > $@/fuzz_warp/code

fuzz-build: $(FUZZ_BIN) $(O)/fuzz/seeds

fuzz: fuzz-build
	@set -e; for f in $(FUZZ_NAMES); do \
	  mkdir -p $(O)/fuzz/corpus/$$f; \
	  echo "fuzz: $$f for $(FUZZ_TIME)s"; \
	  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp \
	  $(O)/fuzz/$$f -max_total_time=$(FUZZ_TIME) -max_len=65536 -rss_limit_mb=2048 \
	    $(O)/fuzz/corpus/$$f $(O)/fuzz/seeds/$$f > $(O)/fuzz/$$f.log 2>&1 || \
	    { tail -n 40 $(O)/fuzz/$$f.log; echo "fuzz: $$f FAILED (log: $(O)/fuzz/$$f.log)"; exit 1; }; \
	  tail -n 1 $(O)/fuzz/$$f.log; \
	done

# The whole server behind evhttp (tests/fuzz/fuzz_serve.c): make fuzz-serve FUZZ_TIME=300.
fuzz-serve: $(O)/fuzz/fuzz_serve $(O)/fuzz/seeds
	@mkdir -p $(O)/fuzz/corpus/fuzz_serve
	ASAN_OPTIONS=detect_leaks=0 $(O)/fuzz/fuzz_serve -max_total_time=$(FUZZ_TIME) -max_len=65536 \
	  -rss_limit_mb=2048 $(O)/fuzz/corpus/fuzz_serve $(O)/fuzz/seeds/fuzz_serve

.PHONY: fuzz fuzz-build fuzz-serve
