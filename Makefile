# rtcs: one non-recursive GNU make for the whole toolkit.
#
# Targets: all check demo bench sanitize fuzz install uninstall clean.
# Output goes to $(O) (default build/); binaries to $(O)/bin.
# The first build writes $(O)/config.mk (tools/configure.sh): it installs
# missing Debian packages when run as root, else prints the apt line and stops.
# Packages come in tiers, each installed by the goals that need it:
# tools/packages (make, make demo), tools/packages-check (make check),
# tools/packages-clang (make fuzz, make sanitize), tools/packages-bench (make bench).

# The first rule below is $(O)/config.mk; a bare "make" means "make all".
.DEFAULT_GOAL := all

O        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
VERSION   = 0.1.0

PROGRAMS  = $(sort $(notdir $(wildcard cmd/rtcs-*)))

CC       ?= cc
WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes
ifdef CI
WARN     += -Werror
endif
OPT      ?= -O2 -g
SAN      ?=
CPPFLAGS += -D_GNU_SOURCE -DRTCS_VERSION='"$(VERSION)"' -Icommon
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) -Wl,--as-needed $(LDFLAGS)

NOCONFIG_GOALS = clean uninstall deps
ifneq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(O)/config.mk
endif

$(O)/config.mk: tools/configure.sh tools/packages
	@mkdir -p $(O)
	@sh tools/configure.sh --log $(O)/apt.log > $@.tmp && mv $@.tmp $@

deps:
	@sh tools/configure.sh --log $(O)/apt.log > /dev/null
# The other tiers (apt-get's output in $(O)/apt.log, one line a step on the terminal).
deps-check deps-clang deps-bench:
	@sh tools/configure.sh --log $(O)/apt.log --install $(@:deps-%=%)

COMMON_SRC = $(sort $(wildcard common/*.c))
COMMON_OBJ = $(COMMON_SRC:%.c=$(O)/%.o)
LIBCOMMON  = $(O)/libcommon.a

all: $(PROGRAMS:%=$(O)/bin/%)

$(O)/%.o: %.c | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Each program is every .c under cmd/<program>/ linked with libcommon.
define program_rule
$(1)_OBJ = $$(patsubst %.c,$(O)/%.o,$$(sort $$(wildcard cmd/$(1)/*.c)))
$(O)/bin/$(1): $$($(1)_OBJ) $(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIBCOMMON) $$(PKG_LIBS) -lm
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# C unit tests: tests/unit/test_<name>.c, each its own binary.
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/unit/%)
$(O)/unit/%: tests/unit/%.c $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(PKG_LIBS) -lm

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "unit: $$t"; $$t; done

BATS_JOBS ?= 1
check: all unit deps-check
	RTCS_BIN=$(abspath $(O)/bin) RTCS_TOP=$(CURDIR) RTCS_O=$(O) PATH=$(abspath $(O)/bin):$$PATH \
	  bats $(BATS_FLAGS) tests/

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps-clang
	$(MAKE) O=build/san OPT='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 check

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(PROGRAMS:%=$(O)/bin/%) $(DESTDIR)$(BINDIR)/
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/ || true; done
	for m in man/*.5; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/ || true; done
	for m in man/*.7; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man7/ || true; done
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for p in $(PROGRAMS); do \
	  [ -e completions/bash/$$p ] && install -m 0644 completions/bash/$$p $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; \
	  [ -e completions/zsh/_$$p ] && install -m 0644 completions/zsh/_$$p $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p; \
	  [ -e completions/fish/$$p.fish ] && install -m 0644 completions/fish/$$p.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish; \
	done; true

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%)
	for p in $(PROGRAMS); do \
	  rm -f $(DESTDIR)$(MANDIR)/man1/$$p.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man5/rtcs-store.5 $(DESTDIR)$(MANDIR)/man7/rtcs-api.7

clean:
	rm -rf build

# Further targets (demo, bench, fuzz) live in mk/*.mk, one file per area.
-include $(sort $(wildcard mk/*.mk))
-include $(COMMON_OBJ:.o=.d) $(foreach p,$(PROGRAMS),$($(p)_OBJ:.o=.d))

.PHONY: all check unit sanitize install uninstall clean deps deps-check deps-clang deps-bench
.DELETE_ON_ERROR:
